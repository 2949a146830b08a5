// What every agents-only page (report, audit) does first: translate the page, check the
// session, send a customer back to their conversation, show the agent's name.

import { api, goToLogin } from "./api.js";
import { applyTranslations, t } from "./i18n.js";

export const AGENT_ROLE = "admin";

/** The signed-in agent's profile, or null when the page is leaving (login, or a customer). */
export async function openAgentPage(titleKey) {
  applyTranslations();
  document.title = t(titleKey);
  let profile;
  try {
    profile = await api.me();
  } catch {
    goToLogin();
    return null;
  }
  if (profile.rol !== AGENT_ROLE) {
    window.location.assign("/soporte");
    return null;
  }
  document.getElementById("quien").textContent = profile.nombre;
  return profile;
}
