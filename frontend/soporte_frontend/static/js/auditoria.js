// The agents' audit page: who did what to whom and when (`GET /api/auditoria`), newest
// first, filtered by agent, action and target, a page at a time. Customers are sent back
// to their conversation. Every value is shown as text.

import { openAgentPage } from "./agent-page.js";
import { api, ApiError, goToLogin } from "./api.js";
import { AUDIT_ACTIONS } from "./contract.js";
import { AUDIT_STRINGS } from "./audit-strings.js";
import { addStrings, formatTime, t, toggleLanguage } from "./i18n.js";

const PAGE = 50;
const $ = (id) => document.getElementById(id);

const shown = []; // the events on screen, newest first
let filters = {};

function cell(text) {
  const td = document.createElement("td");
  td.dir = "auto";
  td.textContent = text;
  return td;
}

function row(event) {
  const tr = document.createElement("tr");
  tr.dataset.id = String(event.id);
  tr.dataset.accion = event.accion;
  const when = document.createElement("time");
  when.dateTime = event.fecha;
  when.textContent = formatTime(event.fecha);
  const first = document.createElement("td");
  first.append(when);
  const details = Object.entries(event.detalles ?? {})
    .map(([key, value]) => `${key}: ${value ?? "—"}`)
    .join(", ");
  tr.append(
    first,
    cell(event.agente ?? t("audit.nobody")),
    cell(t(`audit.action.${event.accion}`)),
    cell(event.objetivo),
    cell(details),
  );
  return tr;
}

function renderActions() {
  const select = $("filtro-accion");
  const chosen = select.value;
  select.replaceChildren(
    new Option(t("audit.any"), ""),
    ...Object.values(AUDIT_ACTIONS).map((accion) => new Option(t(`audit.action.${accion}`), accion)),
  );
  select.value = chosen;
}

function render(hasMore) {
  $("eventos").tBodies[0].replaceChildren(...shown.map(row));
  $("eventos").hidden = !shown.length;
  $("auditoria-estado").hidden = shown.length > 0;
  $("auditoria-estado").textContent = t("audit.empty");
  $("mas-antiguas").hidden = !hasMore;
}

/** A page of the trail: the first (`more` false) or the one after the last shown. */
async function load(more) {
  const params = { ...filters, limit: PAGE };
  if (more && shown.length) params.antes = shown[shown.length - 1].id;
  let page;
  try {
    page = await api.auditTrail(params);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return goToLogin();
    $("auditoria-estado").hidden = false;
    $("auditoria-estado").textContent = t("audit.failed", { error: err.message });
    return;
  }
  if (!more) shown.length = 0;
  shown.push(...page.eventos);
  render(page.hay_mas);
}

async function main() {
  addStrings(AUDIT_STRINGS);
  if (!(await openAgentPage("audit.pagetitle"))) return;
  renderActions();
  $("filtros").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    filters = Object.fromEntries([...form].filter(([, value]) => String(value).trim()));
    load(false);
  });
  $("mas-antiguas").addEventListener("click", () => load(true));
  $("idioma").addEventListener("click", () => {
    toggleLanguage();
    document.title = t("audit.pagetitle");
    renderActions();
    render(!$("mas-antiguas").hidden);
  });
  await load(false);
}

main();
