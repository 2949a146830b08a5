// Presence as the page knows it: the agents and their states (an agent's page), whether
// support is there (a customer's), when an agent's page says its tab went idle, and how
// the team's usual response time reads.
// Pure data: no DOM, no network; the signal itself is the `send` function the page passes.

/** The contract's PRESENCE_STATES, written here so that this module loads without the
 * served contract; frontend/tests/test_pages.py checks that the two agree. */
export const PRESENCE = Object.freeze({ ONLINE: "en_linea", AWAY: "ausente", OFFLINE: "desconectado" });

const ORDER = [PRESENCE.ONLINE, PRESENCE.AWAY, PRESENCE.OFFLINE];

/** The agents (`GET /api/agentes`, then each `presencia {usuario, nombre, estado}`). */
export class Team {
  #agents = new Map(); // usuario → {usuario, nombre, estado}

  /** The whole list (after each connection: changes may have been missed). */
  set(agents) {
    this.#agents = new Map(agents.map((agent) => [agent.usuario, { ...agent }]));
  }

  /** One agent's change. Returns whether anything changed. */
  seen({ usuario, nombre, estado }) {
    const known = this.#agents.get(usuario);
    if (known && known.nombre === nombre && known.estado === estado) return false;
    this.#agents.set(usuario, { usuario, nombre, estado });
    return true;
  }

  get(usuario) {
    return this.#agents.get(usuario) ?? null;
  }

  stateOf(usuario) {
    return this.#agents.get(usuario)?.estado ?? PRESENCE.OFFLINE;
  }

  /** Every agent: online first, then away, then offline; by name within each. */
  all() {
    const rank = (agent) => {
      const at = ORDER.indexOf(agent.estado);
      return at < 0 ? ORDER.length : at;
    };
    return [...this.#agents.values()].sort(
      (a, b) => rank(a) - rank(b) || a.nombre.localeCompare(b.nombre) || a.usuario.localeCompare(b.usuario),
    );
  }

  online() {
    return this.all().filter((agent) => agent.estado === PRESENCE.ONLINE).length;
  }
}

/** An agent's tab tells the server it went idle once it has been hidden for `delayMs`,
 * and that it is back when shown again (the agent is away only while every one of its
 * tabs is idle: the server counts them). `send(idle)`: the `presencia {inactiva}` signal. */
export class AwayWhenHidden {
  #timer = null;
  #idle = false; // what the server was last told about this tab

  constructor({ delayMs, send }) {
    this.delayMs = delayMs;
    this.send = send;
  }

  hidden() {
    if (this.#timer !== null || this.#idle) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#idle = true;
      this.send(true);
    }, this.delayMs);
  }

  visible() {
    clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#idle) return;
    this.#idle = false;
    this.send(false);
  }

  /** A new connection starts as an active tab on the server; a hidden page starts
   * counting again. */
  connected(hidden) {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#idle = false;
    if (hidden) this.hidden();
  }
}

/** Whether support is there (`soporte_disponible {en_linea}`): null until told. */
export class SupportAvailability {
  online = null;

  /** Returns whether it changed from something known (worth telling the person). */
  set(online) {
    const before = this.online;
    this.online = Boolean(online);
    return before !== null && before !== this.online;
  }
}

/** The team's median first response (`mediana_segundos`) as a text's key and number:
 * `{unit: "under" | "minute" | "minutes" | "hour" | "hours" | "day" | "days", n}`, or
 * null when there is no measure (nothing is said then). */
export function responseTime(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 60) return { unit: "under", n: 0 };
  const round = (size) => Math.max(1, Math.round(seconds / size));
  if (seconds < 59.5 * 60) return countOf(round(60), "minute");
  if (seconds < 23.5 * 3600) return countOf(round(3600), "hour");
  return countOf(round(86400), "day");
}

const countOf = (n, unit) => ({ unit: n === 1 ? unit : `${unit}s`, n });
