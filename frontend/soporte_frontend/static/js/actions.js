// What the person does: open a conversation, send, retry a failed send, come back to the
// tab. Each updates the data modules, then the UI, then talks to the server.

import { EVENTS, SUPPORT_TEAM } from "./contract.js";
import { t } from "./i18n.js";
import { applyEntries, catchUp } from "./sync.js";

const SEND_TIMEOUT_MS = 10000;

export async function open(client, usuario) {
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
  ui.notify.showUnread(reads.total());
  ui.composer.focus();
  reads.markRead(usuario, conv.lastId); // what is shown is read, even if the page is left before the fetch ends
  // Not loaded yet, or loaded earlier but closed since: while closed it may have missed
  // live messages (a reconnection catches up the open conversation only).
  await catchUp(client, conv);
  reads.markRead(usuario, conv.lastId);
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

/** Sends what is in the message box to the open conversation; it shows at once, as being
 * sent, until the server acknowledges it. */
export function send(client) {
  const { store, pending, ui } = client;
  const conv = store.open;
  const text = ui.composer.value;
  if (!conv || !text.trim()) return;
  const para = client.agent ? conv.usuario : SUPPORT_TEAM;
  const waiting = pending.create(conv.usuario, { para, mensaje: text });
  conv.draft = "";
  ui.composer.value = "";
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
  const payload = { para: waiting.para, mensaje: waiting.mensaje, cid: waiting.cid };
  client.socket.timeout(SEND_TIMEOUT_MS).emit(EVENTS.SEND_MESSAGE, payload, (err, ack) => {
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
