// The agent's tabs above the list (Mine, Unassigned, Open, Pending, Snoozed, Resolved),
// each with its live count: an ARIA tablist whose panel is the list. Arrow keys, Home
// and End move between tabs (and choose them), as in every tablist.

import { TABS } from "../data/tabs.js";
import { t } from "../i18n.js";

export class TabsView {
  #buttons = new Map(); // tab key → {button, count}

  /** `counts`: the TabCounts; `onChoose(key)`: a tab was chosen. */
  constructor({ tablist, panel, counts, selected, onChoose }) {
    this.counts = counts;
    this.panel = panel;
    this.selected = selected;
    this.onChoose = onChoose;
    for (const tab of TABS) {
      const button = document.createElement("button");
      button.type = "button";
      button.id = `pestana-${tab.key}`;
      button.dataset.bandeja = tab.key;
      button.setAttribute("role", "tab");
      button.setAttribute("aria-controls", panel.id);
      const name = document.createElement("span");
      name.className = "nombre-bandeja";
      const count = document.createElement("span");
      count.className = "cuenta";
      button.append(name, count);
      button.addEventListener("click", () => this.#choose(tab.key));
      this.#buttons.set(tab.key, { button, name, count });
      tablist.append(button);
    }
    tablist.addEventListener("keydown", (event) => this.#onKeyDown(event));
    this.render();
  }

  /** Names, counts and which tab is chosen (again after each count or the language). */
  render() {
    for (const [key, { button, name, count }] of this.#buttons) {
      const chosen = key === this.selected;
      button.setAttribute("aria-selected", String(chosen));
      button.tabIndex = chosen ? 0 : -1;
      name.textContent = t(`tab.${key}`);
      const n = this.counts.of(key);
      count.textContent = n === null ? "" : String(n);
      button.setAttribute("aria-label", n === null ? t(`tab.${key}`) : t("tab.count", { name: t(`tab.${key}`), n }));
    }
    this.panel.setAttribute("aria-labelledby", `pestana-${this.selected}`);
  }

  #choose(key, { focus = false } = {}) {
    const changed = key !== this.selected;
    this.selected = key;
    this.render();
    if (focus) this.#buttons.get(key).button.focus();
    if (changed) this.onChoose(key);
  }

  #onKeyDown(event) {
    const keys = TABS.map((tab) => tab.key);
    const at = keys.indexOf(this.selected);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: keys.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    this.#choose(keys[(to + keys.length) % keys.length], { focus: true });
  }
}
