// Live signals, never stored: typing (both ways), presence (an agent's own state, idle
// tabs, whether support is there), seen receipts, and the team's usual response time.
// Each updates the data modules (data/typing.js, data/presence.js, data/seen.js), then
// tells the UI; the server's events reach these through dispatch.js. A page that shows
// none of them (the website widget's chat) has no such data: the signals pass it by.

import { api } from "./api.js";
import { EVENTS, PRESENCE_STATES, SUPPORT_TEAM } from "./contract.js";
import { responseTime } from "./data/presence.js";
import { seenEntryId } from "./data/seen.js";

// ── typing

/** The person is writing a message in the open conversation (the composer says so at
 * every keystroke; data/typing.js lets one signal through every 2 s). */
export function typed(client) {
  const key = client.store.openKey;
  if (key) client.typingSender?.typed(key);
}

/** The signal itself: volatile, so one that cannot go now (no connection) is dropped
 * rather than sent late. */
export function sendTyping(client, key) {
  client.socket?.volatile.emit(EVENTS.TYPING, client.agent ? { con: key } : {});
}

/** `escribiendo {de, con}`: to a customer `de` is the team, to an agent the customer or a
 * colleague. One's own other tabs are not news. */
export function typingSeen(client, { de, con }) {
  if (de === client.me) return;
  client.typing?.seen(client.agent ? con : client.me, de);
}

/** A message from someone ends their typing at once (their signals stop with it). */
export function messageArrived(client, key, de) {
  if (de !== client.me) client.typing?.stopped(key, client.agent ? de : SUPPORT_TEAM);
}

/** Who types in `key` changed: the line over the message box, and the list's row. */
export function typingChanged(client, key) {
  const { store, ui } = client;
  ui.typing.update(key);
  const conv = store.get(key);
  if (ui.list && conv?.preview) ui.list.update(conv);
}

// ── presence

/** The agent's own Away switch. */
export function setAway(client, away) {
  client.socket?.emit(EVENTS.PRESENCE, { estado: away ? PRESENCE_STATES.AWAY : PRESENCE_STATES.ONLINE });
}

/** This tab went idle (hidden for the configured time) or came back. */
export function sendIdle(client, idle) {
  client.socket?.emit(EVENTS.PRESENCE, { inactiva: idle });
}

/** `soporte_disponible {en_linea}` (customers): on connecting, then at every change. */
export function supportAvailable(client, { en_linea }) {
  if (!client.support) return;
  const changed = client.support.set(en_linea);
  client.ui.support.render({ changed });
}

/** The team's median first response, said only when there is one. */
export async function loadResponseTime(client) {
  if (!client.ui.support) return;
  try {
    const { mediana_segundos } = await api.responseTime();
    client.ui.support.responseTime(responseTime(mediana_segundos));
  } catch {
    // Nothing is said rather than something made up; the next load tries again.
  }
}

// ── seen

/** `visto {hasta}` (customer) or `visto {con, hasta}` (agents): the other side has read
 * this side's messages up to `hasta`. */
export function seenReceived(client, { con, hasta }) {
  const key = client.agent ? con : client.me;
  if (!client.seen?.set(key, hasta)) return;
  const conv = client.store.get(key);
  if (conv) client.ui.thread.seenChanged(conv);
}

/** How far the other side has read `conv` (a page that just loaded or reconnected). */
export async function loadSeen(client, conv) {
  if (!client.seen) return;
  try {
    const { hasta } = await api.seen(client.agent ? conv.usuario : null);
    if (hasta) seenReceived(client, { con: conv.usuario, hasta });
  } catch {
    // The next live receipt or reload says it.
  }
}

/** The message of `conv` that shows "Seen": the customer's last one an agent read, or the
 * team's last one the customer read. */
export function seenOf(client, conv) {
  return seenEntryId(conv, client.seen.get(conv.usuario), { fromCustomer: !client.agent });
}
