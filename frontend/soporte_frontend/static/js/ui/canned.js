// The team's saved replies, managed in a dialog: each with Edit and Delete, and a form
// that creates one or saves the one being edited.

import { t } from "../i18n.js";

export class CannedDialog {
  #editing = null; // the reply being edited, or null: the form creates one

  /** `library`: the CannedReplies; `onOpen()`: the dialog opens (fetch the library);
   * `onSave(id|null, {atajo, texto})` resolves once saved (throws with the server's
   * error); `onDelete(id)` resolves once deleted. */
  constructor({ elements, library, onOpen, onSave, onDelete }) {
    this.el = elements; // {opener, dialog, close, list, empty, form, heading, shortcut, text, error, cancel}
    this.library = library;
    this.onDelete = onDelete;
    const el = elements;
    el.opener.hidden = false;
    el.opener.addEventListener("click", () => {
      this.#edit(null);
      this.render();
      el.dialog.showModal();
      onOpen();
    });
    el.close.addEventListener("click", () => el.dialog.close());
    el.cancel.addEventListener("click", () => this.#edit(null));
    el.form.addEventListener("submit", async (event) => {
      event.preventDefault();
      el.error.textContent = "";
      const reply = { atajo: el.shortcut.value.trim().replace(/^\//, ""), texto: el.text.value };
      try {
        await onSave(this.#editing?.id ?? null, reply);
      } catch (err) {
        el.error.textContent = t("canned.failed", { error: err.message });
        return;
      }
      this.#edit(null);
      el.shortcut.focus();
    });
  }

  /** The library changed (or the language): the list again. */
  render() {
    const replies = this.library.all();
    this.el.list.replaceChildren(...replies.map((reply) => this.#row(reply)));
    this.el.empty.hidden = replies.length > 0;
    this.el.heading.textContent = this.#editing ? t("canned.editing", { atajo: this.#editing.atajo }) : t("canned.new");
  }

  #edit(reply) {
    this.#editing = reply;
    this.el.shortcut.value = reply?.atajo ?? "";
    this.el.text.value = reply?.texto ?? "";
    this.el.error.textContent = "";
    this.el.cancel.hidden = !reply;
    this.render();
  }

  #row(reply) {
    const li = document.createElement("li");
    li.dataset.id = reply.id;
    const shortcut = document.createElement("span");
    shortcut.className = "atajo";
    shortcut.textContent = `/${reply.atajo}`;
    const text = document.createElement("p");
    text.className = "texto-respuesta";
    text.dir = "auto";
    text.textContent = reply.texto; // always text, never HTML
    const edit = this.#button(t("canned.edit"), t("canned.edit.label", { atajo: reply.atajo }), () => {
      this.#edit(reply);
      this.el.text.focus();
    });
    const remove = this.#button(t("canned.delete"), t("canned.delete.label", { atajo: reply.atajo }), async () => {
      await this.onDelete(reply.id);
      this.el.shortcut.focus(); // its button is gone: the focus goes to the form
    });
    li.append(shortcut, text, edit, remove);
    return li;
  }

  #button(text, label, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "enlace";
    button.textContent = text;
    button.setAttribute("aria-label", label);
    button.addEventListener("click", onClick);
    return button;
  }
}
