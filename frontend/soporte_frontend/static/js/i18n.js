// The pages' language: Spanish by default, the choice remembered per browser; the strings
// themselves are in strings.js. Elements opt in with data-i18n (text), data-i18n-label
// (aria-label) and data-i18n-placeholder.

import { STRINGS } from "./strings.js";

const KEY = "soporte.idioma";
// A framed page (the website widget) may be denied storage: then the default.
export let lang = remembered() || "es";

function remembered() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}
if (!STRINGS[lang]) lang = "es";

/** A page's own strings (`{es: {...}, en: {...}}`), added to the shared ones. */
export function addStrings(extra) {
  for (const [language, strings] of Object.entries(extra)) Object.assign(STRINGS[language], strings);
}

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

/** Speak `code` on this page only, not remembered (the website widget follows its host
 * page's language). */
export function useLanguage(code) {
  if (STRINGS[code]) lang = code;
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
