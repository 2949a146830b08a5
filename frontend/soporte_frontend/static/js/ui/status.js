// What the page says about itself: the connection banner, the connection state as
// body[data-conexion] (tests and styles read it), and the announcements screen readers
// speak.

const BANNER_GOOD_NEWS_MS = 3000;
const ANNOUNCEMENTS_KEPT = 5;

/** body[data-conexion]: connecting; connected and caught up with the history; lost. */
export const CONNECTION = Object.freeze({ CONNECTING: "conectando", IN_SYNC: "al-dia", LOST: "perdida" });

export class StatusView {
  #timer = null;

  constructor({ banner, announcer }) {
    this.banner = banner;
    this.announcer = announcer;
  }

  /** The banner's text ("" hides it); good news hides by itself. */
  show(text, { autoHide = false } = {}) {
    clearTimeout(this.#timer);
    this.banner.textContent = text;
    this.banner.hidden = !text;
    this.banner.classList.toggle("bien", autoHide);
    if (autoHide) this.#timer = setTimeout(() => (this.banner.hidden = true), BANNER_GOOD_NEWS_MS);
  }

  connection(state) {
    document.body.dataset.conexion = state;
  }

  announce(text) {
    const p = document.createElement("p");
    p.textContent = text;
    this.announcer.append(p);
    while (this.announcer.childElementCount > ANNOUNCEMENTS_KEPT) this.announcer.firstElementChild.remove();
  }
}
