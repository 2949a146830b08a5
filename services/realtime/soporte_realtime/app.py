"""The realtime service's app factory: one replica (replica.py) served by aiohttp."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from soporte_common.errors import JSON_CONTENT_TYPE, error_json
from soporte_realtime.replica import Replica
from soporte_realtime.settings import RealtimeSettings

# The app's replica, typed: `app[REPLICA]` (tests look inside a running one this way).
REPLICA: Final = web.AppKey("replica", Replica)

REPLICA_HEADER = "X-Soporte-Replica"
SOCKETIO_PATH = "/socket.io/"


def create_app(
    settings: RealtimeSettings | None = None, *, replica: str = "realtime"
) -> web.Application:
    """In local mode, `replica` names this replica in every response (behind the gateway's
    sticky cookie, which one answered matters to tests); never in production, where it
    would tell anyone the host names and ports behind the gateway."""
    settings = settings or RealtimeSettings()
    node = Replica(settings)
    app = web.Application(middlewares=[contract_errors])
    app[REPLICA] = node
    node.sio.attach(app, socketio_path="socket.io")
    if settings.env == "local":
        app.on_response_prepare.append(functools.partial(_name_the_replica, replica))
    app.router.add_get("/healthz", node.liveness)
    app.router.add_get("/readyz", node.readiness)
    app.router.add_get("/metrics", node.metrics_page)
    app.cleanup_ctx.append(_background)
    return app


@web.middleware
async def contract_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors on the Socket.IO path in the contract's JSON shape, like every service's:
    engine.io's own (a bad session, a refused Origin), aiohttp's (no such path, a wrong
    method). The replica's own pages (health, metrics) keep their answers."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status)
    on_socketio = request.path.startswith(SOCKETIO_PATH)
    if on_socketio and response.status >= 400 and not response.prepared:
        return _error(response.status)
    return response


def _error(status: int) -> web.Response:
    return web.Response(body=error_json(status), status=status, content_type=JSON_CONTENT_TYPE)


async def _background(app: web.Application) -> AsyncIterator[None]:
    await app[REPLICA].start()
    yield
    await app[REPLICA].stop()


async def _name_the_replica(replica: str, _: web.Request, response: web.StreamResponse) -> None:
    response.headers[REPLICA_HEADER] = replica
