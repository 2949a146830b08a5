// Conversations and what they hold: entries ordered by id (each once), the preview the
// agent's list shows, the draft, and how much of the history has been loaded.
// Pure data: no DOM, no network, no contract module (node's test runner imports it as it
// is; the website widget will reuse it).

import { compareIds } from "./ids.js";

/** The `tipo` of an entry that does not say: a message. The contract's
 * ENTRY_TYPES.MESSAGE, written here so that this module loads without the served contract;
 * frontend/tests/test_pages.py checks that the two agree. */
export const MESSAGE = "mensaje";

/** An entry as the data modules keep it: what the server sent, with its `tipo`. */
export function asEntry(raw) {
  return raw.tipo ? raw : { ...raw, tipo: MESSAGE };
}

/** A conversation's `estado` (the contract's CONVERSATION_STATES, checked against it by
 * frontend/tests/test_pages.py like MESSAGE). */
export const STATUS = Object.freeze({ OPEN: "abierta", PENDING: "pendiente", RESOLVED: "resuelta", SNOOZED: "pospuesta" });

export class Conversation {
  #ids = new Set();

  constructor(usuario, nombre) {
    this.usuario = usuario; // the customer
    this.nombre = nombre || usuario;
    this.named = Boolean(nombre); // false: a live message came first; the list brings the name
    this.entries = []; // confirmed, oldest first (by id)
    this.loaded = false; // the newest page has been fetched
    this.hasOlder = false;
    this.loadingOlder = false;
    this.draft = "";
    this.preview = null; // the newest message: {id, mensaje, fecha}
    // The workflow (agents): who holds it and what it waits for. Unknown until the list
    // or a live update says; a conversation nobody changed yet is open and unassigned.
    this.estado = null;
    this.asignado = null; // an agent's username, or null: nobody
    this.pospuestaHasta = null; // ISO time, while snoozed
    this.stateId = null; // the log entry the state comes from (live updates)
    this.stateTick = 0; // when a live update last set it (the store's clock)
    // A website visitor's (the list says): {sitio, sitio_nombre, verificado, email,
    // pagina: {url, titulo, fecha} | null}; null for an account.
    this.visitante = null;
  }

  /** A visitor's page report (`pagina_visitante`): kept unless an older one. Returns
   * whether it changed what is shown. */
  pageSeen({ url, titulo, fecha }) {
    if (!this.visitante) return false;
    const known = this.visitante.pagina;
    if (known && known.fecha > fecha) return false;
    this.visitante = { ...this.visitante, pagina: { url, titulo, fecha } };
    return true;
  }

  /** The status, an unknown one being a new conversation's. */
  get status() {
    return this.estado ?? STATUS.OPEN;
  }

  /** A live `conversacion_actualizada`: taken unless the state already comes from that
   * entry or a later one (updates may be seen twice, or late). Returns whether it did. */
  applyUpdate({ id, estado, asignado, pospuesta_hasta }, tick) {
    if (this.stateId && compareIds(id, this.stateId) <= 0) return false;
    this.stateId = id;
    this.stateTick = tick;
    this.#setState(estado, asignado, pospuesta_hasta);
    return true;
  }

  /** The state as a list answer has it (no entry id): taken unless a live update arrived
   * after that answer was asked for (`since`, the store's clock then). Returns whether
   * anything changed. */
  applySnapshot({ estado, asignado, pospuesta_hasta }, since) {
    if (estado === undefined || this.stateTick > since) return false;
    return this.#setState(estado, asignado, pospuesta_hasta);
  }

