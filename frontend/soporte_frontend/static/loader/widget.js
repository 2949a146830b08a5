// Soporte's website widget: <script src="<Soporte>/widget.js" data-site="KEY" async></script>
// It adds one element to the page (a shadow root: no global CSS, fixed, so no layout
// shift) with a launcher; the chat is an iframe from Soporte's origin, made only when
// needed. Page API: window.soporteIdentity = "<jwt>" before this script, and
// Soporte.identify(jwt), Soporte.logout(), Soporte.open(), Soporte.close().
// Messages with the iframe are checked by origin and source both ways.
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me || window.Soporte) return;
  const base = new URL(me.src).origin;
  const site = me.dataset.site || "";
  const lang = /^en/i.test(me.dataset.lang || navigator.language) ? "en" : "es";
  const T = {
    es: { open: "Abrir el chat de Soporte", close: "Cerrar el chat de Soporte", title: "Chat de Soporte", unread: " ({n} sin leer)" },
    en: { open: "Open the support chat", close: "Close the support chat", title: "Support chat", unread: " ({n} unread)" },
  }[lang];
  // Kept on the company's page (its own storage, which browsers do not block as they may
  // block a framed page's): the anonymous visitor's credential, so the thread continues
  // on every page of the site; having one also means the chat loads at once (the badge).
  const KEY = `soporte-widget:${site}`;
  const kept = (value) => {
    try {
      if (value === null) localStorage.removeItem(KEY);
      else if (value !== undefined) localStorage.setItem(KEY, value);
      return localStorage.getItem(KEY);
    } catch {
      return null; // storage blocked: the thread lasts as long as this page
    }
  };
  let identity = typeof window.soporteIdentity === "string" ? window.soporteIdentity : null;
  let forget = false;
  let launcher, panel, badge, frame, ready, isOpen, unread, shown;
  const page = () => ({ url: location.href, titulo: document.title });
  const post = (message) => ready && frame.contentWindow.postMessage({ soporte: 1, ...message }, base);

  const CSS = `:host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.4 system-ui,sans-serif}
button{all:unset;box-sizing:border-box;cursor:pointer;width:60px;height:60px;border-radius:50%;background:#1d4ed8;color:#fff;display:grid;place-items:center;box-shadow:0 4px 14px #0004}
button:focus-visible{outline:3px solid #f59e0b;outline-offset:3px}
svg{width:30px;height:30px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;border-radius:11px;background:#dc2626;color:#fff;font-size:13px;font-weight:700;display:grid;place-items:center}
.panel{position:fixed;right:20px;bottom:92px;width:370px;height:min(600px,calc(100vh - 120px));border-radius:12px;overflow:hidden;box-shadow:0 8px 30px #0005;background:#fff}
iframe{border:0;width:100%;height:100%;display:block}
[hidden]{display:none!important}
@media (max-width:600px){.panel{inset:0;width:100%;height:100%;border-radius:0}:host(.open) button{display:none}}`;

  function build() {
    const host = document.createElement("div");
    const root = host.attachShadow({ mode: "open" });
    if (root.adoptedStyleSheets && window.CSSStyleSheet) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS); // no <style> element: a host page's CSP may forbid inline styles
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(Object.assign(document.createElement("style"), { textContent: CSS }));
    }
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.setAttribute("aria-expanded", "false");
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(svg.namespaceURI, "path");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.append(path);
    badge = document.createElement("span");
    badge.className = "badge";
    badge.hidden = true;
    badge.setAttribute("aria-hidden", "true");
    launcher.append(svg, badge);
    launcher.addEventListener("click", () => (isOpen ? close() : open()));
    host.addEventListener("keydown", (event) => event.key === "Escape" && close());
    panel = document.createElement("div");
    panel.className = "panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", T.title);
    root.append(panel, launcher);
    label();
    shown = host;
    document.body.append(host);
    if (identity || kept()) ensureFrame();
    setInterval(watchPage, 1000);
  }

  function label() {
    launcher.setAttribute("aria-label", (isOpen ? T.close : T.open) + (unread ? T.unread.replace("{n}", unread) : ""));
    badge.textContent = unread > 99 ? "99+" : String(unread || "");
    badge.hidden = !unread || isOpen;
  }

  function ensureFrame() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.title = T.title;
    frame.src = `${base}/widget/chat?site=${encodeURIComponent(site)}&lang=${lang}`;
    frame.addEventListener("load", () => {
      ready = true;
      // Opened while it loaded: the focus given to the empty frame then did not reach the
      // chat, whose message box would look focused while the keys went to this page.
      if (isOpen) frame.focus();
      post({ tipo: "hola", identidad: identity, credencial: kept(), olvidar: forget, pagina: page(), abierto: isOpen });
      forget = false;
    });
    panel.append(frame);
  }

  function open() {
    if (!launcher) return;
    ensureFrame();
    isOpen = true;
    panel.hidden = false;
    shown.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    label();
    post({ tipo: "abierto", abierto: true });
    frame.focus();
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    shown.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    label();
    post({ tipo: "abierto", abierto: false });
    launcher.focus();
  }

  let last = "";
  function watchPage() {
    const now = page();
    const key = now.url + "\n" + now.titulo;
    if (key !== last && last) post({ tipo: "pagina", pagina: now });
    last = key;
  }

  window.addEventListener("message", (event) => {
    if (!frame || event.source !== frame.contentWindow || event.origin !== base) return;
    const data = event.data || {};
    if (data.tipo === "estado") {
      unread = Number(data.no_leidos) || 0;
      label();
    } else if (data.tipo === "credencial") kept(typeof data.credencial === "string" ? data.credencial : null); else if (data.tipo === "cerrar") close();
    else if (data.tipo === "error") console.error(`Soporte: ${data.mensaje}`);
  });

  window.Soporte = Object.freeze({
    identify(jwt) {
      identity = typeof jwt === "string" ? jwt : null;
      if (ready) post({ tipo: "identidad", identidad: identity });
      else if (launcher) ensureFrame();
    },
    logout() {
      identity = null;
      unread = 0;
      kept(null);
      if (ready) post({ tipo: "salir" });
      else forget = true; // told when it loads, made now if the launcher is there
      if (launcher) {
        ensureFrame();
        label();
      }
    },
    open,
    close,
  });

  fetch(`${base}/widget/sitio?site=${encodeURIComponent(site)}`, { credentials: "omit" })
    .then(async (answer) => {
      if (!answer.ok) {
        const body = await answer.json().catch(() => ({}));
        return console.error(`Soporte: data-site="${site}": ${body.error || answer.status}`);
      }
      if (document.body) build();
      else document.addEventListener("DOMContentLoaded", build);
    })
    .catch(() => console.error(`Soporte: ${base} cannot be reached; no chat on this page`));
})();
