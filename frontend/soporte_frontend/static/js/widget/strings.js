// The widget's own strings, es/en (the language of its host page: `lang` in its URL).
// What it shares with the soporte page (sending, retrying, "You") comes from strings.js (through i18n.js).

import { t as shared, useLanguage } from "../i18n.js";

const STRINGS = {
  es: {
    title: "Soporte",
    close: "Cerrar el chat",
    messages: "Mensajes",
    empty: "Escribe tu consulta y el equipo de soporte te responderá aquí.",
    composer: "Escribe un mensaje",
    placeholder: "Escribe tu mensaje (Enter envía)",
    send: "Enviar",
    connecting: "Conectando…",
    lost: "Sin conexión. Reconectando…",
    starting: "No se pudo empezar la conversación: {error}",
    identity: "No pudimos confirmar quién eres en este sitio; recarga la página. Mientras, el chat no envía nada.",
    ended: "La conversación se cerró en este navegador.",
    unavailable: "El servicio no está disponible. Reintentando…",
    timeout: "El servicio no responde; inténtalo de nuevo en un momento.",
  },
  en: {
    title: "Support",
    close: "Close the chat",
    messages: "Messages",
    empty: "Write your question and the support team will answer here.",
    composer: "Write a message",
    placeholder: "Write your message (Enter sends)",
    send: "Send",
    connecting: "Connecting…",
    lost: "Connection lost. Reconnecting…",
    starting: "The conversation could not start: {error}",
    identity: "We could not confirm who you are on this site; please reload the page. Meanwhile the chat sends nothing.",
    ended: "The conversation was closed in this browser.",
    unavailable: "The service is unavailable. Retrying…",
    timeout: "The service is not answering; please try again in a moment.",
  },
};

let lang = "es";

/** The host page's language for the widget and for the shared strings. */
export function setLanguage(code) {
  lang = STRINGS[code] ? code : "es";
  useLanguage(lang);
  document.documentElement.lang = lang;
}

/** A widget string, or a shared one (i18n.js) by its key. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key];
  if (text === undefined) return shared(key, vars);
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  for (const el of root.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
}
