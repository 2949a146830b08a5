// Every string the pages show, once per language. Spanish is the default; the choice is
// remembered per browser. Elements opt in with data-i18n (text), data-i18n-label
// (aria-label) and data-i18n-placeholder.

const STRINGS = {
  es: {
    "app.title": "Soporte",
    "lang.switch": "English",
    "login.pagetitle": "Soporte — Entrar",
    "login.subtitle": "Habla con nuestro equipo en tiempo real.",
    "login.tab": "Entrar",
    "login.submit": "Entrar",
    "register.tab": "Crear cuenta",
    "register.submit": "Crear cuenta y entrar",
    "field.username": "Usuario",
    "field.username.help": "2–32 letras minúsculas, números, punto, guion.",
    "field.name": "Nombre",
    "field.password": "Contraseña",
    "field.password.help": "Al menos 8 caracteres.",
    "login.failed": "No se pudo entrar: {error}",
    "login.network": "No hay conexión con el servidor. Inténtalo de nuevo.",
    "logout": "Salir",
    "logout.network": "No se pudo cerrar la sesión: no hay conexión con el servidor. Sigue abierta; inténtalo de nuevo.",
    "notify.enable": "Activar avisos",
    "notify.on": "Avisos activados",
    "notify.denied": "El navegador bloqueó los avisos",
    "list.title": "Conversaciones",
    "list.filter": "Filtrar conversaciones",
    "list.empty": "Aún no hay conversaciones.",
    "list.nomatch": "Ninguna conversación coincide con el filtro.",
    "list.back": "Volver a la lista",
    "list.unread": "{n} sin leer",
    "thread.label": "Mensajes",
    "thread.none": "Elige una conversación de la lista.",
    "thread.support": "Equipo de soporte",
    "thread.with": "Conversación con {name}",
    "thread.empty": "Escribe tu consulta y el equipo de soporte te responderá aquí.",
    "thread.older": "Cargando mensajes anteriores…",
    "composer.label": "Escribe un mensaje",
    "composer.placeholder": "Escribe un mensaje (Enter envía, Mayús+Enter salta de línea)",
    "composer.send": "Enviar",
    "message.you": "Tú",
    "message.sending": "Enviando…",
    "message.failed": "No enviado: {error}",
    "message.retry": "Reintentar",
    "message.timeout": "sin respuesta del servidor",
    "conn.lost": "Sin conexión. Reconectando…",
    "conn.back": "Conexión recuperada.",
    "conn.unavailable": "El servicio no está disponible. Reintentando…",
    "session.ended": "Tu sesión terminó. Vuelve a entrar.",
    "announce.new": "Nuevo mensaje de {name}: {text}",
    "history.retry": "El historial no está disponible todavía; reintentando…",
  },
  en: {
    "app.title": "Support",
    "lang.switch": "Español",
    "login.pagetitle": "Support — Sign in",
    "login.subtitle": "Talk to our team in real time.",
    "login.tab": "Sign in",
    "login.submit": "Sign in",
    "register.tab": "Create account",
    "register.submit": "Create account and sign in",
    "field.username": "Username",
    "field.username.help": "2–32 lowercase letters, digits, dot, dash.",
    "field.name": "Name",
    "field.password": "Password",
    "field.password.help": "At least 8 characters.",
    "login.failed": "Could not sign in: {error}",
    "login.network": "Cannot reach the server. Please try again.",
    "logout": "Sign out",
    "logout.network": "Could not sign out: the server cannot be reached. You are still signed in; please try again.",
    "notify.enable": "Notify me",
    "notify.on": "Notifications on",
    "notify.denied": "The browser blocked notifications",
    "list.title": "Conversations",
    "list.filter": "Filter conversations",
    "list.empty": "No conversations yet.",
    "list.nomatch": "No conversation matches the filter.",
    "list.back": "Back to the list",
    "list.unread": "{n} unread",
    "thread.label": "Messages",
    "thread.none": "Pick a conversation from the list.",
    "thread.support": "Support team",
    "thread.with": "Conversation with {name}",
    "thread.empty": "Write your question and the support team will answer here.",
    "thread.older": "Loading earlier messages…",
    "composer.label": "Write a message",
    "composer.placeholder": "Write a message (Enter sends, Shift+Enter for a new line)",
    "composer.send": "Send",
    "message.you": "You",
    "message.sending": "Sending…",
    "message.failed": "Not sent: {error}",
    "message.retry": "Retry",
    "message.timeout": "no answer from the server",
    "conn.lost": "Connection lost. Reconnecting…",
    "conn.back": "Back online.",
    "conn.unavailable": "The service is unavailable. Retrying…",
    "session.ended": "Your session ended. Please sign in again.",
    "announce.new": "New message from {name}: {text}",
    "history.retry": "History is not available yet; retrying…",
  },
};

const KEY = "soporte.idioma";
export let lang = localStorage.getItem(KEY) || "es";
if (!STRINGS[lang]) lang = "es";

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.es[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function applyTranslations(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

export function toggleLanguage() {
  lang = lang === "es" ? "en" : "es";
  localStorage.setItem(KEY, lang);
  applyTranslations();
}

export function formatTime(iso) {
  const date = new Date(iso);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  const locale = lang === "es" ? "es-ES" : "en-GB";
  return sameDay
    ? date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString(locale, { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
}
