// The agent's list of conversations in the chosen tab, newest activity first: name, time,
// preview (or "typing…" while the customer types), unread count, assignee; unread rows red, the open one green. A change updates
// its row in place and moves only that row (or takes it out of a tab it left); the filter
// box hides what does not match and asks the server for more.

import { tabOf } from "../data/tabs.js";
import { formatTime, t } from "../i18n.js";
import { visitorLine } from "./visitor.js";

const SEARCH_DELAY_MS = 250;

export class ListView {
  #rows = new Map(); // usuario → {li, button, name, time, preview, badge, assignee, site}
  #searchTimer = null;

  /** `onOpen(usuario)`: a row was chosen; `onSearch(query)`: the filter box settled on a
   * query (the list holds only the newest conversations: older ones are found there);
   * `tab`: the chosen tab's key (`tab` is set again when another is chosen);
   * `nameOf(usuario)`: an agent's display name; `typingOf(usuario)`: whether that
   * customer is typing now. */
  constructor({ store, reads, me, tab, nameOf, typingOf = () => false, elements, onOpen, onSearch }) {
    this.store = store;
    this.reads = reads;
    this.me = me;
    this.tab = tab;
    this.nameOf = nameOf;
    this.typingOf = typingOf;
    this.el = elements; // {list, empty, filter}
    this.onOpen = onOpen;
    this.site = ""; // a website's key: only its visitors are listed ("" : everyone)
    this.el.filter.addEventListener("input", () => {
      this.#arrange();
      clearTimeout(this.#searchTimer);
      const query = this.query;
      if (query) this.#searchTimer = setTimeout(() => onSearch(query), SEARCH_DELAY_MS);
    });
  }

  get query() {
    return this.el.filter.value.trim().toLowerCase();
  }

  /** These conversations changed (none given: every row's labels did): their rows are
   * redrawn in place, then every row that is out of order moves. */
  update(...convs) {
    for (const conv of convs.length ? convs : this.store.all()) {
      if (conv.preview) this.#fill(conv);
    }
    this.#arrange();
  }

  /** The rows that match the filter, in order; a row already in its place is not touched
   * (one new message moves one row). */
  #arrange() {
    const query = this.query;
    const withPreview = this.store.byRecency();
    const tab = tabOf(this.tab);
    const inTab = withPreview.filter((conv) => tab.has(conv, this.me));
    const list = this.el.list;
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    let cursor = list.firstElementChild;
    for (const conv of inTab) {
      if (!conv.matches(query) || (this.site && conv.visitante?.sitio !== this.site)) continue;
      const { li } = this.#rows.get(conv.usuario) ?? this.#fill(conv);
      if (li === cursor) cursor = cursor.nextElementSibling;
      else list.insertBefore(li, cursor);
    }
    while (cursor) {
      const next = cursor.nextElementSibling;
      cursor.remove();
      cursor = next;
    }
    // Moving a node drops its focus: a keyboard user's row keeps it wherever it moves.
    if (focused?.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
    this.el.empty.hidden = list.childElementCount > 0 || !this.store.listLoaded;
    this.el.empty.textContent = t(!withPreview.length ? "list.empty" : inTab.length ? "list.nomatch" : "list.tabempty");
  }

  #fill(conv) {
    const row = this.#rows.get(conv.usuario) ?? this.#newRow(conv.usuario);
    const active = conv === this.store.open;
    const unread = active ? 0 : this.reads.unread(conv.usuario);
    row.button.className = `conversacion${active ? " activa" : unread ? " no-leida" : ""}`;
    if (active) row.button.setAttribute("aria-current", "true");
    else row.button.removeAttribute("aria-current");
    row.name.textContent = conv.nombre;
    row.time.dateTime = conv.preview.fecha;
    row.time.textContent = formatTime(conv.preview.fecha);
    const typing = this.typingOf(conv.usuario);
    row.preview.textContent = typing ? t("typing.row") : conv.preview.mensaje; // always text
    row.preview.classList.toggle("escribiendo", typing);
    row.site.textContent = visitorLine(conv.visitante);
    const holder = conv.asignado;
    row.assignee.textContent = !holder
      ? ""
      : holder === this.me
        ? t("list.assigned.you")
        : t("list.assigned", { name: this.nameOf(holder) });
    if (unread) {
      row.badge.textContent = String(unread);
      row.badge.setAttribute("aria-label", t("list.unread", { n: unread }));
      row.button.append(row.badge);
    } else {
      row.badge.remove();
    }
    return row;
  }

  #newRow(usuario) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.usuario = usuario;
    button.addEventListener("click", () => this.onOpen(usuario));
    const name = document.createElement("span");
    name.className = "nombre";
    name.dir = "auto";
    const time = document.createElement("time");
    const preview = document.createElement("span");
    preview.className = "vista-previa";
    preview.dir = "auto";
    const badge = document.createElement("span");
    badge.className = "contador";
    const assignee = document.createElement("span");
    assignee.className = "asignado";
    const site = document.createElement("span");
    site.className = "sitio";
    button.append(name, time, preview, assignee, site);
    li.append(button);
    const row = { li, button, name, time, preview, badge, assignee, site };
    this.#rows.set(usuario, row);
    return row;
  }
}
