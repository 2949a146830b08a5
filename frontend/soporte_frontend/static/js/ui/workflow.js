// The open conversation's status and assignee, and what the agent can do about them:
// resolve, reopen, mark as waiting for the customer, snooze (presets or a time of their
// own), assign to themselves or to another agent, unassign. Refusals show in the alert
// line under the buttons ("Ana took it a moment ago").

import { CONVERSATION_STATES as STATES, PRESENCE_STATES } from "../contract.js";
import { customSnooze, latestSnooze, snoozePresets, toLocalInput } from "../data/snooze.js";
import { formatTime, t } from "../i18n.js";

export class WorkflowBar {
  #agents = []; // [{usuario, nombre, estado}]

  /** `onStatus(estado, hasta)`, `onAssign(agente)`: what the agent asked for (`agente`
   * null: nobody); `nameOf(usuario)`: an agent's display name. */
  constructor({ store, me, elements, nameOf, onStatus, onAssign }) {
    this.store = store;
    this.me = me;
    this.el = elements;
    this.nameOf = nameOf;
    const el = elements;
    el.resolve.addEventListener("click", () => onStatus(STATES.RESOLVED));
    el.reopen.addEventListener("click", () => onStatus(STATES.OPEN));
    el.pending.addEventListener("click", () => onStatus(STATES.PENDING));
    el.snooze.addEventListener("click", () => this.#toggleSnoozeMenu());
    for (const preset of el.snoozeMenu.querySelectorAll("[data-preset]")) {
      preset.addEventListener("click", () => {
        const { hasta } = snoozePresets(new Date()).find((p) => p.key === preset.dataset.preset);
        this.#closeSnoozeMenu();
        onStatus(STATES.SNOOZED, hasta.toISOString());
      });
    }
    el.snoozeApply.addEventListener("click", () => {
      const hasta = customSnooze(el.snoozeAt.value, new Date());
      if (!hasta) return this.notice(t("snooze.invalid"));
      this.#closeSnoozeMenu();
      onStatus(STATES.SNOOZED, hasta.toISOString());
    });
    el.snoozeMenu.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      this.#closeSnoozeMenu();
      el.snooze.focus();
    });
    el.assignMe.addEventListener("click", () => onAssign(this.me));
    el.unassign.addEventListener("click", () => onAssign(null));
    el.assignTo.addEventListener("change", () => {
      const agente = el.assignTo.value;
      el.assignTo.value = "";
      if (agente) onAssign(agente);
    });
  }

  /** The agents one can assign to (`GET /api/agentes`). */
  setAgents(agents) {
    this.#agents = agents;
    this.show();
  }

  /** Draws the bar for the open conversation (a new one was opened, or the language). */
  show() {
    const conv = this.store.open;
    this.el.box.hidden = !conv;
    this.notice("");
    this.#closeSnoozeMenu();
    if (conv) this.#render(conv);
  }

  /** `conv`'s status or assignee changed. */
  update(conv) {
    if (conv === this.store.open) this.#render(conv);
  }

  /** What went wrong ("" clears it). */
  notice(text) {
    this.el.notice.textContent = text;
    this.el.notice.hidden = !text;
  }

  #render(conv) {
    const el = this.el;
    const status = conv.status;
    const when = conv.pospuestaHasta ? formatTime(conv.pospuestaHasta) : "";
    const holder = conv.asignado;
    const assignee = !holder
      ? t("workflow.nobody")
      : holder === this.me
        ? t("list.assigned.you")
        : t("list.assigned", { name: this.nameOf(holder) });
    el.state.textContent = `${t(`status.${status}`, { time: when })} · ${assignee}`;
    el.box.dataset.estado = status;
    el.resolve.hidden = status === STATES.RESOLVED;
    el.reopen.hidden = status === STATES.OPEN;
    el.pending.hidden = status === STATES.PENDING;
    el.assignMe.hidden = holder === this.me;
    el.unassign.hidden = !holder;
    this.#renderPicker(holder);
  }

  /** The other agents, each with its presence when it is not en_linea. */
  #renderPicker(holder) {
    const choose = new Option(t("workflow.assign.choose"), "");
    const others = this.#agents
      .filter((agent) => agent.usuario !== this.me && agent.usuario !== holder)
      .map((agent) => {
        const away = agent.estado && agent.estado !== PRESENCE_STATES.ONLINE;
        const label = away ? t(`workflow.agent.${agent.estado}`, { name: agent.nombre }) : agent.nombre;
        return new Option(label, agent.usuario);
      });
    this.el.assignTo.replaceChildren(choose, ...others);
    this.el.assignTo.value = "";
    this.el.assignTo.disabled = !others.length;
  }

  #toggleSnoozeMenu() {
    if (!this.el.snoozeMenu.hidden) return this.#closeSnoozeMenu();
    const now = new Date();
    this.el.snoozeAt.min = toLocalInput(now);
    this.el.snoozeAt.max = toLocalInput(latestSnooze(now));
    if (!this.el.snoozeAt.value) this.el.snoozeAt.value = toLocalInput(snoozePresets(now)[1].hasta);
    this.el.snoozeMenu.hidden = false;
    this.el.snooze.setAttribute("aria-expanded", "true");
    this.el.snoozeMenu.querySelector("button").focus();
  }

  #closeSnoozeMenu() {
    this.el.snoozeMenu.hidden = true;
    this.el.snooze.setAttribute("aria-expanded", "false");
  }
}
