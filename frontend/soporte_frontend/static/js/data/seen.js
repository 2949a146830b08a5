// Seen receipts: how far the other side of each conversation has read this side's
// messages (`visto`, and `GET /api/mensajes/visto` after a load), and which message shows
// "Seen": a customer's last message an agent read, or the team's last message the
// customer read.
// Pure data: no DOM, no network.

import { MESSAGE } from "./conversations.js";
import { compareIds } from "./ids.js";

export class SeenMarks {
  #marks = new Map(); // conversation key → the id read up to

  get(key) {
    return this.#marks.get(key) ?? null;
  }

  /** The other side has read `key` up to `hasta` (marks only move forward: a late or
   * repeated one changes nothing). Returns whether it moved. */
  set(key, hasta) {
    const known = this.#marks.get(key);
    if (!hasta || (known && compareIds(hasta, known) <= 0)) return false;
    this.#marks.set(key, hasta);
    return true;
  }
}

/** The id of the message of `conv` that shows "Seen", or null: the newest message of this
 * page's side (`fromCustomer`: the customer's own messages; else the team's) at or before
 * the other side's mark `hasta`. */
export function seenEntryId(conv, hasta, { fromCustomer }) {
  if (!hasta) return null;
  for (let i = conv.entries.length - 1; i >= 0; i--) {
    const entry = conv.entries[i];
    if (compareIds(entry.id, hasta) > 0 || entry.tipo !== MESSAGE) continue;
    if ((entry.de === conv.usuario) === fromCustomer) return entry.id;
  }
  return null;
}
