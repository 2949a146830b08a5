import { api, ApiError } from "./api.js";
import { applyTranslations, t, toggleLanguage } from "./i18n.js";

const error = document.getElementById("login-error");
const forms = { entrar: document.getElementById("form-login"), registro: document.getElementById("form-registro") };
const tabs = { entrar: document.getElementById("tab-entrar"), registro: document.getElementById("tab-registro") };

function show(which) {
  for (const name of Object.keys(forms)) {
    forms[name].hidden = name !== which;
    tabs[name].setAttribute("aria-selected", String(name === which));
  }
  error.textContent = "";
  forms[which].querySelector("input").focus();
}

function fail(err) {
  error.textContent = err instanceof ApiError ? t("login.failed", { error: err.message }) : t("login.network");
}

async function enter(usuario, password) {
  await api.login(usuario, password);
  window.location.assign("/soporte");
}

tabs.entrar.addEventListener("click", () => show("entrar"));
tabs.registro.addEventListener("click", () => show("registro"));
document.getElementById("idioma").addEventListener("click", toggleLanguage);

forms.entrar.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(forms.entrar);
  try {
    await enter(String(data.get("usuario")).trim(), String(data.get("password")));
  } catch (err) {
    fail(err);
  }
});

forms.registro.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(forms.registro);
  const usuario = String(data.get("usuario")).trim();
  try {
    await api.register(usuario, String(data.get("nombre")), String(data.get("password")));
    await enter(usuario, String(data.get("password")));
  } catch (err) {
    fail(err);
  }
});

applyTranslations();
// Already signed in? Straight to the chat.
api.me().then(() => window.location.assign("/soporte"), () => forms.entrar.querySelector("input").focus());
