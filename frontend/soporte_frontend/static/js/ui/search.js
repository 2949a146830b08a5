// Searching every conversation's messages and notes (agents): the results, newest first,
// take the list's place; the words found are marked by wrapping text nodes in <mark>
// (never HTML). Choosing one opens its conversation at that entry.

import { ENTRY_TYPES } from "../contract.js";
import { highlight } from "../data/text.js";
import { formatTime, t } from "../i18n.js";

export class SearchView {
  #query = "";

  /** `onSearch(query)`: the agent asked; `onOpen(result)`: chose a result;
   * `nameOf(usuario)`: a customer's or an agent's display name. */
  constructor({ elements, nameOf, onSearch, onOpen }) {
    this.el = elements; // {form, input, box, status, close, results, lists}
    this.nameOf = nameOf;
    this.onOpen = onOpen;
    elements.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const query = elements.input.value.trim();
      if (query) onSearch(query);
      else this.close();
    });
    elements.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.isOpen) {
        event.preventDefault();
        this.close();
      }
    });
    elements.close.addEventListener("click", () => this.close());
  }

  get isOpen() {
    return !this.el.box.hidden;
  }

  searching(query) {
    this.#query = query;
    this.#open();
    this.el.status.textContent = t("search.searching", { q: query });
    this.el.results.replaceChildren();
  }

  failed() {
    this.el.status.textContent = t("search.failed");
  }

  /** The answer to `query` (an older query's answer is dropped). */
  show(query, results) {
    if (query !== this.#query) return;
    this.el.status.textContent = t(results.length ? "search.count" : "search.none", { n: results.length, q: query });
    this.el.results.replaceChildren(...results.map((result) => this.#resultNode(result, query)));
  }

  close() {
    this.#query = "";
    this.el.box.hidden = true;
    this.el.lists.hidden = false;
    this.el.results.replaceChildren();
    this.el.input.value = "";
  }

  #open() {
    this.el.box.hidden = false;
    this.el.lists.hidden = true;
  }

  #resultNode(result, query) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = `resultado${result.tipo === ENTRY_TYPES.NOTE ? " nota" : ""}`;
    button.dataset.id = result.id;
    button.dataset.usuario = result.conversacion;
    const customer = this.nameOf(result.conversacion);
    button.setAttribute("aria-description", t("search.open", { name: customer }));
    const name = document.createElement("span");
    name.className = "nombre";
    name.dir = "auto";
    name.textContent = customer;
    const time = document.createElement("time");
    time.dateTime = result.fecha;
    time.textContent = formatTime(result.fecha);
    const text = document.createElement("span");
    text.className = "fragmento";
    text.dir = "auto";
    if (result.tipo === ENTRY_TYPES.NOTE) {
      const label = document.createElement("span");
      label.className = "etiqueta-nota";
      label.textContent = `${t("note.label")} · `;
      text.append(label);
    }
    for (const piece of highlight(result.mensaje, query)) {
      const node = document.createTextNode(piece.text); // always text, never HTML
      if (piece.match) {
        const mark = document.createElement("mark");
        mark.append(node);
        text.append(mark);
      } else {
        text.append(node);
      }
    }
    button.append(name, time, text);
    button.addEventListener("click", () => this.onOpen(result));
    li.append(button);
    return li;
  }
}
