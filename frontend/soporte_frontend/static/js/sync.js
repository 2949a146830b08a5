// Bringing the data up to date from the history API, then telling the UI what changed:
// a conversation's newest page, what came after the last id seen (after a reconnection),
// older pages, the page around one entry (a search result), the agent's list and the
// tab's. `client` is the page's context (see soporte.js).

import { api } from "./api.js";
import { compareIds, nextId } from "./data/ids.js";
import { tabOf } from "./data/tabs.js";
import { loadResponseTime, loadSeen } from "./signals.js";

const LIST_REFRESH_DELAY_MS = 300;
const MAX_CATCH_UP_PAGES = 100;

/** Adds entries to `conv` (the data), then shows them (the UI); returns those that were
 * new. An own entry settles the send waiting with its text unless `settleEchoes` is false
 * (the acknowledgement path settles its own send). `older`: a page above the reader. */
export function applyEntries(client, conv, raws, { older = false, settleEchoes = true } = {}) {
  const { pending, reads, ui } = client;
  const added = [];
  const settled = [];
  for (const raw of raws) {
    const entry = conv.add(raw);
    if (!entry) continue;
    added.push(entry);
    const send = settleEchoes ? pending.settleByEcho(conv.usuario, entry) : null;
    if (send) settled.push(send);
  }
  for (const send of settled) ui.thread.pendingSettled(conv, send.cid);
  ui.thread.added(conv, added, { older });
  if (added.length) ui.list?.update(conv);
  ui.notify.showUnread(reads.total());
  return added;
}

export async function loadLatest(client, conv) {
  const page = await client.history.latest(conv);
  if (!page) return;
  conv.hasOlder = page.hay_anteriores;
  conv.loaded = true;
  if (!client.agent && !client.ui.thread.inView(conv)) {
    // A customer's page (the widget's closed panel) loading after the team answered.
    client.reads.unreadSince(conv, page.mensajes, page.leido_hasta, client);
  }
  applyEntries(client, conv, page.mensajes);
}

/** Everything after the last id this page saw: what it missed while disconnected. */
export async function catchUp(client, conv) {
  if (!conv.loaded || !conv.lastId) return loadLatest(client, conv);
  for (let round = 0; round < MAX_CATCH_UP_PAGES; round++) {
    const page = await client.history.after(conv, conv.lastId);
    if (!page) return;
    applyEntries(client, conv, page.mensajes);
    if (!page.hay_siguientes) return;
  }
}

/** Catches `conv` up soon: now, or once the catch-up under way ends (one at a time; a
 * burst of live changes makes one or two fetches). */
export function catchUpSoon(client, conv) {
  const running = client.catchingUp.get(conv.usuario);
  if (running) {
    running.again = true;
    return;
  }
  const run = { again: false };
  client.catchingUp.set(conv.usuario, run);
  (async () => {
    do {
      run.again = false;
      await catchUp(client, conv);
    } while (run.again);
  })()
    .catch(() => {}) // the next change or reconnection tries again
    .finally(() => client.catchingUp.delete(conv.usuario));
}

/** Loads the entry `id` of `conv` with the page that ends with it, then everything after
 * it (what is loaded stays one unbroken run of the log, as catching up needs). */
export async function loadAround(client, conv, id) {
  if (conv.has(id)) return;
  if (conv.loaded && conv.lastId && compareIds(id, conv.lastId) > 0) return catchUp(client, conv);
  const page = await client.history.before(conv, nextId(id));
  if (!page) return;
  if (!conv.loaded || !conv.firstId || compareIds(id, conv.firstId) < 0) conv.hasOlder = page.hay_anteriores;
  conv.loaded = true;
  applyEntries(client, conv, page.mensajes, { older: true });
  for (let cursor = id, round = 0; round < MAX_CATCH_UP_PAGES; round++) {
    const next = await client.history.after(conv, cursor);
    if (!next) return;
    applyEntries(client, conv, next.mensajes);
    if (!next.hay_siguientes || !next.mensajes.length) return;
    cursor = next.mensajes[next.mensajes.length - 1].id;
  }
}

