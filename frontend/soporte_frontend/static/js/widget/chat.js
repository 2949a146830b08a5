// The website widget's chat, inside the iframe the loader (/widget.js) frames on a
// company's page. It runs the soporte page's data, history, sending and live-event code
// (data/*, sync.js, actions.js, dispatch.js, socket.js) with the widget's own views
// (view.js) and a visitor's short-lived token instead of a cookie (session.js).
//
// Talking with the loader (postMessage, both ways checked): only the parent window, only
// from one of the site's registered origins (body[data-origenes]); answers go to that
// origin only. Loader → chat: hola {identidad, credencial, olvidar, pagina, abierto},
// abierto {abierto}, identidad {identidad}, salir, pagina {pagina}. Chat → loader:
// estado {no_leidos, conversacion}, credencial {credencial}, cerrar, error {mensaje}.

import { cameBack, retry, send } from "../actions.js";
import { ENTRY_TYPES, EVENTS, REJECT_CODES, SUPPORT_TEAM } from "../contract.js";
import { ConversationStore } from "../data/conversations.js";
import { PendingSends } from "../data/pending.js";
import { Reads } from "../data/reads.js";
import { eventHandlers } from "../dispatch.js";
import { createHistory } from "../history.js";
import { connect } from "../socket.js";
import { loadOlder, resync } from "../sync.js";
import { RequestTimeoutError, widgetApi } from "./api.js";
import { IdentityRefusedError, VisitorSession } from "./session.js";
import { setLanguage, t, translate } from "./strings.js";
import { WidgetComposer, WidgetStatus, WidgetThread } from "./view.js";

// A token this close to its end is renewed before it is used.
const RENEW_BEFORE_MS = 60000;
const PAGE_RETRY_MS = 1000;

const $ = (id) => document.getElementById(id);
const origins = JSON.parse(document.body.dataset.origenes);
let parentOrigin = null; // the loader's, once it said hola from a registered origin
let isOpen = false;
let page = null; // {url, titulo}: where the visitor is on the company's site
let client = null; // the visitor's context (as the soporte page's), once a visitor exists
let generation = 0; // bumped when the visitor changes: late answers for an old one are dropped
let renewing = null;
let starting = Promise.resolve(); // asking auth who the visitor is (see start)
let joining = null; // the first message's wait for its visitor (see write)
// Sends of a context that was dropped before the server acknowledged them (the visitor was
// looked up again): {me, sends}. Never lost: the same visitor sends them again (same
// client ids: stored once), anyone else finds their text back in the message box.
let carried = null;

const tell = (message) => parentOrigin && window.parent.postMessage({ soporte: 1, ...message }, parentOrigin);
const session = new VisitorSession(document.body.dataset.site, {
  keep: (credencial) => tell({ tipo: "credencial", credencial }),
});

setLanguage(document.body.dataset.lang);
translate();
const status = new WidgetStatus({ line: $("estado"), notice: $("aviso") });
const composer = new WidgetComposer({ form: $("formulario"), text: $("texto"), submit: $("enviar"), onSend: () => write() });
const thread = new WidgetThread({
  list: $("mensajes"),
  empty: $("vacio"),
  isOpen: () => isOpen,
  me: null,
  onRetry: (waiting) => client && retry(client, client.store.open, waiting),
  onNeedOlder: () => client && loadOlder(client),
});

/** The visitor's token, renewed first when it is about to end. */
async function freshToken() {
  const visitor = session.visitor;
  if (visitor && visitor.expira * 1000 - Date.now() > RENEW_BEFORE_MS) return visitor.token;
  renewing ??= session.resume().finally(() => (renewing = null));
  const renewed = await renewing;
  if (!renewed) throw new Error(t("ended"));
  return renewed.token;
}

function report(unread = client?.reads.total() ?? 0) {
  tell({ tipo: "estado", no_leidos: unread, conversacion: Boolean(client) });
}

/** Tells the agents where the visitor is (a report too soon after the last is tried
 * again shortly: the newest page is the one that counts). */
function reportPage() {
  const socket = client?.socket;
  if (!socket?.connected || !page) return;
  socket.emit(EVENTS.PAGE, page, (ack) => {
    if (ack?.codigo === REJECT_CODES.RATE) setTimeout(reportPage, PAGE_RETRY_MS);
  });
}

/** The views as one visitor's context sees them: silent once another visitor took over,
 * so that a late answer for the previous one never draws its thread into the new one. */
function viewsFor(c) {
  const current = () => client === c;
  const guard = (view) =>
    new Proxy(view, {
      get(target, name) {
        const value = target[name];
        if (typeof value !== "function") return value;
        return (...args) => (current() ? value.apply(target, args) : undefined);
      },
      set(target, name, value) {
        if (current()) target[name] = value;
        return true;
      },
    });
  const notify = { showUnread: (total) => report(total), alert: () => {} };
  return { status: guard(status), thread: guard(thread), composer: guard(composer), notify: guard(notify), list: null };
}

