// The soporte page: a customer's conversation with support, or an agent's list of
// conversations and the open one. Live messages come over Socket.IO; history, catch-up
// after a reconnect and unread counts come from the history API. Every message is shown
// once (by id), always as text.

import { api, ApiError } from "./api.js";
import { applyTranslations, formatTime, t, toggleLanguage } from "./i18n.js";

const SUPPORT_TEAM = "admin"; // what customers write to
const SEND_TIMEOUT_MS = 10000;
const PAGE = 50;
const LIST_LIMIT = 200; // the newest conversations; the filter asks the server for the rest
const AUTH_REFUSALS = new Set(["No autenticado", "Token no proporcionado", "Token inválido"]);

const $ = (id) => document.getElementById(id);
const dom = {
  list: $("lista-usuarios"), listPanel: $("panel-lista"), listEmpty: $("lista-vacia"), filter: $("filtro"),
  thread: $("mensajes"), title: $("titulo-chat"), none: $("sin-conversacion"),
  form: $("formulario"), text: $("texto"), status: $("estado-conexion"), announcer: $("anuncios"),
  who: $("quien"), back: $("volver"), notify: $("avisos"),
};

// ---------------------------------------------------------------- state

function compareIds(a, b) {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am - bm || as - bs;
}

function newClientId() {
  if (window.crypto?.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

class Conversation {
  constructor(usuario, nombre) {
    this.usuario = usuario; // the customer
    this.nombre = nombre || usuario;
    this.named = Boolean(nombre); // false: a live message came first; the list brings the name
    this.messages = []; // confirmed, sorted by id
    this.ids = new Set();
    this.pending = []; // sent, not yet acknowledged: {cid, para, mensaje, fecha, estado, error}
    this.loaded = false;
    this.hasOlder = false;
    this.unread = 0;
    this.draft = "";
    this.preview = null; // {mensaje, fecha, id}
  }

  get lastId() {
    return this.messages.length ? this.messages[this.messages.length - 1].id : null;
  }

  /** Adds a confirmed message; false if it was already there. An own message that comes
   * before its acknowledgement (the echo, or a catch-up after the acknowledgement was lost)
   * settles the oldest pending copy with the same text; the acknowledgement path settles
   * its own pending message and passes settles: false. */
  add(message, { settles = true } = {}) {
    if (this.ids.has(message.id)) return false;
    if (settles && message.de === state.me.usuario) {
      const index = this.pending.findIndex((p) => p.mensaje === message.mensaje && p.para === message.para);
      if (index !== -1) this.pending.splice(index, 1);
    }
    this.ids.add(message.id);
    const at = this.messages.findIndex((m) => compareIds(m.id, message.id) > 0);
    if (at === -1) this.messages.push(message);
    else this.messages.splice(at, 0, message);
    if (!this.preview || compareIds(message.id, this.preview.id) >= 0) {
      this.preview = { id: message.id, mensaje: message.mensaje, fecha: message.fecha };
    }
    return true;
  }
}

const state = {
  me: null,
  conversations: new Map(),
  open: null, // key of the open conversation
  socket: null,
  everConnected: false,
  notify: localStorage.getItem("soporte.avisos") === "1",
  audio: null,
  loadingOlder: false,
  listLoaded: false, // the agent's list has been fetched once
};

const isAgent = () => state.me?.rol === "admin";

function conversationKey(message) {
  if (!isAgent()) return state.me.usuario;
  return message.para === SUPPORT_TEAM ? message.de : message.para;
}

function conversation(key, nombre) {
  let conv = state.conversations.get(key);
  if (!conv) {
    conv = new Conversation(key, nombre);
    state.conversations.set(key, conv);
  } else if (nombre) {
    conv.nombre = nombre;
    conv.named = true;
  }
  return conv;
}

const openConversation = () => (state.open ? state.conversations.get(state.open) : null);

// ---------------------------------------------------------------- rendering

function authorLabel(message, conv) {
  if (message.de === state.me.usuario) return t("message.you");
  if (!isAgent()) return t("thread.support");
  return message.de === conv.usuario ? conv.nombre : message.de;
}

function messageElement(message, conv, pending = null) {
  const li = document.createElement("li");
  const own = message.de === state.me.usuario;
  const fromCustomer = message.de === conv.usuario;
  li.className = `mensaje ${own ? "propio" : fromCustomer ? "cliente" : "agente"}`;
  if (message.id) li.dataset.id = message.id;
  const meta = document.createElement("div");
  meta.className = "meta";
  const author = document.createElement("span");
  author.className = "autor";
  author.textContent = authorLabel(message, conv);
  const time = document.createElement("time");
  time.dateTime = message.fecha;
  time.textContent = formatTime(message.fecha);
  meta.append(author, " ", time);
  const text = document.createElement("p");
  text.className = "texto";
  text.dir = "auto";
  text.textContent = message.mensaje; // always text, never HTML
  li.append(meta, text);
  if (pending) {
    li.dataset.cid = pending.cid;
    li.classList.add(pending.estado === "fallido" ? "fallido" : "pendiente");
    const note = document.createElement("div");
    note.className = "nota-envio";
    if (pending.estado === "fallido") {
      note.setAttribute("role", "alert");
      note.textContent = t("message.failed", { error: pending.error }) + " ";
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "reintentar";
      retry.textContent = t("message.retry");
      retry.addEventListener("click", () => emitPending(conv, pending));
      note.append(retry);
    } else {
      note.textContent = t("message.sending");
    }
    li.append(note);
  }
  return li;
}

function renderThread({ keepScroll = false } = {}) {
  const conv = openConversation();
  const thread = dom.thread;
  dom.none.hidden = Boolean(conv);
  dom.form.hidden = !conv;
  thread.hidden = !conv;
  if (!conv) {
    dom.title.textContent = "";
    return;
  }
  dom.title.textContent = isAgent() ? t("thread.with", { name: conv.nombre }) : t("thread.support");
  const atBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 60;
  const fromBottom = thread.scrollHeight - thread.scrollTop;
  const items = conv.messages.map((m) => messageElement(m, conv));
  for (const p of conv.pending) items.push(messageElement({ ...p, de: state.me.usuario }, conv, p));
  if (!items.length && !isAgent()) items.push(hint(t("thread.empty")));
  if (state.loadingOlder) items.unshift(hint(t("thread.older")));
  thread.replaceChildren(...items);
  if (keepScroll) thread.scrollTop = thread.scrollHeight - fromBottom;
  else if (atBottom || !thread.dataset.rendered) thread.scrollTop = thread.scrollHeight;
  thread.dataset.rendered = "1";
  // Older messages load when the reader scrolls up; a page that does not fill the thread
  // cannot be scrolled, so load the next one straight away.
  if (conv.hasOlder && thread.scrollHeight <= thread.clientHeight) setTimeout(loadOlder);
}

function hint(text) {
  const li = document.createElement("li");
  li.className = "vacio";
  li.textContent = text;
  return li;
}

function renderList() {
  if (!isAgent()) return;
  const filter = dom.filter.value.trim().toLowerCase();
  const sorted = [...state.conversations.values()]
    .filter((c) => c.preview)
    .sort((a, b) => compareIds(b.preview.id, a.preview.id));
  const shown = sorted.filter((c) => !filter || c.usuario.includes(filter) || c.nombre.toLowerCase().includes(filter));
  dom.listEmpty.hidden = shown.length > 0 || !state.listLoaded;
  dom.listEmpty.textContent = t(sorted.length ? "list.nomatch" : "list.empty");
  dom.list.replaceChildren(
    ...shown.map((conv) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.usuario = conv.usuario;
      const active = conv.usuario === state.open;
      button.className = `conversacion${active ? " activa" : conv.unread ? " no-leida" : ""}`;
      if (active) button.setAttribute("aria-current", "true");
      const name = document.createElement("span");
      name.className = "nombre";
      name.dir = "auto";
      name.textContent = conv.nombre;
      const time = document.createElement("time");
      time.dateTime = conv.preview.fecha;
      time.textContent = formatTime(conv.preview.fecha);
      const preview = document.createElement("span");
      preview.className = "vista-previa";
      preview.dir = "auto";
      preview.textContent = conv.preview.mensaje;
      button.append(name, time, preview);
      if (conv.unread && !active) {
        const badge = document.createElement("span");
        badge.className = "contador";
        badge.textContent = String(conv.unread);
        badge.setAttribute("aria-label", t("list.unread", { n: conv.unread }));
        button.append(badge);
      }
      button.addEventListener("click", () => open(conv.usuario));
      li.append(button);
      return li;
    }),
  );
}

function updateTitle() {
  const total = [...state.conversations.values()].reduce((n, c) => n + c.unread, 0);
  document.title = total ? `(${total}) ${t("app.title")}` : t("app.title");
}

function renderAll() {
  renderList();
  renderThread();
  updateTitle();
}

let statusTimer = null;
function showStatus(text, { autoHide = false } = {}) {
  clearTimeout(statusTimer);
  dom.status.textContent = text;
  dom.status.hidden = !text;
  dom.status.classList.toggle("bien", autoHide);
  if (autoHide) statusTimer = setTimeout(() => (dom.status.hidden = true), 3000);
}

/** The connection as body[data-conexion]: "conectando", "al-dia" (connected and caught up
 * with the history) or "perdida". */
function setConnection(value) {
  document.body.dataset.conexion = value;
}

function announce(text) {
  const p = document.createElement("p");
  p.textContent = text;
  dom.announcer.append(p);
  while (dom.announcer.childElementCount > 5) dom.announcer.firstElementChild.remove();
}

// ---------------------------------------------------------------- history

async function withHistoryRetry(call) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return goToLogin();
      if (attempt >= 20) throw err;
      if (err instanceof ApiError && err.status === 503) showStatus(t("history.retry"));
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 5000)));
    }
  }
}

