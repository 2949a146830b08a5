// Canned replies in the message box: typing "/" lists the team's saved replies, filtered
// as the agent goes on typing; arrows move, Enter or Tab inserts, Escape closes, and the
// mouse works too. The box is an ARIA combobox, the list its listbox (the option in
// focus is its aria-activedescendant; the focus itself stays in the box).

import { filterReplies, insertReply, slashQuery } from "../data/canned.js";
import { t } from "../i18n.js";

export class Suggestions {
  #shown = []; // the replies listed
  #active = -1; // the one in focus
  #slash = null; // the "/word" they replace

  /** `library`: the CannedReplies; `onOpen()`: the list opens (time to fetch it again). */
  constructor({ text, list, library, onOpen }) {
    this.text = text;
    this.list = list;
    this.library = library;
    this.onOpen = onOpen;
    text.setAttribute("role", "combobox");
    text.setAttribute("aria-autocomplete", "list");
    text.setAttribute("aria-controls", list.id);
    text.setAttribute("aria-expanded", "false");
    text.addEventListener("input", () => this.update());
    text.addEventListener("click", () => this.update());
    text.addEventListener("blur", () => this.close());
    // A click on an option must not take the focus from the box first.
    list.addEventListener("mousedown", (event) => event.preventDefault());
  }

  get isOpen() {
    return !this.list.hidden;
  }

  /** What was typed changed (or the library did): list what fits, or close. */
  update() {
    const slash = slashQuery(this.text.value, this.text.selectionEnd);
    if (!slash) return this.close();
    const wasOpen = this.isOpen;
    this.#slash = slash;
    this.#shown = filterReplies(this.library.all(), slash.query);
    this.#active = this.#shown.length ? 0 : -1;
    this.#render();
    if (!wasOpen) this.onOpen();
  }

  close() {
    this.#slash = null;
    this.#shown = [];
    this.#active = -1;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.text.setAttribute("aria-expanded", "false");
    this.text.removeAttribute("aria-activedescendant");
  }

  /** The box's keydown, before anything else: true when it was the list's key. */
  onKeyDown(event) {
    if (!this.isOpen || event.isComposing) return false;
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves && this.#shown.length) {
      const count = this.#shown.length;
      this.#active = (this.#active + moves[event.key] + count) % count;
      this.#render();
    } else if ((event.key === "Enter" || event.key === "Tab") && this.#active >= 0 && !event.shiftKey) {
      this.#choose(this.#shown[this.#active]);
    } else if (event.key === "Escape") {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  #choose(reply) {
    const { text, caret } = insertReply(this.text.value, this.#slash, this.text.selectionEnd, reply);
    this.text.value = text;
    this.text.setSelectionRange(caret, caret);
    this.close();
    this.text.dispatchEvent(new Event("input", { bubbles: true })); // drafts, typing signals
  }

  #render() {
    const options = this.#shown.map((reply, index) => this.#option(reply, index));
    if (!options.length) {
      const none = document.createElement("li");
      none.className = "sin-sugerencias";
      none.textContent = t("canned.none", { query: this.#slash.query });
      options.push(none);
    }
    this.list.replaceChildren(...options);
    this.list.hidden = false;
    this.text.setAttribute("aria-expanded", "true");
    const active = this.#active >= 0 ? options[this.#active] : null;
    if (active) {
      this.text.setAttribute("aria-activedescendant", active.id);
      active.scrollIntoView({ block: "nearest" });
    } else {
      this.text.removeAttribute("aria-activedescendant");
    }
  }

  #option(reply, index) {
    const li = document.createElement("li");
    li.id = `${this.list.id}-${index}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(index === this.#active));
    const shortcut = document.createElement("span");
    shortcut.className = "atajo";
    shortcut.textContent = `/${reply.atajo}`;
    const text = document.createElement("span");
    text.className = "texto-respuesta";
    text.textContent = reply.texto; // always text, never HTML
    li.append(shortcut, " ", text);
    li.addEventListener("click", () => this.#choose(reply));
    return li;
  }
}
