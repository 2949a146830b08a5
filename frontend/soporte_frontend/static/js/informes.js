// The agents' report page: the last 7 and 30 days, for the team and each agent —
// conversations opened and resolved, median and p90 of the first response and of the
// resolution time. Customers are sent back to their conversation.

import { openAgentPage } from "./agent-page.js";
import { api, ApiError, goToLogin } from "./api.js";
import { formatDuration, reportRows } from "./data/report.js";
import { t, toggleLanguage } from "./i18n.js";

const PERIODS = [7, 30];
const $ = (id) => document.getElementById(id);

const COLUMNS = [
  ["report.opened", (row) => count(row.abiertas)],
  ["report.resolved", (row) => count(row.resueltas)],
  ["report.answered", (row) => count(row.respondidas)],
  ["report.first.median", (row) => formatDuration(row.primera.mediana)],
  ["report.first.p90", (row) => formatDuration(row.primera.p90)],
  ["report.resolution.median", (row) => formatDuration(row.resolucion.mediana)],
  ["report.resolution.p90", (row) => formatDuration(row.resolucion.p90)],
];

function count(n) {
  return n === null ? "—" : String(n);
}

function table(rows, dias) {
  const node = document.createElement("table");
  const caption = document.createElement("caption");
  caption.className = "solo-lectores";
  caption.textContent = t(`report.days${dias}`);
  const head = document.createElement("tr");
  const corner = document.createElement("th");
  corner.scope = "col";
  corner.textContent = t("report.who");
  head.append(corner);
  for (const [key] of COLUMNS) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = t(key);
    head.append(th);
  }
  const body = rows.map((row) => {
    const tr = document.createElement("tr");
    tr.dataset.agente = row.key ?? "";
    const th = document.createElement("th");
    th.scope = "row";
    th.dir = "auto";
    th.textContent = row.key === null ? t("report.team") : row.name; // always text
    tr.append(th);
    for (const [key, cell] of COLUMNS) {
      const td = document.createElement("td");
      td.dataset.columna = key;
      td.textContent = cell(row);
      tr.append(td);
    }
    return tr;
  });
  const thead = document.createElement("thead");
  thead.append(head);
  const tbody = document.createElement("tbody");
  tbody.append(...body);
  node.append(caption, thead, tbody);
  return node;
}

function render(reports) {
  for (const [dias, report] of reports) {
    const section = $(`informe-${dias}`);
    section.querySelector(".tabla-informe").replaceChildren(table(reportRows(report), dias));
    section.hidden = false;
  }
  $("informe-estado").hidden = true;
}

async function main() {
  if (!(await openAgentPage("report.pagetitle"))) return;
  let reports;
  try {
    reports = await Promise.all(PERIODS.map(async (dias) => [dias, await api.report(dias)]));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return goToLogin();
    $("informe-estado").textContent = t("report.failed", { error: err.message });
    return;
  }
  render(reports);
  $("idioma").addEventListener("click", () => {
    toggleLanguage();
    document.title = t("report.pagetitle");
    render(reports);
  });
}

main();