const conversationParam = (conv) => (isAgent() ? conv.usuario : null);

async function loadLatest(conv) {
  const page = await withHistoryRetry(() => api.conversation(conversationParam(conv), { limit: PAGE }));
  if (!page) return;
  page.mensajes.forEach((m) => conv.add(m));
  conv.hasOlder = page.hay_anteriores;
  conv.loaded = true;
}

/** Everything after the last id this client saw: what it missed while disconnected. */
async function catchUp(conv) {
  if (!conv.loaded || !conv.lastId) return loadLatest(conv);
  for (let rounds = 0; rounds < 100; rounds++) {
    const page = await withHistoryRetry(() => api.conversation(conversationParam(conv), { after: conv.lastId, limit: 200 }));
    if (!page) return;
    page.mensajes.forEach((m) => conv.add(m));
    if (!page.hay_siguientes) return;
  }
}

async function loadOlder() {
  const conv = openConversation();
  if (!conv || !conv.hasOlder || state.loadingOlder || !conv.messages.length) return;
  state.loadingOlder = true;
  renderThread({ keepScroll: true });
  try {
    const page = await withHistoryRetry(() =>
      api.conversation(conversationParam(conv), { before: conv.messages[0].id, limit: PAGE }),
    );
    if (page) {
      page.mensajes.forEach((m) => conv.add(m));
      conv.hasOlder = page.hay_anteriores;
    }
  } finally {
    state.loadingOlder = false;
    if (conv.usuario === state.open) renderThread({ keepScroll: true });
  }
}

