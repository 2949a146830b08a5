// What agents see of a website visitor (the widget's customers): on their list row, the
// site and whether the site vouched for them; over the open conversation, the site, the
// page they are on (title and address, as they move), verified or anonymous, the email
// the site signed. Always as text; the address is a link only when it is http(s).

import { t } from "../i18n.js";

/** The short line a visitor's list row carries ("" for an account). */
export function visitorLine(visitante) {
  if (!visitante) return "";
  const site = visitante.sitio_nombre || visitante.sitio;
  return `${site} · ${t(visitante.verificado ? "visitor.verified.short" : "visitor.anonymous.short")}`;
}

export class VisitorCard {
  constructor({ box }) {
    this.box = box;
  }

  /** Shows `conv`'s visitor details, or hides the card (no conversation, an account). */
  show(conv) {
    const visitante = conv?.visitante;
    this.box.hidden = !visitante;
    if (!visitante) return this.box.replaceChildren();
    const line = (label, value) => {
      const p = document.createElement("p");
      const name = document.createElement("span");
      name.className = "etiqueta";
      name.textContent = `${t(label)}: `;
      p.append(name, value);
      return p;
    };
    const status = t(visitante.verificado ? "visitor.verified" : "visitor.anonymous");
    const lines = [line("visitor.site", `${visitante.sitio_nombre || visitante.sitio} · ${status}`)];
    if (visitante.email) lines.push(line("visitor.email", visitante.email));
    const page = visitante.pagina;
    if (page) {
      const where = document.createElement("a");
      where.textContent = page.titulo || page.url;
      where.title = page.url;
      where.rel = "noopener noreferrer";
      where.target = "_blank";
      if (/^https?:\/\//i.test(page.url)) where.href = page.url;
      const address = document.createElement("span");
      address.className = "direccion";
      address.textContent = ` ${page.url}`;
      const p = line("visitor.page", where);
      p.append(address);
      lines.push(p);
    }
    this.box.replaceChildren(...lines);
  }
}
