// The line over the message box that says who is typing in the open conversation: to a
// customer, the support team; to an agent, the customer, and (a warning) any colleague
// about to answer the same customer. Screen readers hear it once when someone starts, not
// at every signal: the line itself is not a live region.

import { t } from "../i18n.js";

export class TypingLine {
  #announced = new Set(); // conversations whose typing was announced and has not ended

  /** `typing`: data/typing.js; `nameOf(usuario)`: an agent's display name; `announce(text)`:
   * the page's polite live region. */
  constructor({ element, store, typing, me, agent, nameOf, announce }) {
    this.el = element;
    this.store = store;
    this.typing = typing;
    this.me = me;
    this.agent = agent;
    this.nameOf = nameOf;
    this.announce = announce;
  }

  /** Who types in the conversation `key` changed. */
  update(key) {
    if (!this.typing.who(key).length) this.#announced.delete(key);
    if (key === this.store.openKey) this.show();
  }

  /** Draws the line for the open conversation (opened, or the language changed). */
  show() {
    const conv = this.store.open;
    const lines = conv ? this.#lines(conv) : [];
    this.el.hidden = !lines.length;
    this.el.classList.toggle("colision", lines.some((line) => line.warning));
    this.el.replaceChildren(
      ...lines.map(({ text, warning }) => {
        const span = document.createElement("span");
        span.className = warning ? "aviso-colision" : "quien-escribe";
        span.textContent = text;
        return span;
      }),
    );
    if (lines.length && !this.#announced.has(conv.usuario)) {
      this.#announced.add(conv.usuario);
      this.announce(lines.map((line) => line.text).join(" "));
    }
  }

  #lines(conv) {
    const who = this.typing.who(conv.usuario).filter((de) => de !== this.me);
    if (!who.length) return [];
    if (!this.agent) return [{ text: t("typing.support"), warning: false }];
    const lines = [];
    if (who.includes(conv.usuario)) lines.push({ text: t("typing.customer", { name: conv.nombre }), warning: false });
    const colleagues = who.filter((de) => de !== conv.usuario).map((de) => this.nameOf(de));
    if (colleagues.length) {
      const key = colleagues.length === 1 ? "typing.colleague" : "typing.colleagues";
      lines.push({ text: t(key, { name: colleagues.join(", ") }), warning: true });
    }
    return lines;
  }
}
