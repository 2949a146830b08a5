// A customer's data, from the open conversation: export it (a JSON download) or erase the
// customer. Erasing cannot be undone, so it takes a confirmation step: a dialog that says
// what goes, and a button that only works once the agent has typed the customer's
// username (a misclick never erases anybody).

import { exportPath } from "../api.js";
import { t } from "../i18n.js";

export class PrivacyTools {
  #target = null; // the customer the dialog was opened for

  /** `onErase(usuario)` resolves once erased (throws with the server's error). */
  constructor({ store, elements, onErase }) {
    this.store = store;
    this.el = elements; // {exportLink, erase, dialog, form, title, explanation, label, input, error, confirm, cancel}
    const el = elements;
    el.erase.addEventListener("click", () => this.#ask());
    el.input.addEventListener("input", () => {
      el.confirm.disabled = el.input.value.trim() !== this.#target;
    });
    el.cancel.addEventListener("click", () => el.dialog.close());
    el.dialog.addEventListener("close", () => {
      this.#target = null;
    });
    el.form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const usuario = this.#target;
      if (!usuario || el.input.value.trim() !== usuario) return;
      el.confirm.disabled = true;
      el.error.textContent = "";
      try {
        await onErase(usuario);
      } catch (err) {
        el.error.textContent = t("erase.failed", { error: err.message });
        el.confirm.disabled = false;
        return;
      }
      el.dialog.close();
    });
  }

  /** The open conversation changed: the export link points at its customer. */
  show() {
    const conv = this.store.open;
    if (conv) this.el.exportLink.href = exportPath(conv.usuario);
    else this.el.exportLink.removeAttribute("href");
  }

  #ask() {
    const conv = this.store.open;
    if (!conv) return;
    const el = this.el;
    this.#target = conv.usuario;
    el.title.textContent = t("erase.title", { name: conv.nombre });
    el.explanation.textContent = t("erase.explanation");
    el.label.textContent = t("erase.type", { usuario: conv.usuario });
    el.input.value = "";
    el.error.textContent = "";
    el.confirm.disabled = true;
    el.dialog.showModal();
    el.input.focus();
  }
}
