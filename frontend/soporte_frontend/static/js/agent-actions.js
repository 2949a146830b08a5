// What an agent does besides writing: choose a tab, change a conversation's status or
// assignee, keep the team's saved replies, search every conversation. Each talks to the
// server, then tells the data and the views.

import { api } from "./api.js";
import { EVENTS, REJECT_CODES } from "./contract.js";
import { t } from "./i18n.js";
import { open } from "./actions.js";
import { mergeList, showTab } from "./sync.js";

const ACK_TIMEOUT_MS = 10000;
const SEARCH_LIMIT = 50;
const TAB_KEY = "soporte.bandeja";

/** The tab this browser showed last time. */
export function rememberedTab(isTab) {
  const key = localStorage.getItem(TAB_KEY);
  return isTab(key) ? key : null;
}

export function chooseTab(client, key) {
  localStorage.setItem(TAB_KEY, key);
  showTab(client, key).catch(() => {}); // the rows known are shown; the next refresh brings the rest
}

/** The websites whose widget talks to the team: the list's site filter offers them
 * (hidden while there are none). */
export async function loadSites(client) {
  const select = client.ui.siteFilter;
  let sites;
  try {
    sites = await api.sites();
  } catch {
    return; // the filter stays hidden; everything is listed
  }
  const option = (value, text) => Object.assign(document.createElement("option"), { value, textContent: text });
  select.replaceChildren(option("", t("list.site.all")), ...sites.map((s) => option(s.sitio, s.nombre)));
  select.hidden = !sites.length;
}

/** Only one website's visitors in the list ("" : everyone): the known rows at once, then
 * the server's (older visitors of that site the newest conversations did not bring). */
export async function chooseSite(client, key) {
  client.ui.list.site = key;
  client.ui.list.update();
  if (!key) return;
  const since = client.store.tick;
  const page = await client.history.list({ sitio: key }).catch(() => null);
  if (page) mergeList(client, page.conversaciones, since);
}

/** Emits an agent event; resolves to its acknowledgement (a timeout as a refusal). */
function ask(client, event, payload) {
  return new Promise((resolve) => {
    client.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => {
      resolve(err ? { ok: false, error: t("message.timeout") } : ack);
    });
  });
}

/** Resolve, reopen, mark pending or snooze (`hasta`, ISO) the open conversation. Every
 * agent (this one too) sees the change when `conversacion_actualizada` comes. */
export async function changeStatus(client, estado, hasta = null) {
  const conv = client.store.open;
  if (!conv) return;
  client.ui.workflow.notice("");
  const ack = await ask(client, EVENTS.CHANGE_STATUS, { con: conv.usuario, estado, ...(hasta ? { hasta } : {}) });
  if (!ack?.ok) client.ui.workflow.notice(t("workflow.failed", { error: ack?.error ?? "?" }));
}

/** Assigns the open conversation (`agente` null: to nobody), saying who this page
 * believes holds it: if someone else changed it meanwhile, nothing changes and the
 * agent is told who has it now. */
export async function assign(client, agente) {
  const conv = client.store.open;
  if (!conv) return;
  const { workflow } = client.ui;
  workflow.notice("");
  const anterior = conv.asignado;
  const ack = await ask(client, EVENTS.ASSIGN, { con: conv.usuario, agente, anterior });
  if (ack?.ok) return;
  if (ack?.codigo === REJECT_CODES.CONFLICT) {
    const holder = ack.asignado !== undefined ? ack.asignado : conv.asignado;
    workflow.notice(holder ? t("workflow.conflict", { name: client.nameOf(holder) }) : t("workflow.conflict.nobody"));
  } else {
    workflow.notice(t("workflow.failed", { error: ack?.error ?? "?" }));
  }
  workflow.update(conv);
}

export async function loadCannedReplies(client) {
  try {
    client.canned.replace(await api.cannedReplies());
  } catch {
    return; // the library known stays
  }
  client.ui.canned.render();
  if (client.ui.suggestions.isOpen) client.ui.suggestions.update();
}

/** Creates (`id` null) or edits a saved reply; throws with the server's error. */
export async function saveCannedReply(client, id, reply) {
  const saved = id === null ? await api.createReply(reply) : await api.updateReply(id, reply);
  client.canned.put(saved ?? { id, ...reply });
  client.ui.canned.render();
  loadCannedReplies(client); // and what the rest of the team changed meanwhile
}

export async function deleteCannedReply(client, id) {
  try {
    await api.deleteReply(id);
  } catch {
    // already gone, or the server is away: the reload below shows which
  }
  client.canned.remove(id);
  client.ui.canned.render();
  await loadCannedReplies(client);
}

export async function searchMessages(client, query) {
  const { search } = client.ui;
  search.searching(query);
  try {
    const data = await api.searchMessages(query, SEARCH_LIMIT);
    search.show(query, data.resultados);
  } catch {
    search.failed();
  }
}

/** Erases a customer (after the dialog's confirmation); throws with the server's error.
 * Every agent's page (this one too) forgets the conversation when `conversacion_borrada`
 * comes; this page does not wait for it. */
export async function eraseCustomer(client, usuario) {
  await api.eraseCustomer(usuario);
  forgetConversation(client, usuario);
}

/** The customer is gone: their row, their counts, their thread if it was open. */
export function forgetConversation(client, usuario) {
  const { store, reads, ui } = client;
  if (!store.get(usuario)) return;
  const wasOpen = store.openKey === usuario;
  store.forget(usuario);
  reads.clear(usuario);
  ui.list.update();
  client.counts.changed();
  ui.notify.showUnread(reads.total());
  if (!wasOpen) return;
  ui.thread.show();
  ui.workflow.show();
  ui.privacy.show();
  ui.layout.showList();
  ui.status.announce(t("erase.done", { usuario }));
}

/** A search result was chosen: its conversation, at that entry. */
export function openResult(client, result) {
  open(client, result.conversacion, { at: result.id });
}
