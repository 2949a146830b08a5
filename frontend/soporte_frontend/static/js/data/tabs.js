// The agent's tabs over the conversation list: which conversations each holds, what the
// list API is asked for each, and their counts (the server's, refreshed shortly after
// every change: the list in the page holds only the newest conversations).
// Pure data: no DOM; the request is the `fetch` function the page passes in.

import { STATUS } from "./conversations.js";

const COUNTS_DELAY_MS = 400;

const notResolved = (conv) => conv.status !== STATUS.RESOLVED;

/** In the order shown. `key` is also the field of `/recuento` that counts the tab;
 * `query` the list API's filter; `has(conv, me)` whether a conversation belongs. */
export const TABS = Object.freeze([
  { key: "mias", query: { asignado: "yo" }, has: (conv, me) => conv.asignado === me && notResolved(conv) },
  { key: "sin_asignar", query: { asignado: "nadie" }, has: (conv) => !conv.asignado && notResolved(conv) },
  { key: "abierta", query: { estado: STATUS.OPEN }, has: (conv) => conv.status === STATUS.OPEN },
  { key: "pendiente", query: { estado: STATUS.PENDING }, has: (conv) => conv.status === STATUS.PENDING },
  { key: "pospuesta", query: { estado: STATUS.SNOOZED }, has: (conv) => conv.status === STATUS.SNOOZED },
  { key: "resuelta", query: { estado: STATUS.RESOLVED }, has: (conv) => conv.status === STATUS.RESOLVED },
]);

/** The queue a team works from first: conversations that need an agent. */
export const DEFAULT_TAB = "abierta";

export function tabOf(key) {
  return TABS.find((tab) => tab.key === key) ?? null;
}

/** The tabs' counts from the server. `changed()` after anything that may move a
 * conversation between tabs: a burst of changes makes one request, and an answer never
 * replaces one to a later request. */
export class TabCounts {
  #counts = null;
  #timer = null;
  #asked = 0; // requests made
  #shown = 0; // the request whose answer the counts are

  /** `fetch()` resolves to `{mias, sin_asignar, …}`; `onChange(counts)` is told each new
   * answer. */
  constructor({ fetch, onChange, delayMs = COUNTS_DELAY_MS }) {
    this.fetch = fetch;
    this.onChange = onChange;
    this.delayMs = delayMs;
  }

  /** The count of a tab, or null while unknown. */
  of(key) {
    return this.#counts?.[key] ?? null;
  }

  changed() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.refresh(), this.delayMs);
  }

  async refresh() {
    clearTimeout(this.#timer);
    const request = ++this.#asked;
    let counts;
    try {
      counts = await this.fetch();
    } catch {
      return; // the counts shown stay until the next change asks again
    }
    if (!counts || request < this.#shown) return;
    this.#shown = request;
    this.#counts = counts;
    this.onChange(counts);
  }
}
