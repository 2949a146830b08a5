"""The realtime service's app factory: python-socketio on aiohttp, rooms over Redis."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import engineio.async_drivers.aiohttp as engineio_aiohttp
import orjson
import socketio
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import Event
from soporte_common.logging import get_logger
from soporte_common.redis_client import connect_redis
from soporte_common.tokens import SessionGuard
from soporte_realtime import metrics
from soporte_realtime.bus import MessageBus
from soporte_realtime.handlers import ChatNamespace
from soporte_realtime.manager import ReplicaManager
from soporte_realtime.sessions import Sessions
from soporte_realtime.settings import RealtimeSettings

log = get_logger(__name__)

# No permessage-deflate: aiohttp negotiates it by default, and compressing every small chat
# frame costs far more CPU than the bytes it saves (see docs/performance.md).
engineio_aiohttp.WebSocketResponse = functools.partial(
    engineio_aiohttp.WebSocketResponse, compress=False
)


class OrjsonForSocketIO:
    """The json-module interface python-socketio expects, backed by orjson."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: Any) -> Any:
        return orjson.loads(data)


@dataclass
class Realtime:
    settings: RealtimeSettings
    redis: Redis
    sio: socketio.AsyncServer
    manager: ReplicaManager
    sessions: Sessions


STATE = web.AppKey("realtime", Realtime)


REPLICA_HEADER = "X-Soporte-Replica"


def create_app(
    settings: RealtimeSettings | None = None, *, replica: str = "realtime"
) -> web.Application:
    settings = settings or RealtimeSettings()
    redis = connect_redis(settings.redis_url, retries=0)  # a timed-out accept may have landed

    async def end_session(sid: str, reason: str) -> None:
        await sio.emit(Event.SESSION_ENDED.value, {"motivo": reason}, to=sid, ignore_queue=True)
        await sio.disconnect(sid, ignore_queue=True)

    async def resync() -> None:
        # Emits published while we were unsubscribed are lost for our sockets: have every
        # client fetch what came after the last id it saw; and re-check revocations.
        log.warning("resubscribed; asking local clients to catch up", sockets=len(sessions))
        await sio.emit(Event.RESYNC.value, {}, ignore_queue=True)
        await sessions.drop_revoked(redis)

    sessions = Sessions(end_session)
    metrics.CONNECTIONS.set_function(lambda: len(sessions))  # read when scraped
    manager = ReplicaManager(
        settings.redis_url, channel=keys.SOCKETIO_CHANNEL, on_resubscribed=resync
    )
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        json=OrjsonForSocketIO,
        cors_allowed_origins=settings.allowed_origins,
        cors_credentials=True,
        max_http_buffer_size=settings.max_frame_bytes,
        ping_interval=settings.ping_interval_seconds,
        ping_timeout=settings.ping_timeout_seconds,
        async_handlers=False,  # one client's events in order: its messages keep their order
        logger=False,
        engineio_logger=False,
    )
    codec = settings.token_codec()
    sio.register_namespace(
        ChatNamespace(
            guard=SessionGuard(codec, redis),
            bus=MessageBus(
                redis,
                rate_limit=settings.rate_limit_messages,
                rate_window_ms=int(settings.rate_limit_window_seconds * 1000),
                client_id_ttl=settings.client_id_ttl_seconds,
            ),
            sessions=sessions,
            max_message_length=settings.max_message_length,
        )
    )

    app = web.Application()
    app[STATE] = Realtime(settings, redis, sio, manager, sessions)
    sio.attach(app, socketio_path="socket.io")
    app.on_response_prepare.append(functools.partial(_name_the_replica, replica))
    app.router.add_get("/healthz", _liveness)
    app.router.add_get("/readyz", _readiness)
    app.router.add_get("/metrics", _metrics)
    app.cleanup_ctx.append(_background)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    realtime = app[STATE]
    # Subscribe before serving: a client's first message must come back to this replica.
    realtime.sio.manager_initialized = True
    realtime.manager.initialize()
    revocations = asyncio.create_task(realtime.sessions.follow_revocations(realtime.redis))
    await asyncio.wait_for(realtime.manager.subscribed.wait(), timeout=30)
    log.info("realtime ready")
    yield
    revocations.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await revocations
    await realtime.redis.aclose()


async def _name_the_replica(replica: str, _: web.Request, response: web.StreamResponse) -> None:
    """Which replica answered (behind the gateway's sticky cookie): for operators and tests."""
    response.headers[REPLICA_HEADER] = replica


async def _liveness(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readiness(request: web.Request) -> web.Response:
    realtime = request.app[STATE]
    failures = {}
    try:
        await realtime.redis.ping()
    except Exception as exc:
        failures["redis"] = str(exc)
    if not realtime.manager.subscribed.is_set():
        failures["pubsub"] = "not subscribed to the socketio channel"
    if failures:
        return web.json_response({"status": "unavailable", "failures": failures}, status=503)
    return web.json_response({"status": "ready", "connections": len(realtime.sessions)})


async def _metrics(request: web.Request) -> web.Response:
    with contextlib.suppress(Exception):  # metrics must render even when Redis is away
        metrics.STREAM_LENGTH.set(await request.app[STATE].redis.xlen(keys.STREAM))
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
