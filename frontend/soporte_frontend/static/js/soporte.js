// The soporte page: a customer's conversation with support, or an agent's list of
// conversations and the open one. Live messages come over Socket.IO; history, catch-up
// after a reconnect and unread counts come from the history API. Every message is shown
// once (by id), always as text.
//
// This module builds the page's context, `client`, that every other module receives:
//   me, agent         who is signed in (username) and whether they answer customers
//   store, pending, reads   the data (data/*.js: no DOM)
//   history           the history API reads (history.js)
//   ui                the views (ui/*.js), told what changed
//   socket            the live connection (socket.js)

import { api, ApiError, goToLogin } from "./api.js";
import { cameBack, open, retry, send } from "./actions.js";
import { SUPPORT_TEAM } from "./contract.js";
import { ConversationStore } from "./data/conversations.js";
import { PendingSends } from "./data/pending.js";
import { Reads } from "./data/reads.js";
import { eventHandlers } from "./dispatch.js";
import { createHistory } from "./history.js";
import { applyTranslations, t, toggleLanguage } from "./i18n.js";
import { connect } from "./socket.js";
import { loadOlder, resync, search } from "./sync.js";
import { Composer } from "./ui/composer.js";
import { Layout } from "./ui/layout.js";
import { ListView } from "./ui/list.js";
import { Notifier } from "./ui/notify.js";
import { StatusView } from "./ui/status.js";
import { ThreadView } from "./ui/thread.js";

const AGENT_ROLE = "admin";

const $ = (id) => document.getElementById(id);

function createClient(profile) {
  const me = profile.usuario;
  const agent = profile.rol === AGENT_ROLE;
  const client = {
    me,
    agent,
    store: new ConversationStore({ me, agent, supportTeam: SUPPORT_TEAM }),
    pending: new PendingSends({ me }),
    reads: new Reads({
      send: (key, hasta, options) => api.markRead(hasta, agent ? key : null, options).catch(() => {}),
    }),
    socket: null,
    listRefresh: null, // the agent's list fetch under way (sync.js)
  };
  const status = new StatusView({ banner: $("estado-conexion"), announcer: $("anuncios") });
  client.history = createHistory({ agent, status });
  client.ui = {
    status,
    notify: new Notifier({ button: $("avisos"), status }),
    layout: new Layout({ who: $("quien"), listPanel: $("panel-lista"), back: $("volver"), filter: $("filtro") }),
    composer: new Composer({ form: $("formulario"), text: $("texto"), onSend: () => send(client) }),
    thread: new ThreadView({
      store: client.store,
      pending: client.pending,
      me,
      agent,
      elements: { thread: $("mensajes"), title: $("titulo-chat"), none: $("sin-conversacion"), form: $("formulario") },
      onRetry: (conv, waiting) => retry(client, conv, waiting),
      onNeedOlder: () => loadOlder(client),
    }),
    list: agent
      ? new ListView({
          store: client.store,
          reads: client.reads,
          elements: { list: $("lista-usuarios"), empty: $("lista-vacia"), filter: $("filtro") },
          onOpen: (usuario) => open(client, usuario),
          onSearch: (query) => search(client, query),
        })
      : null,
  };
  return client;
}

/** Signs out, or says the session is still open: leaving for the login page after a failed
 * logout would leave a working session behind the user's back. */
async function signOut(client) {
  try {
    await api.logout();
  } catch (err) {
    // The server's answer says why (a 503: the session stays open); no answer at all, ours.
    client.ui.status.show(err instanceof ApiError ? err.message : t("logout.network"));
    return;
  }
  goToLogin();
}

/** The page's own controls: back to the list, language, notifications, sign out, and
 * the tab being left or shown again. */
function wirePage(client) {
  const { ui, reads } = client;
  $("volver").addEventListener("click", () => ui.layout.showList());
  $("idioma").addEventListener("click", () => {
    toggleLanguage();
    ui.thread.show();
    ui.list?.update();
    ui.notify.render();
    ui.notify.showUnread(reads.total());
  });
  $("avisos").addEventListener("click", () => ui.notify.toggle());
  $("salir").addEventListener("click", () => signOut(client));
  window.addEventListener("pagehide", () => reads.flush());
  document.addEventListener("visibilitychange", () => cameBack(client));
}

async function main() {
  applyTranslations();
  let profile;
  try {
    profile = await api.me();
  } catch {
    return goToLogin();
  }
  const client = createClient(profile);
  const { store, ui } = client;
  ui.layout.identify(profile, client.agent);
  ui.notify.render();
  wirePage(client);
  if (!client.agent) {
    store.ensure(profile.usuario, profile.nombre);
    store.openKey = profile.usuario;
    ui.layout.showThread(false);
  }
  ui.thread.show({ fresh: true });
  ui.list?.update();
  ui.notify.showUnread(client.reads.total());
  connect(client, { handlers: eventHandlers(client), resync: () => resync(client) });
  ui.composer.focus();
}

main();
