// Unread counts per conversation, and the read marks that tell the server how far each
// conversation has been read (a burst of reads makes one request).
// Pure data: no DOM; the request itself is the `send` function the page passes in.

import { compareIds } from "./ids.js";

const MARK_DELAY_MS = 400;

/** Whether an entry that arrives while its conversation is not in view waits to be read:
 * anything from someone else, except, for an agent, other agents' replies (only the
 * customer's words are the agent's to read). */
export function countsAsUnread(entry, conv, { me, agent }) {
  if (entry.de === me) return false;
  return !agent || entry.de === conv.usuario;
}

export class Reads {
  #unread = new Map(); // conversation key → count
  #marks = new Map(); // conversation key → {hasta, timer}: marks not sent yet

  /** `send(key, hasta, options)` stores a read mark on the server; `options.keepalive`
   * is set when the page is being left. */
  constructor({ send, delayMs = MARK_DELAY_MS }) {
    this.send = send;
    this.delayMs = delayMs;
  }

  unread(key) {
    return this.#unread.get(key) ?? 0;
  }

  total() {
    let total = 0;
    for (const count of this.#unread.values()) total += count;
    return total;
  }

  arrived(key) {
    this.#unread.set(key, this.unread(key) + 1);
  }

  /** Everything in the conversation has been seen. */
  clear(key) {
    this.#unread.delete(key);
  }

  /** The agent's list brings each conversation's count (`no_leidos`); the one in view
   * (`shownKey`, or null) has none. */
  mergeList(items, shownKey) {
    for (const item of items) {
      if (item.usuario === shownKey) this.clear(item.usuario);
      else this.#unread.set(item.usuario, item.no_leidos);
    }
  }

  /** A customer's conversation loaded from the server (`entries`, oldest first) with their
   * read mark (`mark`, or null: never read): what came after it from the other side
   * waits to be read — an answer that came while they were away. */
  unreadSince(conv, entries, mark, who) {
    const count = entries.filter(
      (entry) => (!mark || compareIds(entry.id, mark) > 0) && countsAsUnread(entry, conv, who),
    ).length;
    if (count) this.#unread.set(conv.usuario, count);
    else this.#unread.delete(conv.usuario);
  }

  /** Remember on the server, shortly, that `key` has been read up to `hasta`. */
  markRead(key, hasta) {
    if (!hasta) return;
    clearTimeout(this.#marks.get(key)?.timer);
    const timer = setTimeout(() => this.#sendMark(key), this.delayMs);
    this.#marks.set(key, { hasta, timer });
  }

  /** Leaving the page (reload, sign out, closing the tab): send the marks still waiting,
   * or what was just read would show as unread next time. */
  flush() {
    for (const [key, { timer }] of this.#marks) {
      clearTimeout(timer);
      this.#sendMark(key, { keepalive: true });
    }
  }

  #sendMark(key, options = {}) {
    const mark = this.#marks.get(key);
    this.#marks.delete(key);
    this.send(key, mark.hasta, options);
  }
}
