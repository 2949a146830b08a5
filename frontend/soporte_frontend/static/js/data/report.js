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

/** The report's table (`GET /api/informes`'s answer): the team first, then each agent
 * by name. Each row: {key (the agent, null for the team), name, abiertas (the team's
 * only), resueltas, respondidas (first responses), primera and resolucion: {mediana, p90}
 * in seconds or null}. An agent's resolved conversations are those resolved while they
 * held them. */
export function reportRows(report) {
  const durations = (d) => ({ mediana: d.mediana_segundos, p90: d.p90_segundos });
  const team = {
    key: null,
    name: null,
    abiertas: report.abiertas,
    resueltas: report.resueltas,
    respondidas: report.primera_respuesta.n,
    primera: durations(report.primera_respuesta),
    resolucion: durations(report.resolucion),
  };
  const agents = report.por_agente
    .map((agent) => ({
      key: agent.agente,
      name: agent.nombre,
      abiertas: null,
      resueltas: agent.resolucion.n,
      respondidas: agent.primera_respuesta.n,
      primera: durations(agent.primera_respuesta),
      resolucion: durations(agent.resolucion),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return [team, ...agents];
}