/** The visitor's context, as the soporte page builds a customer's, and its socket. */
function begin(visitor) {
  const me = visitor.usuario;
  const c = {
    me,
    agent: false,
    store: new ConversationStore({ me, agent: false, supportTeam: SUPPORT_TEAM }),
    pending: new PendingSends({ me }),
    reads: new Reads({
      // Marks of a visitor who is gone (signed out, identified) are dropped: the token
      // now is another visitor's.
      send: (_, hasta, options) =>
        client === c &&
        freshToken()
          .then((token) => widgetApi.markRead(token, hasta, options))
          .catch(() => {}),
    }),
    socket: null,
    catchingUp: new Map(),
    agents: new Map(),
    nameOf: (usuario) => usuario,
  };
  c.history = createHistory({
    agent: false,
    status,
    read: async (_, params) => widgetApi.conversation(await freshToken(), params),
    signedOut: ended,
  });
  c.ui = viewsFor(c);
  const conv = c.store.ensure(me, visitor.nombre);
  c.store.openKey = me;
  thread.me = me;
  thread.show();
  client = c;
  const resend = takeCarried(me);
  report();
  const options = {
    // WebSocket only: long-polling needs the gateway's sticky-replica cookie, which a
    // framed page may not get; the token rides in the handshake, never in the URL.
    transports: ["websocket"],
    withCredentials: false,
    auth: (give) => freshToken().then((token) => give({ token }), () => give({})),
  };
  const handlers = { ...eventHandlers(c), [EVENTS.SESSION_ENDED]: ended };
  connect(c, { handlers, resync: () => resync(c).then(reportPage), options, signedOut: ended });
  for (const send of resend) {
    const waiting = c.pending.adopt(me, send);
    c.ui.thread.pendingAdded(conv, waiting);
    retry(c, conv, waiting); // waits in the socket's buffer until it is connected
  }
}

/** The carried sends `me` sends again; anyone else's go back into the message box. */
function takeCarried(me) {
  const taken = carried;
  carried = null;
  if (!taken) return [];
  if (taken.me === me) return taken.sends;
  const texts = taken.sends.map((send) => send.mensaje);
  composer.value = [...texts, composer.value].filter((text) => text.trim()).join("\n");
  return [];
}

function stop() {
  generation++;
  const previous = client;
  client = null; // first: what the old socket says as it closes is no longer shown
  if (previous) {
    const unacknowledged = previous.pending.all().filter((send) => send.tipo === ENTRY_TYPES.MESSAGE);
    if (unacknowledged.length) carried = { me: previous.me, sends: [...(carried?.me === previous.me ? carried.sends : []), ...unacknowledged] };
  }
  previous?.socket?.disconnect();
  thread.me = null;
  thread.show();
  status.show("");
  report(0);
}

/** Who the visitor is, again (the loader said hola, or the identity changed). A message
 * written meanwhile waits for the answer: it belongs to the visitor this finds, and
 * creating one alongside would leave two contexts (and sockets) for one visitor. */
function start() {
  starting = whoIsTheVisitor();
}

async function whoIsTheVisitor() {
  stop();
  const mine = generation;
  status.warn("");
  composer.enabled = true;
  let visitor;
  try {
    visitor = await session.resume();
  } catch (err) {
    if (mine === generation) {
      takeCarried(null);
      refused(err);
    }
    return;
  }
  if (mine !== generation) return;
  if (visitor) begin(visitor);
  else takeCarried(null); // nobody yet: what was written waits in the box
}

function refused(err) {
  if (err instanceof IdentityRefusedError) {
    composer.enabled = false; // nothing is sent under a refused identity
    if (isOpen) $("cerrar").focus(); // the message box can no longer hold it
    status.warn(t("identity"));
    tell({ tipo: "error", mensaje: err.message });
  } else {
    status.warn(t("starting", { error: err instanceof RequestTimeoutError ? t("timeout") : err.message }));
  }
}

function ended() {
  stop();
  takeCarried(null); // what was being sent goes back into the message box
  status.warn(t("ended"));
}

/** The visitor sends: the first message makes the visitor (never a page view). */
async function write() {
  if (!composer.value.trim()) return;
  while (!client) {
    const mine = generation;
    // One visitor however often Enter is pressed meanwhile: every press waits for it.
    joining ??= starting.then(() => client !== null || becomeVisitor()).finally(() => (joining = null));
    if (await joining) break;
    // Refused: the message stays in the box. Or the page said who the visitor is again
    // while it was being made: the message goes as whoever that is, once known.
    if (mine === generation) return;
  }
  send(client);
}

async function becomeVisitor() {
  const mine = generation;
  composer.enabled = false;
  try {
    const visitor = await session.create();
    if (mine !== generation) return false;
    begin(visitor);
    composer.enabled = true;
    return true;
  } catch (err) {
    if (mine !== generation) return false;
    refused(err);
    if (!(err instanceof IdentityRefusedError)) composer.enabled = true;
    return false;
  }
}

function opened(open) {
  isOpen = open;
  if (!open) return;
  if (composer.text.disabled) $("cerrar").focus();
  else composer.focus();
  if (client) cameBack(client);
}

const fromLoader = {
  hola(data) {
    page = data.pagina;
    session.credential = typeof data.credencial === "string" ? data.credencial : null;
    if (data.olvidar) session.forget();
    session.identify(data.identidad);
    start();
    opened(Boolean(data.abierto));
  },
  abierto: (data) => opened(Boolean(data.abierto)),
  identidad(data) {
    session.identify(data.identidad);
    start();
  },
  salir() {
    session.forget();
    start();
  },
  pagina(data) {
    page = data.pagina;
    reportPage();
  },
};

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !origins.includes(event.origin)) return;
  const data = event.data;
  if (!data || data.soporte !== 1 || !Object.hasOwn(fromLoader, data.tipo)) return;
  parentOrigin = event.origin;
  fromLoader[data.tipo](data);
});

$("cerrar").addEventListener("click", () => tell({ tipo: "cerrar" }));

// Esc closes; Tab stays inside the panel (the chat is all the panel holds).
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault();
    tell({ tipo: "cerrar" });
  } else if (event.key === "Tab") {
    const stops = [...document.querySelectorAll("button:not([disabled]), textarea:not([disabled]), [tabindex='0']")].filter(
      (el) => !el.closest("[hidden]"),
    );
    const [first, last] = [stops[0], stops[stops.length - 1]];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }
});
document.addEventListener("visibilitychange", () => client && isOpen && cameBack(client));
window.addEventListener("pagehide", () => client?.reads.flush());