/** The page above the oldest entry of the open conversation (the reader scrolled up). */
export async function loadOlder(client) {
  const { store, ui } = client;
  const conv = store.open;
  if (!conv || !conv.hasOlder || conv.loadingOlder || !conv.entries.length) return;
  conv.loadingOlder = true;
  ui.thread.loadingOlderChanged(conv);
  try {
    const page = await client.history.before(conv, conv.firstId);
    if (page) {
      conv.hasOlder = page.hay_anteriores;
      applyEntries(client, conv, page.mensajes, { older: true });
    }
  } finally {
    conv.loadingOlder = false;
    ui.thread.loadingOlderChanged(conv);
  }
}

/** Conversations from the agent's list (names, previews, unread counts, states) into
 * the data, then the rows that changed. `since`: the store's clock when the list was
 * asked for (a state that changed live after it is newer than the list's). */
export function mergeList(client, items, since = client.store.tick) {
  const { store, reads, ui } = client;
  const { touched, renamed, restated } = store.mergeList(items, since);
  reads.mergeList(items, ui.thread.inView(store.open) ? store.openKey : null);
  ui.list.update(...touched);
  for (const conv of renamed) ui.thread.renamed(conv);
  for (const conv of restated) ui.workflow.update(conv);
  if (store.open && touched.includes(store.open)) ui.visitor.show(store.open);
  ui.notify.showUnread(reads.total());
}

/** The newest conversations, and the chosen tab's (the newest ones may not fill it). */
export async function refreshList(client) {
  const since = client.store.tick;
  const [all, inTab] = await Promise.all([client.history.list(), tabList(client)]);
  if (!all) return;
  client.store.listLoaded = true;
  mergeList(client, all.conversaciones, since);
  if (inTab) mergeList(client, inTab.conversaciones, since);
}

const tabList = (client) => client.history.list(tabOf(client.tab).query);

/** Another tab was chosen: its rows at once from what is known, then the server's. */
export async function showTab(client, key) {
  client.tab = key;
  client.ui.list.tab = key;
  client.ui.list.update();
  const since = client.store.tick;
  const data = await tabList(client);
  if (data && client.tab === key) mergeList(client, data.conversaciones, since);
}

/** Fetch the list again shortly (several new conversations at once: one fetch); resolves
 * once the list, and so every customer's name, is there. */
export function refreshListSoon(client) {
  client.listRefresh ??= new Promise((resolve) => setTimeout(resolve, LIST_REFRESH_DELAY_MS))
    .then(() => refreshList(client))
    .catch(() => {})
    .finally(() => {
      client.listRefresh = null;
    });
  return client.listRefresh;
}

/** The filter box asks the server too: the list holds only the newest conversations. */
export async function search(client, query) {
  try {
    const data = await client.history.search(query);
    mergeList(client, data.conversaciones);
  } catch {
    // The local filter has already done what it can.
  }
}

/** The agents (`GET /api/agentes`): names for assignees, authors and status lines, the
 * assignment picker, and everyone's state (the roster, the agent's own). */
export async function loadAgents(client) {
  let agents;
  try {
    agents = await api.agents();
  } catch {
    return; // names stay usernames until the next try
  }
  client.team.set(agents);
  agentsChanged(client);
}

/** An agent's presence changed (`presencia {usuario, nombre, estado}`): its name and state. */
export function agentSeen(client, presence) {
  if (client.team.seen(presence)) agentsChanged(client);
}

function agentsChanged(client) {
  const { ui } = client;
  ui.team.render();
  ui.workflow.setAgents(client.team.all());
  ui.list.update();
  ui.thread.relabel();
}

/** After (re)connecting, or when told that live events may have been missed: what came
 * meanwhile. Rooms are joined before this runs, so nothing falls between the two. */
export async function resync(client) {
  if (client.agent) {
    client.counts.refresh();
    loadAgents(client); // this agent too: it is one once connected
    await refreshList(client);
  } else {
    loadResponseTime(client);
  }
  const conv = client.store.open;
  if (!conv) return;
  await catchUp(client, conv);
  // What is on screen now has been read (a customer back after the team answered).
  if (client.ui.thread.inView(conv)) client.reads.markRead(conv.usuario, conv.lastId);
  loadSeen(client, conv); // after the entries: "Seen" goes under one of them
}
