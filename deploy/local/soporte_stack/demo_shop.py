"""The demo shop `make run` serves next to Soporte: a company's own pages on another site
(127.0.0.1 on a port of its own, against Soporte on localhost) with the website widget
embedded, so a newcomer sees the widget at once. Its site is created on the first start
(`soporte-auth create-site`) and found again afterwards."""

from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from soporte_stack.config import StackConfig, StartError, run_script

SITE_NAME = "Tienda de demostración"
PAGES = {
    "/": ("Tienda de demostración", "Bienvenido", "Todo para tu cocina, con envío en 24 h."),
    "/producto": ("Cafetera italiana · Tienda", "Cafetera italiana", "Acero inoxidable, 6 tazas."),
}
PAGE = """<!doctype html>
<html lang="es">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>
body {{ font-family: Georgia, serif; margin: 0; background: #faf7f2; color: #2b2118; }}
header {{ background: #6b3e26; color: #fff; padding: 1rem 2rem; display: flex; gap: 2rem; }}
header a {{ color: #fff; }}
main {{ padding: 2rem; max-width: 50rem; }}
</style>
</head>
<body>
<header><strong>Tienda</strong><a href="/">Inicio</a><a href="/producto">Cafetera</a></header>
<main><h1>{heading}</h1><p>{text}</p>
<p>¿Dudas? Pulsa el botón de chat abajo a la derecha: te responde el equipo de soporte.</p>
</main>
<script src="{soporte}/widget.js" data-site="{site}" async></script>
</body>
</html>
"""


def ensure_site(config: StackConfig, env: dict[str, str]) -> str:
    """The demo shop's site key: the site registered for its origin, made if missing."""
    origin = config.demo_shop_url
    listed = run_script("soporte-auth", "list-sites", env=env)
    if listed.returncode != 0:
        raise StartError(f"soporte-auth list-sites failed:\n{listed.stdout}{listed.stderr}")
    for line in listed.stdout.splitlines():
        site = json.loads(line)
        if origin in site["origins"]:
            return str(site["site"])
    created = run_script(
        "soporte-auth", "create-site", "--origin", origin, "--nombre", SITE_NAME, env=env
    )
    if created.returncode != 0:
        raise StartError(f"soporte-auth create-site failed:\n{created.stdout}{created.stderr}")
    return str(json.loads(created.stdout)["site"])


def serve(config: StackConfig, site: str) -> ThreadingHTTPServer:
    """Serves the shop's pages in a thread of the launcher until it stops."""
    soporte = config.public_url

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = PAGES.get(self.path.split("?")[0])
            if page is None:
                self.send_error(404)
                return
            title, heading, text = (html.escape(part) for part in page)
            body = PAGE.format(
                title=title, heading=heading, text=text, soporte=soporte, site=html.escape(site)
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # a page view of the demo is not news

    server = ThreadingHTTPServer(("127.0.0.1", config.demo_shop_port), Shop)
    threading.Thread(target=server.serve_forever, name="demo-shop", daemon=True).start()
    return server
