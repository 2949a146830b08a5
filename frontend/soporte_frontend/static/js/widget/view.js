// The widget's views: the thread (one node per message, by id, always text), the message
// box, the connection line and the notice. They offer what the shared modules (sync.js,
// actions.js) call on a page's `ui`, so the widget runs the soporte page's data, history
// and sending code as it is.

import { compareIds } from "../data/ids.js";
import { FAILED } from "../data/pending.js";
import { formatTime } from "../i18n.js";
import { CONNECTION } from "../ui/status.js";
import { t } from "./strings.js";

const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 40;

export class WidgetThread {
  #nodes = new Map(); // entry id or pending cid → li

  /** `isOpen()`: whether the panel is shown; `onRetry(pending)`, `onNeedOlder()`. */
  constructor({ list, empty, isOpen, me, onRetry, onNeedOlder }) {
    this.list = list;
    this.empty = empty;
    this.isOpen = isOpen;
    this.me = me;
    this.onRetry = onRetry;
    list.addEventListener("scroll", () => {
      if (list.scrollTop < NEAR_TOP_PX) onNeedOlder();
    });
  }

  /** Whether what arrives is being seen: the panel is open and the page is shown. */
  inView() {
    return this.isOpen() && !document.hidden;
  }

  /** Everything again (a new visitor, a new language). */
  show({ conv = null, pending = [] } = {}) {
    this.list.replaceChildren();
    this.#nodes.clear();
    if (conv) this.added(conv, conv.entries);
    for (const waiting of pending) this.pendingAdded(conv, waiting);
    this.#updateEmpty();
    this.#toBottom();
  }

  added(_conv, entries, { older = false } = {}) {
    if (!entries.length) return;
    const fromBottom = this.list.scrollHeight - this.list.scrollTop;
    const atBottom = fromBottom - this.list.clientHeight < NEAR_BOTTOM_PX;
    for (const entry of entries) {
      const li = this.#message(entry);
      li.dataset.id = entry.id;
      this.#nodes.set(entry.id, li);
      this.list.insertBefore(li, this.#placeOf(entry.id));
    }
    this.#updateEmpty();
    if (older) this.list.scrollTop = this.list.scrollHeight - fromBottom;
    else if (atBottom) this.#toBottom();
  }

  pendingAdded(_conv, pending) {
    const li = this.#message(pending, pending);
    this.#nodes.set(pending.cid, li);
    this.list.append(li);
    this.#updateEmpty();
    this.#toBottom();
  }

  pendingChanged(_conv, pending) {
    const old = this.#nodes.get(pending.cid);
    if (!old) return;
    const li = this.#message(pending, pending);
    this.#nodes.set(pending.cid, li);
    old.replaceWith(li);
  }

  pendingSettled(_conv, cid) {
    this.#nodes.get(cid)?.remove();
    this.#nodes.delete(cid);
  }

  loadingOlderChanged(conv) {
    this.list.setAttribute("aria-busy", String(conv.loadingOlder));
  }

  authorOf(entry) {
    return entry.de === this.me ? t("message.you") : t("thread.support");
  }

  /** The first confirmed message after `id` (pending sends stay last). */
  #placeOf(id) {
    for (const li of this.list.children) {
      if (!li.dataset.id || compareIds(li.dataset.id, id) > 0) return li;
    }
    return null;
  }

  #message(entry, pending = null) {
    const li = document.createElement("li");
    li.className = `mensaje ${entry.de === this.me ? "propio" : "equipo"}`;
    const author = document.createElement("span");
    author.className = "autor";
    author.textContent = this.authorOf(entry);
    const text = document.createElement("p");
    text.className = "texto";
    text.textContent = entry.mensaje; // always text, never markup
    const time = document.createElement("span");
    time.className = "hora";
    time.textContent = formatTime(entry.fecha);
    li.append(author, text, time);
    if (pending) {
      li.classList.add("pendiente");
      const state = document.createElement("span");
      state.className = "envio";
      const failed = pending.estado === FAILED;
      state.textContent = failed ? t("message.failed", { error: pending.error }) : t("message.sending");
      li.append(state);
      if (failed) {
        const retry = document.createElement("button");
        retry.type = "button";
        retry.textContent = t("message.retry");
        retry.addEventListener("click", () => this.onRetry(pending));
        li.append(retry);
      }
    }
    return li;
  }

  #updateEmpty() {
    this.empty.hidden = this.list.childElementCount > 0;
  }

  #toBottom() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}

/** The message box: Enter sends, Shift+Enter starts a new line. */
export class WidgetComposer {
  constructor({ form, text, submit, onSend }) {
    this.text = text;
    this.submit = submit;
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

  set enabled(on) {
    this.text.disabled = !on;
    this.submit.disabled = !on;
  }

  focus() {
    this.text.focus({ preventScroll: true });
  }
}

/** The connection line (body[data-conexion] says the state), and a lasting notice. */
export class WidgetStatus {
  constructor({ line, notice }) {
    this.line = line;
    this.notice = notice;
  }

  show(text) {
    this.line.textContent = text;
    this.line.hidden = !text;
  }

  connection(state) {
    document.body.dataset.conexion = state;
    if (state === CONNECTION.IN_SYNC) this.show("");
  }

  announce() {
    // The thread is a live region of its own (role=log): nothing more to say.
  }

  warn(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }
}
