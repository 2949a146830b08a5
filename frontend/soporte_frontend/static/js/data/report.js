// The support lead's report (`GET /api/informes?dias=`): durations as people read them.
// Pure data.

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const UNITS = [
  [DAY, "d"],
  [HOUR, "h"],
  [MINUTE, "min"],
  [1, "s"],
];

/** Seconds as at most two units, largest first ("1 h 20 min", "45 s", "2 d 3 h"); null
 * (no conversation to measure) as "—". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  let left = Math.round(seconds);
  if (left < 1) return "0 s";
  const parts = [];
  for (const [size, unit] of UNITS) {
    if (left >= size && parts.length < 2) {
      const count = Math.floor(left / size);
      parts.push(`${count} ${unit}`);
      left -= count * size;
    } else if (parts.length) {
      break; // no "1 d 5 s": the second unit is the next one down
    }
  }
  return parts.join(" ");
}

/** The report's table: the team first, then each agent (by name). `report` is
 * `GET /api/informes`'s answer; `nameOf(usuario)` an agent's display name. Each row:
 * {key, name, abiertas, resueltas, primera: {mediana, p90}, resolucion: {mediana, p90}}. */
export function reportRows(report, nameOf) {
  const row = (key, name, figures) => ({
    key,
    name,
    abiertas: figures.abiertas ?? null,
    resueltas: figures.resueltas ?? null,
    primera: figures.primera_respuesta ?? { mediana: null, p90: null },
    resolucion: figures.resolucion ?? { mediana: null, p90: null },
  });
  const agents = (report.por_agente ?? [])
    .map((figures) => row(figures.agente, figures.nombre ?? nameOf(figures.agente), figures))
    .sort((a, b) => a.name.localeCompare(b.name));
  return [row(null, null, report), ...agents];
}
