// From server events to the page, one handler per event (as Zulip's web client does in
// server_events_dispatch): each updates the data modules first, then tells the UI what
// changed. A new server → client event of the contract gets its handler here.

import { goToLogin } from "./api.js";
import { ENTRY_TYPES, EVENTS } from "./contract.js";
import { countsAsUnread } from "./data/reads.js";
import { t } from "./i18n.js";
import { forgetConversation } from "./agent-actions.js";
import { messageArrived, seenReceived, supportAvailable, typingSeen } from "./signals.js";
import { agentSeen, applyEntries, catchUpSoon, refreshListSoon, resync } from "./sync.js";

const SESSION_END_NOTICE_MS = 1500;

/** The handlers of the server's events, by event name (socket.js registers them). */
export function eventHandlers(client) {
  return {
    [EVENTS.MESSAGE_RECEIVED]: (message) => messageReceived(client, message),
    [EVENTS.RESYNC]: () => resync(client),
    [EVENTS.SESSION_ENDED]: () => sessionEnded(client),
    [EVENTS.NOTE_RECEIVED]: (note) => noteReceived(client, note),
    [EVENTS.CONVERSATION_UPDATED]: (update) => conversationUpdated(client, update),
    [EVENTS.PRESENCE]: (presence) => client.agent && agentSeen(client, presence),
    [EVENTS.VISITOR_PAGE]: (page) => client.agent && visitorMoved(client, page),
    [EVENTS.CONVERSATION_ERASED]: ({ usuario }) => client.agent && forgetConversation(client, usuario),
    [EVENTS.SUPPORT_AVAILABLE]: (availability) => !client.agent && supportAvailable(client, availability),
    [EVENTS.TYPING]: (signal) => typingSeen(client, signal),
    [EVENTS.SEEN]: (seen) => seenReceived(client, seen),
  };
}

function messageReceived(client, message) {
  const { store, reads, ui } = client;
  const conv = store.ensure(store.keyOf(message));
  if (conv.has(message.id)) return; // already here (caught up, or paged in)
  if (client.agent && !conv.preview) client.counts.changed(); // a new conversation
  const inView = ui.thread.inView(conv);
  if (!inView && countsAsUnread(message, conv, client)) reads.arrived(conv.usuario);
  const [entry] = applyEntries(client, conv, [message]);
  messageArrived(client, conv.usuario, entry.de);
  if (inView) reads.markRead(conv.usuario, conv.lastId);
  // A customer writing for the first time: the list fetch brings their name...
  const naming = client.agent && !conv.named ? refreshListSoon(client) : null;
  if (entry.de === client.me) return; // one's own messages are not announced back
  const tell = () => {
    const name = ui.thread.authorOf(entry, conv);
    ui.status.announce(t("announce.new", { name, text: entry.mensaje }));
    if (document.hidden) ui.notify.alert(name, entry.mensaje);
  };
  // ...and they are announced by that name, once the list has it.
  if (naming) naming.then(tell);
  else tell();
}

/** An internal note (agents only): an entry of its conversation, never unread. */
function noteReceived(client, note) {
  const { store, reads, ui } = client;
  if (!client.agent) return;
  const conv = store.ensure(note.con);
  if (conv.has(note.id)) return;
  const [entry] = applyEntries(client, conv, [{ ...note, tipo: ENTRY_TYPES.NOTE }]);
  if (ui.thread.inView(conv)) reads.markRead(conv.usuario, conv.lastId);
  if (entry.de !== client.me) {
    ui.status.announce(t("announce.note", { name: client.nameOf(entry.de), text: entry.mensaje }));
  }
}

/** A conversation's status or assignee changed (any agent, or Soporte itself): its row
 * moves between tabs, the counts follow, and an open thread fetches the entry that says
 * what happened. */
function conversationUpdated(client, update) {
  const { store, ui } = client;
  const conv = store.applyUpdate(update);
  if (!conv) return; // seen already, or older than what is shown
  ui.list.update(conv);
  ui.workflow.update(conv);
  client.counts.changed();
  if (!conv.preview) refreshListSoon(client); // not in the list yet: its name and preview
  if (conv === store.open && conv.loaded) catchUpSoon(client, conv);
}

/** A website visitor is on another page of the site: shown over their conversation. */
function visitorMoved(client, page) {
  const conv = client.store.get(page.usuario);
  if (conv?.pageSeen(page) && conv === client.store.open) client.ui.visitor.show(conv);
}

function sessionEnded(client) {
  client.ui.status.show(t("session.ended"));
  setTimeout(goToLogin, SESSION_END_NOTICE_MS);
}
