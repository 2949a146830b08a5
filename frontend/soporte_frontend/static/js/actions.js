// What the person does: open a conversation (at one of its entries, from a search), send
// a message or an internal note, retry a failed send, come back to the tab. Each updates
// the data modules, then the UI, then talks to the server.

import { ENTRY_TYPES, EVENTS, SUPPORT_TEAM } from "./contract.js";
import { t } from "./i18n.js";
import { loadSeen } from "./signals.js";
import { applyEntries, catchUp, loadAround } from "./sync.js";

const SEND_TIMEOUT_MS = 10000;

/** Opens `usuario`'s conversation; `at`: an entry's id to bring into view (the rest of
 * the conversation loads around it). */
export async function open(client, usuario, { at = null } = {}) {
  const { store, reads, ui } = client;
  const previous = store.open;
  if (previous) previous.draft = ui.composer.value;
  const conv = store.ensure(usuario);
  store.openKey = usuario;
  reads.clear(usuario);
  ui.composer.value = conv.draft;
  ui.layout.showThread(client.agent);
  ui.thread.show({ fresh: true });
  ui.list?.update(...(previous ? [previous, conv] : [conv]));
  ui.workflow?.show();
  ui.visitor?.show(conv);
  ui.privacy?.show();
  ui.typing?.show();
  ui.notify.showUnread(reads.total());
  if (!at) ui.composer.focus();
  reads.markRead(usuario, conv.lastId); // what is shown is read, even if the page is left before the fetch ends
  if (at) await loadAround(client, conv, at);
  // Not loaded yet, or loaded earlier but closed since: while closed it may have missed
  // live messages (a reconnection catches up the open conversation only).
  await catchUp(client, conv);
  reads.markRead(usuario, conv.lastId);
  loadSeen(client, conv);
  if (at && store.open === conv) ui.thread.reveal(conv, at);
}

/** The tab is shown again: the open conversation has been read. */
export function cameBack(client) {
  const { store, reads, ui } = client;
  const conv = store.open;
  if (document.hidden || !conv) return;
  reads.clear(conv.usuario);
  reads.markRead(conv.usuario, conv.lastId);
  ui.list?.update(conv);
  ui.notify.showUnread(reads.total());
}

/** Sends what is in the message box to the open conversation, as a message or (an agent
 * in note mode) an internal note; it shows at once, as being sent, until the server
 * acknowledges it. */
export function send(client) {
  const { store, pending, ui } = client;
  const conv = store.open;
  const text = ui.composer.value;
  if (!conv || !text.trim()) return;
  const tipo = client.agent ? ui.composer.tipo : ENTRY_TYPES.MESSAGE;
  const para = tipo === ENTRY_TYPES.NOTE ? undefined : client.agent ? conv.usuario : SUPPORT_TEAM;
  const waiting = pending.create(conv.usuario, { para, mensaje: text, tipo });
  conv.draft = "";
  ui.composer.value = "";
  if (tipo === ENTRY_TYPES.MESSAGE) client.typingSender?.sent(conv.usuario);
  ui.thread.pendingAdded(conv, waiting);
  transmit(client, conv, waiting);
  ui.composer.focus();
}

/** Sends a failed entry again, with the same client id (stored once however often). */
export function retry(client, conv, waiting) {
  if (!client.pending.sending(waiting)) return;
  client.ui.thread.pendingChanged(conv, waiting);
  transmit(client, conv, waiting);
}

function transmit(client, conv, waiting) {
  const { pending, reads, ui } = client;
  const note = waiting.tipo === ENTRY_TYPES.NOTE;
  const [event, payload] = note
    ? [EVENTS.SEND_NOTE, { con: conv.usuario, mensaje: waiting.mensaje, cid: waiting.cid }]
    : [EVENTS.SEND_MESSAGE, { para: waiting.para, mensaje: waiting.mensaje, cid: waiting.cid }];
  client.socket.timeout(SEND_TIMEOUT_MS).emit(event, payload, (err, ack) => {
    if (err || !ack?.ok) {
      const reason = err ? t("message.timeout") : ack?.error || "?";
      if (pending.failed(waiting, reason)) ui.thread.pendingChanged(conv, waiting);
      return;
    }
    const entry = pending.settleByAck(waiting, ack);
    ui.thread.pendingSettled(conv, waiting.cid);
    applyEntries(client, conv, [entry], { settleEchoes: false });
    reads.markRead(conv.usuario, conv.lastId);
  });
}
