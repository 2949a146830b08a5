// Presence on the page. An agent sees their own state in the header with an Away switch,
// and the team (everyone's state) in a small roster; a customer sees whether support is
// online, what to expect when nobody is, and how fast the team usually answers.
// States are said in words, never by colour alone.

import { PRESENCE } from "../data/presence.js";
import { t } from "../i18n.js";

/** The agent's own state and Away switch, and the team's roster. */
export class TeamView {
  /** `onAway(away)`: the agent asked to be away (true) or online again (false). */
  constructor({ team, me, elements, onAway }) {
    this.team = team;
    this.me = me;
    this.el = elements; // {mine, mineText, away, roster, summary, list}
    elements.mine.hidden = false;
    elements.away.hidden = false;
    elements.roster.hidden = false;
    elements.away.addEventListener("click", () => onAway(this.team.stateOf(this.me) !== PRESENCE.AWAY));
  }

  /** Draws everything again (a change, the whole list, the language). */
  render() {
    const mine = this.team.stateOf(this.me);
    this.el.mine.dataset.estado = mine;
    this.el.mineText.textContent = t("presence.mine", { state: t(`presence.${mine}`) });
    this.el.away.setAttribute("aria-pressed", String(mine === PRESENCE.AWAY));
    this.el.away.textContent = t("presence.away");
    this.el.summary.textContent = t("team.summary", { n: this.team.online() });
    this.el.list.replaceChildren(...this.team.all().map((agent) => this.#row(agent)));
  }

  #row(agent) {
    const li = document.createElement("li");
    li.className = "miembro";
    li.dataset.usuario = agent.usuario;
    li.dataset.estado = agent.estado;
    const dot = document.createElement("span");
    dot.className = "punto";
    dot.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "nombre";
    name.dir = "auto";
    name.textContent = agent.usuario === this.me ? t("team.you", { name: agent.nombre }) : agent.nombre;
    const state = document.createElement("span");
    state.className = "estado";
    state.textContent = t(`presence.${agent.estado}`);
    li.append(dot, name, " ", state);
    return li;
  }
}

/** The customer's view of support: online or not (and then what happens to their
 * message), and the team's usual response time when it has been measured. */
export class SupportView {
  constructor({ support, elements, announce }) {
    this.support = support;
    this.el = elements; // {box, availability, text, time}
    this.announce = announce;
    this.time = null; // data/presence.js responseTime(), or null: nothing is said
  }

  /** `changed`: it flipped while the page was open (a screen reader hears it once). */
  render({ changed = false } = {}) {
    const online = this.support.online;
    this.el.box.hidden = online === null && !this.time;
    this.el.availability.hidden = online === null;
    if (online !== null) {
      this.el.availability.dataset.estado = online ? PRESENCE.ONLINE : PRESENCE.OFFLINE;
      this.el.text.textContent = t(online ? "support.online" : "support.offline");
      if (changed) this.announce(this.el.text.textContent);
    }
    this.el.time.hidden = !this.time;
    this.el.time.textContent = this.time ? t(`support.time.${this.time.unit}`, { n: this.time.n }) : "";
  }

  responseTime(time) {
    this.time = time;
    this.render();
  }
}