async function refreshList() {
  const data = await withHistoryRetry(() => api.conversations({ limit: LIST_LIMIT }));
  if (!data) return;
  state.listLoaded = true;
  mergeList(data.conversaciones);
}

function mergeList(items) {
  for (const item of items) {
    const conv = conversation(item.usuario, item.nombre);
    if (!conv.preview || compareIds(item.ultimo_id, conv.preview.id) > 0) {
      conv.preview = { id: item.ultimo_id, mensaje: item.ultimo_mensaje, fecha: item.fecha };
    }
    conv.unread = isVisible(conv) ? 0 : item.no_leidos;
  }
}

let searchTimer = null;
/** Filters what is loaded at once, and asks the server too: the list holds only the newest
 * conversations, and an older one must be found as well. */
function onFilterInput() {
  renderList();
  clearTimeout(searchTimer);
  const q = dom.filter.value.trim().toLowerCase();
  if (!q) return;
  searchTimer = setTimeout(async () => {
    try {
      const data = await api.conversations({ q, limit: PAGE });
      mergeList(data.conversaciones);
      renderList();
    } catch {
      // The local filter has already done what it can.
    }
  }, 250);
}

let listRefresh = null;
/** Fetch the list again shortly (several new conversations at once: one fetch); resolves
 * once the list, and so every customer's name, is there. */
function refreshListSoon() {
  listRefresh ??= new Promise((resolve) => setTimeout(resolve, 300))
    .then(refreshList)
    .catch(() => {})
    .finally(() => {
      listRefresh = null;
      renderAll();
    });
  return listRefresh;
}

