"""Prints, as JSON, which of the given paths a service's app answers to a GET with a route of
its own (not a 404 or 405): `python tests/deploy/served_paths.py auth /healthz /readyz`.

The app is built (no connection is made) in a process of its own, as in production: each
service registers its metrics in its own process, so two cannot be built side by side."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from starlette.routing import Match

APPS = {
    "auth": "soporte_auth.app",
    "history-api": "soporte_history.app",
    "frontend": "soporte_frontend.app",
    "realtime": "soporte_realtime.app",
}


async def served(app: Any, path: str) -> bool:
    if isinstance(app, web.Application):
        match = await app.router.resolve(make_mocked_request("GET", path, app=app))
        return match.http_exception is None
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


async def main(service: str, paths: list[str]) -> list[str]:
    app = importlib.import_module(APPS[service]).create_app()
    return [path for path in paths if await served(app, path)]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2:]))))
