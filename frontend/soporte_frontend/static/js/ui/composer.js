// The message box: Enter sends, Shift+Enter breaks the line (and Enter while an input
// method is composing belongs to the input method).

export class Composer {
  constructor({ form, text, onSend }) {
    this.text = text;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      onSend();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        onSend();
      }
    });
  }

  get value() {
    return this.text.value;
  }

  set value(text) {
    this.text.value = text;
  }

  focus() {
    this.text.focus();
  }
}
