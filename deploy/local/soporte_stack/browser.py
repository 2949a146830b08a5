"""How the browser tests and the screenshot script start Chromium here: Debian's binary
(Playwright's own download does not work offline), headless, with nothing phoning home."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("SOPORTE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
