// Sends not yet acknowledged, per conversation, oldest first. Each carries a client id
// (`cid`): the server stores a retried send once. A send settles by its acknowledgement,
// or by its echo (the same text coming back from the history after the acknowledgement
// was lost); a refused or timed-out send waits for a retry.
// Pure data: no DOM, no network.

import { MESSAGE } from "./conversations.js";
import { newClientId } from "./ids.js";

export const SENDING = "enviando";
export const FAILED = "fallido";

export class PendingSends {
  #byKey = new Map(); // conversation key → its waiting sends, oldest first

  /** `me`: the signed-in username (the author of every send). */
  constructor({ me, newId = newClientId, now = () => new Date().toISOString() }) {
    this.me = me;
    this.newId = newId;
    this.now = now;
  }

  /** A new send in the conversation `key`, shown at once as an entry being sent. */
  create(key, { para, mensaje, tipo = MESSAGE }) {
    const pending = {
      cid: this.newId(),
      key,
      de: this.me,
      para,
      mensaje,
      tipo,
      fecha: this.now(),
      estado: SENDING,
      error: null,
    };
    this.#list(key).push(pending);
    return pending;
  }

  /** A send another context made and never saw acknowledged (the widget's visitor was
   * looked up again meanwhile): it waits here as being sent, with its client id, so that
   * sending it again stores it once. Returns the send as this context holds it. */
  adopt(key, { cid, para, mensaje, tipo = MESSAGE, fecha }) {
    const pending = { cid, key, de: this.me, para, mensaje, tipo, fecha: fecha ?? this.now(), estado: SENDING, error: null };
    this.#list(key).push(pending);
    return pending;
  }

  /** Every waiting send, oldest first per conversation. */
  all() {
    return [...this.#byKey.values()].flat();
  }

  /** The conversation's waiting sends, oldest first. */
  of(key) {
    return this.#byKey.get(key) ?? [];
  }

  isWaiting(pending) {
    return this.of(pending.key).includes(pending);
  }

  /** Sending again (a retry); false if it has settled meanwhile. */
  sending(pending) {
    return this.#mark(pending, SENDING, null);
  }

  /** Refused or timed out: waits for a retry; false if it has settled meanwhile. */
  failed(pending, error) {
    return this.#mark(pending, FAILED, error);
  }

  /** The acknowledgement `{id, fecha}` came: the send is no longer waiting. Returns the
   * confirmed entry (also when the echo settled the send first: the entry is the same). */
  settleByAck(pending, { id, fecha }) {
    this.#remove(pending);
    const { de, para, mensaje, tipo } = pending;
    return { id, de, para, mensaje, fecha, tipo };
  }

  /** An own entry arrived before its acknowledgement (the echo, or a catch-up after the
   * acknowledgement was lost): it settles the oldest waiting send of the same kind with the
   * same text (and, for a message, the same recipient; a note has none). Returns that
   * send, or null. */
  settleByEcho(key, entry) {
    if (entry.de !== this.me) return null;
    const same = this.of(key).find(
      (p) =>
        p.mensaje === entry.mensaje && p.tipo === entry.tipo && (p.tipo !== MESSAGE || p.para === entry.para),
    );
    if (!same) return null;
    this.#remove(same);
    return same;
  }

  #list(key) {
    let list = this.#byKey.get(key);
    if (!list) {
      list = [];
      this.#byKey.set(key, list);
    }
    return list;
  }

  #mark(pending, estado, error) {
    if (!this.isWaiting(pending)) return false;
    pending.estado = estado;
    pending.error = error;
    return true;
  }

  #remove(pending) {
    const list = this.of(pending.key);
    const at = list.indexOf(pending);
    if (at !== -1) list.splice(at, 1);
  }
}
