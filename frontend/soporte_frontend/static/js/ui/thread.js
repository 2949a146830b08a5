// The open conversation: its title, its entries in id order, the sends still waiting
// (after the entries), the hints (nothing yet; loading older entries), and "Seen" under
// the last message of this side the other side has read. Each change
// touches only its own nodes, and the scroll position is kept: pinned to the bottom when
// the reader was there, the reader's place when older entries load above.
// Text is always set as text (textContent), never parsed as HTML.

import { ENTRY_TYPES } from "../contract.js";
import { compareIds } from "../data/ids.js";
import { FAILED } from "../data/pending.js";
import { formatTime, t } from "../i18n.js";
import { describeChange } from "./changes.js";

const PINNED_WITHIN_PX = 60; // this close to the bottom counts as reading the newest
const LOAD_OLDER_WITHIN_PX = 80; // this close to the top asks for the older page
const FLASH_MS = 2500; // how long an entry opened from a search result stays marked

export class ThreadView {
  #nodes = new Map(); // entry id → its <li>
  #pendingNodes = new Map(); // cid → its <li>
  #hints = { older: null, empty: null };
  #seenMark = null; // "Seen", under one message

  /** `onRetry(conv, pending)`: the person asks to send a failed entry again;
   * `onNeedOlder()`: the reader reached the top, or the thread does not fill the screen;
   * `nameOf(usuario)`: an agent's display name; `seenOf(conv)`: the id of the message that
   * shows "Seen", or null. */
  constructor({
    store,
    pending,
    me,
    agent,
    elements,
    onRetry,
    onNeedOlder,
    nameOf = (usuario) => usuario,
    seenOf = () => null,
  }) {
    this.store = store;
    this.pending = pending;
    this.me = me;
    this.agent = agent;
    this.el = elements; // {thread, title, none, form}
    this.onRetry = onRetry;
    this.onNeedOlder = onNeedOlder;
    this.nameOf = nameOf;
    this.seenOf = seenOf;
    // One renderer per entry type. Notes, status changes and assignments are the team's:
    // a customer's page has no way to show them.
    this.renderers = { [ENTRY_TYPES.MESSAGE]: (conv, entry) => this.#messageNode(conv, entry) };
    if (agent) {
      this.renderers[ENTRY_TYPES.NOTE] = (conv, entry) => this.#noteNode(conv, entry);
      this.renderers[ENTRY_TYPES.STATUS] = (conv, entry) => this.#changeNode(entry);
      this.renderers[ENTRY_TYPES.ASSIGNMENT] = (conv, entry) => this.#changeNode(entry);
    }
    this.el.thread.addEventListener("scroll", () => {
      if (this.el.thread.scrollTop < LOAD_OLDER_WITHIN_PX) this.onNeedOlder();
    });
  }

  /** Whether the reader sees `conv` now (open, and the tab not hidden). */
  inView(conv) {
    return Boolean(conv) && conv === this.store.open && !document.hidden;
  }

  /** Draws the open conversation whole: when it is opened (`fresh`: start at the newest)
   * and when every label changes (the language). */
  show({ fresh = false } = {}) {
    const conv = this.store.open;
    const { thread, title, none, form } = this.el;
    none.hidden = Boolean(conv);
    form.hidden = !conv;
    thread.hidden = !conv;
    this.#nodes.clear();
    this.#pendingNodes.clear();
    this.#hints = { older: null, empty: null };
    if (!conv) {
      title.textContent = "";
      thread.replaceChildren();
      return;
    }
    title.textContent = this.agent ? t("thread.with", { name: conv.nombre }) : t("thread.support");
    this.#change(
      conv,
      () => {
        const entries = conv.entries.map((entry) => this.#entryNode(conv, entry)).filter(Boolean);
        const waiting = this.pending.of(conv.usuario).map((p) => this.#pendingNode(conv, p));
        thread.replaceChildren(...entries, ...waiting);
        this.#syncHints(conv);
        this.#syncSeen(conv);
      },
      { pin: fresh },
    );
  }

  /** Entries just added to `conv` (a live message, a page of history): each goes in at
   * its id's place. `older`: they load above what the reader is looking at. */
  added(conv, entries, { older = false } = {}) {
    if (conv !== this.store.open || !entries.length) return;
    const newestFirst = [...entries].sort((a, b) => compareIds(b.id, a.id));
    this.#change(
      conv,
      () => {
        for (const entry of newestFirst) this.#insert(conv, entry);
        this.#syncHints(conv);
        this.#syncSeen(conv);
      },
      { older },
    );
  }

  /** A send just made: shown at the bottom, and the thread scrolls there. */
  pendingAdded(conv, pending) {
    if (conv !== this.store.open) return;
    this.#change(
      conv,
      () => {
        this.el.thread.append(this.#pendingNode(conv, pending));
        this.#syncHints(conv);
      },
      { pin: true },
    );
  }

  /** A waiting send is being sent again, or has failed. */
  pendingChanged(conv, pending) {
    const old = this.#pendingNodes.get(pending.cid);
    if (conv !== this.store.open || !old) return;
    this.#change(conv, () => old.replaceWith(this.#pendingNode(conv, pending)));
  }

  pendingSettled(conv, cid) {
    const node = this.#pendingNodes.get(cid);
    if (conv !== this.store.open || !node) return;
    this.#pendingNodes.delete(cid);
    this.#change(conv, () => {
      node.remove();
      this.#syncHints(conv);
    });
  }

  /** The other side has read further: "Seen" moves to the message it now covers. */
  seenChanged(conv) {
    if (conv !== this.store.open) return;
    this.#change(conv, () => this.#syncSeen(conv));
  }

  /** `conv.loadingOlder` changed: the hint at the top comes or goes. */
  loadingOlderChanged(conv) {
    if (conv !== this.store.open) return;
    this.#change(conv, () => this.#syncHints(conv), { older: true });
  }

  /** The customer's name arrived (the list): the title and their entries' author. */
  renamed(conv) {
    if (conv !== this.store.open) return;
    this.el.title.textContent = t("thread.with", { name: conv.nombre });
    for (const author of this.el.thread.querySelectorAll("li.cliente .autor")) author.textContent = conv.nombre;
  }

  /** Agents' names arrived: the authors and status lines that showed a username. */
  relabel() {
    const conv = this.store.open;
    if (!conv) return;
    for (const entry of conv.entries) {
      const node = this.#nodes.get(entry.id);
      if (!node) continue;
      if (node.classList.contains("sistema")) node.firstChild.textContent = describeChange(entry, this.nameOf);
      else node.querySelector(".autor").textContent = this.authorOf(entry, conv);
    }
  }

  /** Who wrote an entry, as the reader knows them. */
  authorOf(entry, conv) {
    if (entry.de === this.me) return t("message.you");
    if (!this.agent) return t("thread.support");
    return entry.de === conv.usuario ? conv.nombre : this.nameOf(entry.de);
  }

  /** Brings the entry `id` of the open conversation into the middle of the view and marks
   * it for a moment (a search result was opened); it takes the focus, so that a screen
   * reader reads it. Returns whether it is shown. */
  reveal(conv, id) {
    const node = this.#nodes.get(id);
    if (conv !== this.store.open || !node) return false;
    node.tabIndex = -1;
    node.scrollIntoView({ block: "center" });
    node.focus({ preventScroll: true });
    node.classList.add("destacado");
    setTimeout(() => node.classList.remove("destacado"), FLASH_MS);
    return true;
  }

  /** Runs `mutate`, then puts the scroll where the reader expects it. */
  #change(conv, mutate, { pin = false, older = false } = {}) {
    const thread = this.el.thread;
    const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < PINNED_WITHIN_PX;
    const fromBottom = thread.scrollHeight - thread.scrollTop;
    mutate();
    if (older) thread.scrollTop = thread.scrollHeight - fromBottom;
    else if (pin || atBottom) thread.scrollTop = thread.scrollHeight;
    // Older entries load when the reader scrolls up; a page that does not fill the thread
    // cannot be scrolled, so ask for the next one straight away.
    if (conv.hasOlder && thread.scrollHeight <= thread.clientHeight) setTimeout(this.onNeedOlder);
  }

  /** Puts one entry's node before the next newer entry's node (or before the waiting
   * sends, at the end). */
  #insert(conv, entry) {
    const node = this.#entryNode(conv, entry);
    if (!node) return;
    let before = null;
    for (let i = conv.indexOf(entry.id) + 1; i < conv.entries.length && !before; i++) {
      before = this.#nodes.get(conv.entries[i].id) ?? null;
    }
    before ??= this.#pendingNodes.values().next().value ?? this.#hints.empty;
    this.el.thread.insertBefore(node, before);
  }

  #syncSeen(conv) {
    const id = this.seenOf(conv);
    const node = id ? this.#nodes.get(id) : null;
    if (!node) {
      this.#seenMark?.remove();
      return;
    }
    this.#seenMark ??= Object.assign(document.createElement("p"), { className: "visto" });
    this.#seenMark.textContent = t("message.seen");
    if (this.#seenMark.parentNode !== node) node.append(this.#seenMark);
  }

  #syncHints(conv) {
    const empty = !this.agent && !conv.entries.length && !this.pending.of(conv.usuario).length;
    this.#syncHint("empty", empty, "thread.empty", (node) => this.el.thread.append(node));
    this.#syncHint("older", conv.loadingOlder, "thread.older", (node) => this.el.thread.prepend(node));
  }

  #syncHint(name, wanted, textKey, place) {
    const node = this.#hints[name];
    if (wanted && !node) {
      const hint = document.createElement("li");
      hint.className = "vacio";
      hint.textContent = t(textKey);
      this.#hints[name] = hint;
      place(hint);
    } else if (!wanted && node) {
      node.remove();
      this.#hints[name] = null;
    }
  }

  #entryNode(conv, entry) {
    const render = this.renderers[entry.tipo];
    if (!render) return null; // a kind of entry this page does not show
    const node = render(conv, entry);
    this.#nodes.set(entry.id, node);
    return node;
  }

  #pendingNode(conv, pending) {
    const li = pending.tipo === ENTRY_TYPES.NOTE ? this.#noteNode(conv, pending) : this.#messageNode(conv, pending);
    li.dataset.cid = pending.cid;
    const failed = pending.estado === FAILED;
    li.classList.add(failed ? "fallido" : "pendiente");
    const note = document.createElement("div");
    note.className = "nota-envio";
    if (failed) {
      note.setAttribute("role", "alert");
      note.textContent = t("message.failed", { error: pending.error }) + " ";
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "reintentar";
      retry.textContent = t("message.retry");
      retry.addEventListener("click", () => this.onRetry(conv, pending));
      note.append(retry);
    } else {
      note.textContent = t("message.sending");
    }
    li.append(note);
    this.#pendingNodes.set(pending.cid, li);
    return li;
  }

  #messageNode(conv, message) {
    const li = document.createElement("li");
    const own = message.de === this.me;
    const fromCustomer = message.de === conv.usuario;
    li.className = `mensaje ${own ? "propio" : fromCustomer ? "cliente" : "agente"}`;
    if (message.id) li.dataset.id = message.id;
    const meta = document.createElement("div");
    meta.className = "meta";
    const author = document.createElement("span");
    author.className = "autor";
    author.textContent = this.authorOf(message, conv);
    const time = document.createElement("time");
    time.dateTime = message.fecha;
    time.textContent = formatTime(message.fecha);
    meta.append(author, " ", time);
    const text = document.createElement("p");
    text.className = "texto";
    text.dir = "auto";
    text.textContent = message.mensaje; // always text, never HTML
    li.append(meta, text);
    return li;
  }

  /** An internal note: a bubble of its own colour, marked as a note. */
  #noteNode(conv, note) {
    const li = this.#messageNode(conv, note);
    li.classList.add("nota");
    const label = document.createElement("span");
    label.className = "etiqueta-nota";
    label.textContent = t("note.label");
    li.querySelector(".meta").prepend(label, " · ");
    return li;
  }

  /** A status change or an assignment: a small line across the thread. */
  #changeNode(entry) {
    const li = document.createElement("li");
    li.className = "sistema";
    li.dataset.id = entry.id;
    const text = document.createElement("span");
    text.textContent = describeChange(entry, this.nameOf);
    const time = document.createElement("time");
    time.dateTime = entry.fecha;
    time.textContent = formatTime(entry.fecha);
    li.append(text, " · ", time);
    return li;
  }
}