  #setState(estado, asignado, hasta) {
    const next = { estado, asignado: asignado || null, pospuestaHasta: hasta || null };
    const changed = Object.entries(next).some(([field, value]) => this[field] !== value);
    Object.assign(this, next);
    return changed;
  }

  get firstId() {
    return this.entries.length ? this.entries[0].id : null;
  }

  get lastId() {
    return this.entries.length ? this.entries[this.entries.length - 1].id : null;
  }

  has(id) {
    return this.#ids.has(id);
  }

  /** Where the entry with this id sits in `entries`, or -1. */
  indexOf(id) {
    let low = 0;
    let high = this.entries.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const order = compareIds(this.entries[middle].id, id);
      if (order === 0) return middle;
      if (order < 0) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  /** Adds an entry at its id's place; returns it (with its `tipo`), or null when an entry
   * with that id is already there (live, caught up and paged copies are one entry). */
  add(raw) {
    if (this.#ids.has(raw.id)) return null;
    const entry = asEntry(raw);
    this.#ids.add(entry.id);
    let at = this.entries.length;
    while (at > 0 && compareIds(this.entries[at - 1].id, entry.id) > 0) at--;
    this.entries.splice(at, 0, entry);
    if (entry.tipo === MESSAGE) this.offerPreview(entry); // the list previews what was said
    return entry;
  }

  /** Takes this entry as the preview unless a newer one is already shown. */
  offerPreview({ id, mensaje, fecha }) {
    if (this.preview && compareIds(id, this.preview.id) < 0) return;
    this.preview = { id, mensaje, fecha };
  }

  rename(nombre) {
    this.nombre = nombre;
    this.named = true;
  }

  /** For the agent's filter box: `query` (lower case) within the username or the name. */
  matches(query) {
    return !query || this.usuario.includes(query) || this.nombre.toLowerCase().includes(query);
  }
}

/** Every conversation this page knows. A customer has one (their own, with the support
 * team); an agent has one per customer, keyed by the customer's username. */
export class ConversationStore {
  #conversations = new Map();

  /** `me`: the signed-in username; `agent`: whether they answer customers;
   * `supportTeam`: what customers write to (the contract's SUPPORT_TEAM). */
  constructor({ me, agent, supportTeam }) {
    this.me = me;
    this.agent = agent;
    this.supportTeam = supportTeam;
    this.openKey = null; // the conversation on screen
    this.listLoaded = false; // the agent's list has been fetched once
    this.tick = 0; // counts live state updates: orders them against list answers
  }

  get open() {
    return this.openKey === null ? null : this.get(this.openKey);
  }

  get(key) {
    return this.#conversations.get(key) ?? null;
  }

  /** The conversation of `key`, made if new; a `nombre` given names it. */
  ensure(key, nombre) {
    let conv = this.#conversations.get(key);
    if (!conv) {
      conv = new Conversation(key, nombre);
      this.#conversations.set(key, conv);
    } else if (nombre) {
      conv.rename(nombre);
    }
    return conv;
  }

  /** Which conversation an entry belongs to: for an agent, the customer's (a note names
   * it in `con`). */
  keyOf(entry) {
    if (!this.agent) return this.me;
    if (entry.con) return entry.con;
    return entry.para === this.supportTeam ? entry.de : entry.para;
  }

  /** A live `conversacion_actualizada {usuario, …}`: the conversation whose state it
   * changed, or null when it was not news. */
  applyUpdate(update) {
    const conv = this.ensure(update.usuario);
    return conv.applyUpdate(update, ++this.tick) ? conv : null;
  }

  /** The customer was erased: their conversation is forgotten (closed if it was open). */
  forget(key) {
    this.#conversations.delete(key);
    if (this.openKey === key) this.openKey = null;
  }

  all() {
    return [...this.#conversations.values()];
  }

  /** The conversations with something to show, newest activity first. */
  byRecency() {
    return this.all()
      .filter((conv) => conv.preview)
      .sort((a, b) => compareIds(b.preview.id, a.preview.id));
  }

  /** Merges a page of the agent's list (`/api/usuarios-conversaciones`): names,
   * previews, states. `since`: the clock (`tick`) when the page was asked for; a state
   * updated live after that is newer than the page's. Returns the conversations it
   * touched, those whose name changed and those whose state changed. */
  mergeList(items, since = this.tick) {
    const touched = [];
    const renamed = [];
    const restated = [];
    for (const item of items) {
      const before = this.get(item.usuario)?.nombre;
      const conv = this.ensure(item.usuario, item.nombre);
      if (before !== undefined && before !== conv.nombre) renamed.push(conv);
      if (conv.applySnapshot(item, since)) restated.push(conv);
      if (item.visitante !== undefined) conv.visitante = keepNewerPage(item.visitante, conv.visitante);
      conv.offerPreview({ id: item.ultimo_id, mensaje: item.ultimo_mensaje, fecha: item.fecha });
      touched.push(conv);
    }
    return { touched, renamed, restated };
  }
}

/** The list's visitor details, keeping a page reported live after the list was read. */
function keepNewerPage(listed, known) {
  const live = known?.pagina;
  if (!listed || !live || (listed.pagina && listed.pagina.fecha >= live.fecha)) return listed;
  return { ...listed, pagina: live };
}
