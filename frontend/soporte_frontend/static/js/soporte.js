// The soporte page: a customer's conversation with support, or an agent's list of
// conversations and the open one. Live messages come over Socket.IO; history, catch-up
// after a reconnect and unread counts come from the history API. Every message is shown
// once (by id), always as text.
//
// This module builds the page's context, `client`, that every other module receives:
//   me, agent         who is signed in (username) and whether they answer customers
//   store, pending, reads   the data (data/*.js: no DOM)
//   tab, counts, canned, team   an agent's: the chosen tab, the tabs' counts, the
//                     saved replies, the agents and their states (nameOf: an agent's name)
//   typing, seen, support, away   the live signals (signals.js): who types where, how
//                     far the other side has read, whether support is there (customers),
//                     this tab going idle (agents)
//   history           the history API reads (history.js)
//   ui                the views (ui/*.js), told what changed
//   socket            the live connection (socket.js)

import { AGENT_ROLE } from "./agent-page.js";
import { api, ApiError, goToLogin } from "./api.js";
import { cameBack, open, retry, send } from "./actions.js";
import {
  assign,
  changeStatus,
  chooseSite,
  chooseTab,
  deleteCannedReply,
  eraseCustomer,
  loadCannedReplies,
  loadSites,
  openResult,
  rememberedTab,
  saveCannedReply,
  searchMessages,
} from "./agent-actions.js";
import { IDLE_AWAY_SECONDS } from "./config.js";
import { AGENT_SOCKET_QUERY, SUPPORT_TEAM } from "./contract.js";
import { CannedReplies } from "./data/canned.js";
import { ConversationStore } from "./data/conversations.js";
import { PendingSends } from "./data/pending.js";
import { AwayWhenHidden, SupportAvailability, Team } from "./data/presence.js";
import { Reads } from "./data/reads.js";
import { SeenMarks } from "./data/seen.js";
import { DEFAULT_TAB, TabCounts, tabOf } from "./data/tabs.js";
import { Typing, TypingSender } from "./data/typing.js";
import { eventHandlers } from "./dispatch.js";
import { createHistory } from "./history.js";
import { applyTranslations, t, toggleLanguage } from "./i18n.js";
import { sendIdle, sendTyping, seenOf, setAway, typed, typingChanged } from "./signals.js";
import { PAGE_SOCKET_OPTIONS, connect } from "./socket.js";
import { loadOlder, resync, search } from "./sync.js";
import { CannedDialog } from "./ui/canned.js";
import { Composer } from "./ui/composer.js";
import { Layout } from "./ui/layout.js";
import { ListView } from "./ui/list.js";
import { Notifier } from "./ui/notify.js";
import { PrivacyTools } from "./ui/privacy.js";
import { SupportView, TeamView } from "./ui/presence.js";
import { SearchView } from "./ui/search.js";
import { StatusView } from "./ui/status.js";
import { Suggestions } from "./ui/suggestions.js";
import { TabsView } from "./ui/tabs.js";
import { ThreadView } from "./ui/thread.js";
import { TypingLine } from "./ui/typing.js";
import { VisitorCard } from "./ui/visitor.js";
import { WorkflowBar } from "./ui/workflow.js";


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
    catchingUp: new Map(), // conversation key → its catch-up under way (sync.js)
    team: new Team(),
    nameOf: (usuario) => client.team.get(usuario)?.nombre ?? client.store.get(usuario)?.nombre ?? usuario,
    typing: new Typing({ onChange: (key) => typingChanged(client, key) }),
    typingSender: new TypingSender({ send: (key) => sendTyping(client, key) }),
    seen: new SeenMarks(),
    support: new SupportAvailability(),
    away: agent ? new AwayWhenHidden({ delayMs: IDLE_AWAY_SECONDS * 1000, send: (idle) => sendIdle(client, idle) }) : null,
  };
  const status = new StatusView({ banner: $("estado-conexion"), announcer: $("anuncios") });
  client.history = createHistory({ agent, status });
  client.ui = {
    status,
    notify: new Notifier({ button: $("avisos"), status }),
    layout: new Layout({ who: $("quien"), listPanel: $("panel-lista"), back: $("volver"), filter: $("filtro") }),
    thread: new ThreadView({
      store: client.store,
      pending: client.pending,
      me,
      agent,
      elements: { thread: $("mensajes"), title: $("titulo-chat"), none: $("sin-conversacion"), form: $("formulario") },
      onRetry: (conv, waiting) => retry(client, conv, waiting),
      onNeedOlder: () => loadOlder(client),
      nameOf: client.nameOf,
      seenOf: (conv) => seenOf(client, conv),
    }),
    typing: new TypingLine({
      element: $("escribiendo"),
      store: client.store,
      typing: client.typing,
      me,
      agent,
      nameOf: client.nameOf,
      announce: (text) => status.announce(text),
    }),
    list: null,
  };
  const composer = { form: $("formulario"), text: $("texto"), label: document.querySelector('label[for="texto"]') };
  client.ui.composer = new Composer({
    ...composer,
    submit: $("formulario").querySelector('button[type="submit"]'),
    onSend: () => send(client),
    onTyping: () => typed(client),
    ...(agent ? agentComposer(client) : {}),
  });
  if (agent) addAgentViews(client);
  else addCustomerViews(client);
  return client;
}

