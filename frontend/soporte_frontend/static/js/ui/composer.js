// The message box: Enter sends, Shift+Enter breaks the line (and Enter while an input
// method is composing belongs to the input method). An agent also chooses what the box
// writes (a reply to the customer, or an internal note for the team) and gets the saved
// replies after "/" (`suggestions`).

import { ENTRY_TYPES } from "../contract.js";
import { t } from "../i18n.js";

export class Composer {
  #tipo = ENTRY_TYPES.MESSAGE;

  /** `mode`: {group, reply, note} (agents; null for customers); `onModeChange()`: the
   * person switched between reply and note; `onTyping()`: the person is writing a message
   * (not a note: the customer must not see the team typing one). */
  constructor({
    form,
    text,
    label,
    submit,
    onSend,
    mode = null,
    suggestions = null,
    onModeChange = () => {},
    onTyping = () => {},
  }) {
    this.form = form;
    this.text = text;
    this.label = label;
    this.submit = submit;
    this.mode = mode;
    this.suggestions = suggestions;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      onSend();
    });
    text.addEventListener("keydown", (event) => {
      if (this.suggestions?.onKeyDown(event)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        onSend();
      }
    });
    text.addEventListener("input", () => {
      if (this.#tipo === ENTRY_TYPES.MESSAGE && text.value.trim()) onTyping();
    });
    if (mode) {
      mode.group.hidden = false;
      mode.reply.addEventListener("click", () => this.#switch(ENTRY_TYPES.MESSAGE, onModeChange));
      mode.note.addEventListener("click", () => this.#switch(ENTRY_TYPES.NOTE, onModeChange));
    }
  }

  /** What the box writes: a message (ENTRY_TYPES.MESSAGE) or a note (ENTRY_TYPES.NOTE). */
  get tipo() {
    return this.#tipo;
  }

  set tipo(tipo) {
    this.#tipo = tipo;
    this.render();
  }

  /** The labels of the current mode (and again when the language changes). */
  render() {
    const note = this.#tipo === ENTRY_TYPES.NOTE;
    this.form.classList.toggle("modo-nota", note);
    if (this.mode) {
      this.mode.reply.setAttribute("aria-pressed", String(!note));
      this.mode.note.setAttribute("aria-pressed", String(note));
    }
    this.label.textContent = t(note ? "composer.note.label" : "composer.label");
    this.text.placeholder = t(note ? "composer.note.placeholder" : "composer.placeholder");
    this.submit.textContent = t(note ? "composer.save" : "composer.send");
  }

  get value() {
    return this.text.value;
  }

  set value(text) {
    this.text.value = text;
    this.suggestions?.close();
  }

  focus() {
    this.text.focus();
  }

  #switch(tipo, onModeChange) {
    this.tipo = tipo;
    onModeChange();
    this.focus();
  }
}
