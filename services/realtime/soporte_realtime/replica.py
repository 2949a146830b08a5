"""One realtime replica: its Redis client, its Socket.IO server with the channel manager
that joins it to the other replicas, the sessions open on it, and what it serves besides
Socket.IO (health, readiness, metrics)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from soporte_common import keys
from soporte_common.contract import Event
from soporte_common.heap import freeze_start_up_heap
from soporte_common.logging import get_logger
from soporte_common.redis_client import connect_redis
from soporte_common.tokens import SessionGuard
from soporte_realtime import metrics
from soporte_realtime.bus import MessageBus
from soporte_realtime.handlers import ChatNamespace
from soporte_realtime.manager import ReplicaManager
from soporte_realtime.presence import SocketRegistry
from soporte_realtime.presence_keeper import PresenceKeeper
from soporte_realtime.redis_pipe import pipe_for
from soporte_realtime.room_registry import RoomRegistry
from soporte_realtime.server import ReplicaServer
from soporte_realtime.sessions import Sessions
from soporte_realtime.settings import RealtimeSettings
from soporte_realtime.signals import TypingRelay
from soporte_realtime.visitor_pages import VisitorPages
from soporte_realtime.workflow import Workflow

log = get_logger(__name__)

SUBSCRIBE_TIMEOUT_SECONDS = 30


class OrjsonForSocketIO:
    """The json-module interface python-socketio expects, backed by orjson."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: Any) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # orjson refuses text no UTF-8 can hold, such as a lone surrogate escape
            # ("\ud800"); the standard parser reads it, so the event reaches its handler and
            # the sender gets the `caracteres` acknowledgement instead of silence.
            return json.loads(data)


class Replica:
    def __init__(self, settings: RealtimeSettings) -> None:
        self.settings = settings
        # No retries: a command that timed out may have been applied (an accept appended).
        self.redis = connect_redis(settings.redis_url, retries=0)
        self.sessions = Sessions(self.end_session)
        self.manager = ReplicaManager(
            settings.redis_url, channel=keys.SOCKETIO_CHANNEL, on_resubscribed=self.resync
        )
        self.sio = ReplicaServer(
            join_timeout=settings.join_timeout_seconds,
            max_unsent_bytes=settings.max_unsent_bytes,
            async_mode="aiohttp",
            client_manager=self.manager,
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
        self.workflow = Workflow(
            self.redis, config=settings.workflow(), sweep_seconds=settings.snooze_sweep_seconds
        )
        self.rooms = RoomRegistry(
            self.redis,
            replica=self.manager.host_id,
            ttl_seconds=settings.presence_ttl_seconds,
            sweep_seconds=settings.presence_sweep_seconds,
            on_forgotten=self.ask_clients_to_catch_up,
        )
        self.presence = PresenceKeeper(
            self.sio,
            SocketRegistry(
                self.redis,
                ttl_seconds=settings.presence_ttl_seconds,
                max_sockets_per_user=settings.max_sockets_per_user,
            ),
            local_sockets=self.sessions.items,
            sweep_seconds=settings.presence_sweep_seconds,
            on_agent_online=self.workflow.upkeep,
        )
        self.sio.register_namespace(
            ChatNamespace(
                guard=SessionGuard(settings.token_codec(), self.redis),
                bus=MessageBus(
                    self.redis,
                    replica=self.manager.host_id,
                    rate_limit=settings.rate_limit_messages,
                    rate_window_ms=int(settings.rate_limit_window_seconds * 1000),
                    client_id_ttl=settings.client_id_ttl_seconds,
                    workflow=settings.workflow(),
                ),
                workflow=self.workflow,
                sessions=self.sessions,
                presence=self.presence,
                rooms=self.rooms,
                typing=TypingRelay(self.redis, min_interval=settings.typing_min_interval_seconds),
                pages=VisitorPages(self.redis, self.sio),
                max_message_length=settings.max_message_length,
            )
        )
        metrics.CONNECTIONS.set_function(lambda: len(self.sessions))  # read when scraped
        self._revocations: asyncio.Task[None] | None = None

    async def end_session(self, sid: str, reason: str) -> None:
        await self.sio.emit(
            Event.SESSION_ENDED.value, {"motivo": reason}, to=sid, ignore_queue=True
        )
        await self.sio.disconnect(sid, ignore_queue=True)

    async def resync(self) -> None:
        """After resubscribing: emits published while we were unsubscribed are lost for our
        sockets, so every client fetches what came after the last id it saw; revocations
        announced meanwhile were missed too. Redis may have restarted empty: the rooms are
        registered again first, so that what comes after the catch-up reaches us."""
        log.warning("resubscribed; asking local clients to catch up", sockets=len(self.sessions))
        try:
            await self.rooms.write_all()
        except Exception as exc:  # the next heartbeat writes them
            log.warning("could not register the rooms again", error=str(exc))
        await self.ask_clients_to_catch_up()
        await self.sessions.drop_revoked(self.redis)

    async def ask_clients_to_catch_up(self) -> None:
        await self.sio.emit(Event.RESYNC.value, {}, ignore_queue=True)

    async def start(self) -> None:
        """Subscribe before serving: a client's first message must come back to this
        replica. Then follow revocations."""
        self.sio.manager_initialized = True
        self.manager.initialize()
        self._revocations = asyncio.create_task(self.sessions.follow_revocations(self.redis))
        await asyncio.wait_for(self.manager.subscribed.wait(), SUBSCRIBE_TIMEOUT_SECONDS)
        await self.rooms.start()
        self.presence.start()
        self.workflow.start()
        freeze_start_up_heap()
        log.info("realtime ready")

    async def stop(self) -> None:
        await self.workflow.stop()
        await self.presence.stop()
        await self.rooms.stop()
        if self._revocations is not None:
            self._revocations.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._revocations
        await pipe_for(self.redis).close()
        await self.manager.stop()
        await self.redis.aclose()

    async def liveness(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readiness(self, _: web.Request) -> web.Response:
        failures = {}
        try:
            await self.redis.ping()
        except Exception as exc:
            failures["redis"] = str(exc)
        if not self.manager.subscribed.is_set():
            failures["pubsub"] = "not subscribed to the socketio channels"
        if failures:
            return web.json_response({"status": "unavailable", "failures": failures}, status=503)
        return web.json_response({"status": "ready", "connections": len(self.sessions)})

    async def metrics_page(self, _: web.Request) -> web.Response:
        with contextlib.suppress(Exception):  # metrics must render even when Redis is away
            metrics.STREAM_LENGTH.set(await self.redis.xlen(keys.STREAM))
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