const readTimers = new Map();
/** Remember (on the server) that the open conversation has been read; a burst of
 * messages makes one request. */
function markRead(conv) {
  if (!conv.lastId) return;
  clearTimeout(readTimers.get(conv.usuario));
  readTimers.set(conv.usuario, setTimeout(() => sendReadMark(conv), 400));
}

function sendReadMark(conv, options) {
  readTimers.delete(conv.usuario);
  api.markRead(conv.lastId, isAgent() ? conv.usuario : null, options).catch(() => {});
}

/** Leaving the page (reload, sign out, closing the tab): send the read marks still
 * waiting, or the conversation just read would show as unread next time. */
function flushReadMarks() {
  for (const [usuario, timer] of readTimers) {
    clearTimeout(timer);
    sendReadMark(state.conversations.get(usuario), { keepalive: true });
  }
}

const isVisible = (conv) => !document.hidden && conv.usuario === state.open;

// ---------------------------------------------------------------- actions

async function open(usuario) {
  const previous = openConversation();
  if (previous) previous.draft = dom.text.value;
  const conv = conversation(usuario);
  state.open = usuario;
  conv.unread = 0;
  dom.text.value = conv.draft;
  document.body.classList.add("viendo-hilo");
  dom.back.hidden = !isAgent();
  delete dom.thread.dataset.rendered;
  renderAll();
  dom.text.focus();
  markRead(conv); // what is shown is read, even if the page is left before the fetch ends
  // Not loaded yet, or loaded earlier but closed since: while closed it may have missed
  // live messages (a reconnection catches up the open conversation only).
  await catchUp(conv);
  if (state.open === usuario) renderThread();
  markRead(conv);
}

function emitPending(conv, pending) {
  pending.estado = "enviando";
  pending.error = null;
  renderIfOpen(conv);
  state.socket
    .timeout(SEND_TIMEOUT_MS)
    .emit("mensaje_privado", { para: pending.para, mensaje: pending.mensaje, cid: pending.cid }, (err, ack) => {
      if (err) {
        pending.estado = "fallido";
        pending.error = t("message.timeout");
      } else if (!ack || !ack.ok) {
        pending.estado = "fallido";
        pending.error = ack?.error || "?";
      } else {
        conv.pending = conv.pending.filter((p) => p !== pending);
        const message = { id: ack.id, de: state.me.usuario, para: pending.para, mensaje: pending.mensaje, fecha: ack.fecha };
        conv.add(message, { settles: false });
        markRead(conv);
        renderList();
      }
      renderIfOpen(conv);
    });
}

function renderIfOpen(conv) {
  if (conv.usuario === state.open) renderThread();
}

function send() {
  const conv = openConversation();
  const text = dom.text.value;
  if (!conv || !text.trim()) return;
  const pending = {
    cid: newClientId(),
    para: isAgent() ? conv.usuario : SUPPORT_TEAM,
    mensaje: text,
    fecha: new Date().toISOString(),
    estado: "enviando",
  };
  conv.pending.push(pending);
  dom.text.value = "";
  conv.draft = "";
  dom.thread.scrollTop = dom.thread.scrollHeight;
  emitPending(conv, pending);
  dom.text.focus();
}

function goToLogin() {
  window.location.assign("/");
}

// ---------------------------------------------------------------- live events

function onMessage(message) {
  const key = conversationKey(message);
  const conv = conversation(key);
  if (!conv.add(message)) return;
  // A customer writing for the first time: the list fetch brings their name.
  if (isAgent() && !conv.named) refreshListSoon();
  const fromOthers = message.de !== state.me.usuario;
  const countsAsUnread = fromOthers && (!isAgent() || message.de === conv.usuario);
  if (isVisible(conv)) markRead(conv);
  else if (countsAsUnread) conv.unread += 1;
  if (fromOthers) {
    const tell = () => {
      const name = authorLabel(message, conv);
      announce(t("announce.new", { name, text: message.mensaje }));
      if (document.hidden) alertHidden(name, message.mensaje);
    };
    // A customer writing for the first time is announced by name, once the list has it.
    if (isAgent() && !conv.named && listRefresh) listRefresh.then(tell);
    else tell();
  }
  renderList();
  renderIfOpen(conv);
  updateTitle();
}

