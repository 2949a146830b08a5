import assert from "node:assert/strict";
import { test } from "node:test";

import { formatDuration, reportRows } from "../../soporte_frontend/static/js/data/report.js";
import { customSnooze, latestSnooze, snoozePresets, toLocalInput } from "../../soporte_frontend/static/js/data/snooze.js";
import { fold, highlight, queryWords } from "../../soporte_frontend/static/js/data/text.js";

const marked = (pieces) => pieces.filter((p) => p.match).map((p) => p.text);

test("folding ignores case and accents", () => {
  assert.equal(fold("Envío ÁRBOL"), "envio arbol");
  assert.deepEqual(queryWords("  ¿Envío, rápido? "), ["envio", "rapido"]);
});

test("highlights: every query word, any case, any accent; the pieces are the text exactly", () => {
  const text = "El ENVÍO del reembolso: envio y reembolsos.";
  const pieces = highlight(text, "envio reembolso");
  assert.equal(pieces.map((p) => p.text).join(""), text);
  assert.deepEqual(marked(pieces), ["ENVÍO", "reembolso", "envio", "reembolso"]);
});

test("highlights: a plural query word marks the singular too; overlapping words mark once", () => {
  assert.deepEqual(marked(highlight("un pedido y dos pedidos", "pedidos")), ["pedido", "pedidos"]);
  assert.deepEqual(marked(highlight("abcdef", "abcd cdef")), ["abcdef"]);
});

test("highlights: text already decomposed, and hostile text, stay exactly what they were", () => {
  const decomposed = "Env\u0131\u0301o y envi\u0301o";
  assert.equal(highlight(decomposed, "envio").map((p) => p.text).join(""), decomposed);
  assert.deepEqual(marked(highlight(decomposed, "envio")), ["envi\u0301o"]);
  const hostile = '<img src=x onerror="alert(1)"> reembolso';
  const pieces = highlight(hostile, "reembolso");
  assert.equal(pieces[0].text, '<img src=x onerror="alert(1)"> ');
  assert.deepEqual(marked(pieces), ["reembolso"]);
  assert.deepEqual(highlight("nada aquí", "reembolso"), [{ text: "nada aquí", match: false }]);
});

test("snooze presets: in an hour, tomorrow at 9:00, next Monday at 9:00 (local time)", () => {
  const wednesday = new Date(2025, 10, 26, 16, 30); // Wed 26 Nov 2025, 16:30
  const [hour, tomorrow, week] = snoozePresets(wednesday);
  assert.deepEqual([hour.key, tomorrow.key, week.key], ["hora", "manana", "semana"]);
  assert.equal(hour.hasta.getTime() - wednesday.getTime(), 3600 * 1000);
  assert.equal(toLocalInput(tomorrow.hasta), "2025-11-27T09:00");
  assert.equal(toLocalInput(week.hasta), "2025-12-01T09:00");
  const monday = new Date(2025, 11, 1, 8, 0); // on a Monday, next week is the next Monday
  assert.equal(toLocalInput(snoozePresets(monday)[2].hasta), "2025-12-08T09:00");
});

test("a custom snooze time must be a time, later than now and at most a year ahead", () => {
  const now = new Date(2025, 10, 26, 16, 30);
  assert.equal(toLocalInput(customSnooze("2025-11-26T17:00", now)), "2025-11-26T17:00");
  assert.equal(toLocalInput(customSnooze("2026-11-26T16:00", now)), "2026-11-26T16:00");
  assert.equal(customSnooze("2026-11-27T16:00", now), null);
  assert.equal(toLocalInput(latestSnooze(now)), "2026-11-26T16:30");
  assert.equal(customSnooze("2025-11-26T16:00", now), null);
  assert.equal(customSnooze("", now), null);
  assert.equal(customSnooze("mañana", now), null);
});

test("durations read as at most two units", () => {
  assert.equal(formatDuration(null), "—");
  assert.equal(formatDuration(0.2), "0 s");
  assert.equal(formatDuration(45), "45 s");
  assert.equal(formatDuration(4805), "1 h 20 min");
  assert.equal(formatDuration(7199), "1 h 59 min");
  assert.equal(formatDuration(7200), "2 h");
  assert.equal(formatDuration(3 * 86400 + 5), "3 d");
  assert.equal(formatDuration(86400 + 3 * 3600 + 100), "1 d 3 h");
});

test("the report's table: the team first with its openings, then each agent by name", () => {
  const durations = (n, mediana, p90) => ({ n, mediana_segundos: mediana, p90_segundos: p90 });
  const rows = reportRows({
    dias: 7,
    desde: "2025-11-21T00:00:00Z",
    abiertas: 12,
    resueltas: 9,
    primera_respuesta: durations(10, 95, 600),
    resolucion: durations(9, 3600, 7200),
    por_agente: [
      { agente: "zoe", nombre: "Zoe", primera_respuesta: durations(0, null, null), resolucion: durations(2, 60, 90) },
      { agente: "ana", nombre: "Ana", primera_respuesta: durations(10, 95, 600), resolucion: durations(7, 4000, 7200) },
    ],
  });
  assert.deepEqual(rows.map((r) => [r.key, r.abiertas, r.resueltas, r.respondidas]), [
    [null, 12, 9, 10],
    ["ana", null, 7, 10],
    ["zoe", null, 2, 0],
  ]);
  assert.deepEqual(rows[0].primera, { mediana: 95, p90: 600 });
  assert.deepEqual(rows[2].primera, { mediana: null, p90: null });
});
