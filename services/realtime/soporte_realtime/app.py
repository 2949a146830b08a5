"""The realtime service's app factory: one replica (replica.py) served by aiohttp."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from soporte_realtime.replica import Replica
from soporte_realtime.settings import RealtimeSettings

# The app's replica, typed: `app[REPLICA]` (tests look inside a running one this way).
REPLICA: Final = web.AppKey("replica", Replica)

REPLICA_HEADER = "X-Soporte-Replica"


def create_app(
    settings: RealtimeSettings | None = None, *, replica: str = "realtime"
) -> web.Application:
    """`replica` names this replica in every response (behind the gateway's sticky cookie,
    which one answered matters to operators and tests)."""
    node = Replica(settings or RealtimeSettings())
    app = web.Application()
    app[REPLICA] = node
    node.sio.attach(app, socketio_path="socket.io")
    app.on_response_prepare.append(functools.partial(_name_the_replica, replica))
    app.router.add_get("/healthz", node.liveness)
    app.router.add_get("/readyz", node.readiness)
    app.router.add_get("/metrics", node.metrics_page)
    app.cleanup_ctx.append(_background)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    await app[REPLICA].start()
    yield
    await app[REPLICA].stop()


async def _name_the_replica(replica: str, _: web.Request, response: web.StreamResponse) -> None:
    response.headers[REPLICA_HEADER] = replica