/** An agent's message box: replies or notes, and saved replies after "/". */
function agentComposer(client) {
  client.canned = new CannedReplies();
  client.ui.suggestions = new Suggestions({
    text: $("texto"),
    list: $("sugerencias"),
    library: client.canned,
    onOpen: () => loadCannedReplies(client),
  });
  return {
    mode: { group: $("modo"), reply: $("modo-respuesta"), note: $("modo-nota") },
    suggestions: client.ui.suggestions,
  };
}

/** What only customers have: whether support is there, and how fast it answers. */
function addCustomerViews(client) {
  client.ui.support = new SupportView({
    support: client.support,
    elements: {
      box: $("soporte-estado"),
      availability: $("disponibilidad"),
      text: $("disponibilidad-texto"),
      time: $("tiempo-respuesta"),
    },
    announce: (text) => client.ui.status.announce(text),
  });
}

/** What only agents have: the tabs and their counts, the list, the conversation's
 * status and assignee, the saved replies' dialog, search, the team's presence. */
function addAgentViews(client) {
  const { store, ui } = client;
  ui.team = new TeamView({
    team: client.team,
    me: client.me,
    elements: {
      mine: $("mi-presencia"),
      mineText: $("mi-presencia-texto"),
      away: $("ausente"),
      roster: $("equipo"),
      summary: $("equipo-resumen"),
      list: $("lista-equipo"),
    },
    onAway: (away) => setAway(client, away),
  });
  client.tab = rememberedTab((key) => Boolean(tabOf(key))) ?? DEFAULT_TAB;
  client.counts = new TabCounts({ fetch: () => api.counts(), onChange: () => ui.tabs.render() });
  ui.tabs = new TabsView({
    tablist: $("pestanas"),
    panel: $("panel-bandeja"),
    counts: client.counts,
    selected: client.tab,
    onChoose: (key) => chooseTab(client, key),
  });
  ui.list = new ListView({
    store,
    reads: client.reads,
    me: client.me,
    tab: client.tab,
    nameOf: client.nameOf,
    typingOf: (usuario) => client.typing.who(usuario).includes(usuario),
    elements: { list: $("lista-usuarios"), empty: $("lista-vacia"), filter: $("filtro") },
    onOpen: (usuario) => open(client, usuario),
    onSearch: (query) => search(client, query),
  });
  ui.visitor = new VisitorCard({ box: $("visitante") });
  ui.siteFilter = $("filtro-sitio");
  ui.siteFilter.addEventListener("change", () => chooseSite(client, ui.siteFilter.value));
  ui.workflow = new WorkflowBar({
    store,
    me: client.me,
    nameOf: client.nameOf,
    elements: {
      box: $("flujo"),
      state: $("flujo-estado"),
      notice: $("flujo-aviso"),
      resolve: $("resolver"),
      reopen: $("reabrir"),
      pending: $("marcar-pendiente"),
      snooze: $("posponer"),
      snoozeMenu: $("menu-posponer"),
      snoozeAt: $("posponer-hasta"),
      snoozeApply: $("posponer-a-medida"),
      assignMe: $("asignarme"),
      unassign: $("desasignar"),
      assignTo: $("asignar-a"),
    },
    onStatus: (estado, hasta) => changeStatus(client, estado, hasta),
    onAssign: (agente) => assign(client, agente),
  });
  ui.canned = new CannedDialog({
    library: client.canned,
    elements: {
      opener: $("abrir-respuestas"),
      dialog: $("dialogo-respuestas"),
      close: $("cerrar-respuestas"),
      list: $("lista-respuestas"),
      empty: $("respuestas-vacia"),
      form: $("form-respuesta"),
      heading: $("titulo-form-respuesta"),
      shortcut: $("respuesta-atajo"),
      text: $("respuesta-texto"),
      error: $("respuesta-error"),
      cancel: $("respuesta-cancelar"),
    },
    onOpen: () => loadCannedReplies(client),
    onSave: (id, reply) => saveCannedReply(client, id, reply),
    onDelete: (id) => deleteCannedReply(client, id),
  });
  ui.search = new SearchView({
    elements: {
      form: $("buscador"),
      input: $("buscar"),
      box: $("busqueda"),
      status: $("busqueda-estado"),
      close: $("cerrar-busqueda"),
      results: $("resultados"),
      lists: $("bandejas"),
    },
    nameOf: client.nameOf,
    onSearch: (query) => searchMessages(client, query),
    onOpen: (result) => openResult(client, result),
  });
  ui.privacy = new PrivacyTools({
    store,
    elements: {
      exportLink: $("exportar-cliente"),
      erase: $("borrar-cliente"),
      dialog: $("dialogo-borrar"),
      form: $("form-borrar"),
      title: $("titulo-borrar"),
      explanation: $("borrar-explicacion"),
      label: $("borrar-etiqueta"),
      input: $("borrar-confirmacion"),
      error: $("borrar-error"),
      confirm: $("borrar-confirmar"),
      cancel: $("borrar-cancelar"),
    },
    onErase: (usuario) => eraseCustomer(client, usuario),
  });
  $("enlace-informes").hidden = false;
  $("enlace-auditoria").hidden = false;
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
    ui.tabs?.render();
    ui.workflow?.show();
    ui.typing.show();
    ui.team?.render();
    ui.support?.render();
    ui.visitor?.show(client.store.open);
    ui.canned?.render();
    ui.composer.render();
    ui.notify.render();
    ui.notify.showUnread(reads.total());
  });
  $("avisos").addEventListener("click", () => ui.notify.toggle());
  $("salir").addEventListener("click", () => signOut(client));
  window.addEventListener("pagehide", () => reads.flush());
  document.addEventListener("visibilitychange", () => {
    cameBack(client);
    if (document.hidden) client.away?.hidden();
    else client.away?.visible();
  });
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
    $("descargar-datos").hidden = false; // a customer's own data, as one JSON document
    store.openKey = profile.usuario;
    ui.layout.showThread(false);
  }
  ui.thread.show({ fresh: true });
  ui.list?.update();
  ui.composer.render();
  ui.notify.showUnread(client.reads.total());
  if (client.agent) {
    loadCannedReplies(client);
    loadSites(client);
  }
  // An agent's socket asks the gateway for the agents' replicas (docs/architecture.md).
  const options = client.agent ? { ...PAGE_SOCKET_OPTIONS, query: AGENT_SOCKET_QUERY } : undefined;
  connect(client, { handlers: eventHandlers(client), resync: () => resync(client), options });
  // Each connection starts as an active tab on the server; signals sent before it may be lost.
  client.socket.on("connect", () => client.away?.connected(document.hidden));
  client.socket.on("disconnect", () => client.typing.clear());
  ui.composer.focus();
}

main();