function alertHidden(name, text) {
  if (!state.notify) return;
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(t("app.title") + " — " + name, { body: text.slice(0, 140), tag: "soporte" });
  }
  if (state.audio) {
    const osc = state.audio.createOscillator();
    const gain = state.audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, state.audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, state.audio.currentTime + 0.25);
    osc.connect(gain).connect(state.audio.destination);
    osc.start();
    osc.stop(state.audio.currentTime + 0.25);
  }
}

async function resync() {
  if (isAgent()) {
    await refreshList();
    const conv = openConversation();
    if (conv) await catchUp(conv);
  } else {
    await catchUp(openConversation());
  }
  renderAll();
}

function connect() {
  const socket = io({ withCredentials: true });
  state.socket = socket;
  socket.on("connect", async () => {
    if (state.everConnected) showStatus(t("conn.back"), { autoHide: true });
    else showStatus("");
    state.everConnected = true;
    setConnection("conectando");
    // Connected (rooms joined) first, then fetch: nothing falls between the two.
    await resync();
    if (socket.connected) setConnection("al-dia");
  });
  socket.on("disconnect", (reason) => {
    setConnection("perdida");
    if (reason === "io server disconnect") return goToLogin();
    showStatus(t("conn.lost"));
  });
  socket.on("connect_error", (err) => {
    if (AUTH_REFUSALS.has(err.message)) return goToLogin();
    showStatus(navigator.onLine ? t("conn.unavailable") : t("conn.lost"));
  });
  // The browser knows at once when the network goes away; the socket would only notice at
  // the next missed heartbeat, most of a minute later, and meanwhile sends would vanish
  // into the dead connection. Close it now: the banner shows, sends wait for the
  // reconnection, and socket.io keeps retrying until the network is back.
  window.addEventListener("offline", () => {
    if (socket.connected) socket.io.engine.close();
    showStatus(t("conn.lost"));
  });
  socket.on("mensaje_recibido", onMessage);
  socket.on("sincronizar", () => resync());
  socket.on("sesion_terminada", () => {
    showStatus(t("session.ended"));
    setTimeout(goToLogin, 1500);
  });
}

// ---------------------------------------------------------------- start

function wireUi() {
  dom.form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  dom.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  dom.thread.addEventListener("scroll", () => {
    if (dom.thread.scrollTop < 80) loadOlder();
  });
  dom.filter.addEventListener("input", onFilterInput);
  dom.back.addEventListener("click", () => {
    document.body.classList.remove("viendo-hilo");
    dom.back.hidden = true;
    dom.filter.focus();
  });
  document.getElementById("idioma").addEventListener("click", () => {
    toggleLanguage();
    renderAll();
    updateNotifyButton();
  });
  document.getElementById("salir").addEventListener("click", async () => {
    try {
      await api.logout();
    } finally {
      goToLogin();
    }
  });
  dom.notify.addEventListener("click", async () => {
    if (state.notify) {
      state.notify = false;
    } else {
      state.audio = state.audio || new AudioContext();
      const permission = "Notification" in window ? await Notification.requestPermission() : "denied";
      state.notify = true; // the sound works even when notifications are blocked
      if (permission !== "granted") showStatus(t("notify.denied"), { autoHide: true });
    }
    localStorage.setItem("soporte.avisos", state.notify ? "1" : "0");
    updateNotifyButton();
  });
  window.addEventListener("pagehide", flushReadMarks);
  document.addEventListener("visibilitychange", () => {
    const conv = openConversation();
    if (!document.hidden && conv) {
      conv.unread = 0;
      markRead(conv);
      renderList();
      updateTitle();
    }
  });
}

function updateNotifyButton() {
  dom.notify.setAttribute("aria-pressed", String(state.notify));
  dom.notify.textContent = state.notify ? t("notify.on") : t("notify.enable");
}

async function main() {
  applyTranslations();
  try {
    state.me = await api.me();
  } catch {
    return goToLogin();
  }
  document.body.dataset.rol = state.me.rol;
  dom.who.textContent = state.me.nombre;
  dom.who.dir = "auto";
  dom.listPanel.hidden = !isAgent();
  updateNotifyButton();
  wireUi();
  if (!isAgent()) {
    conversation(state.me.usuario, state.me.nombre);
    state.open = state.me.usuario;
    document.body.classList.add("viendo-hilo");
  }
  renderAll();
  connect();
  dom.text.focus();
}

main();
