"""Realtime replicas run in-process (aiohttp) against a real Redis; clients are the real
python-socketio client over real sockets."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import socketio
from aiohttp import web
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.settings import LOCAL_JWT_SECRET
from soporte_common.tokens import Claims, Rol, TokenCodec
from soporte_realtime.app import create_app
from soporte_realtime.settings import RealtimeSettings
from soporte_stack.testing import RunningStack

CODEC = TokenCodec(LOCAL_JWT_SECRET)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def redis(infra: RunningStack) -> AsyncIterator[Redis]:
    client = Redis.from_url(infra.redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


StartReplica = Callable[..., Awaitable[str]]


@pytest.fixture
def replica_apps() -> dict[str, web.Application]:
    """The running replicas' apps by URL (to look inside one)."""
    return {}


@pytest.fixture
async def start_replica(
    infra: RunningStack, redis: Redis, replica_apps: dict[str, web.Application]
) -> AsyncIterator[StartReplica]:
    """Start realtime replicas (each on its own port); returns their URLs."""
    runners: list[web.AppRunner] = []

    async def start(**overrides: Any) -> str:
        port = free_port()
        settings = RealtimeSettings(
            redis_url=infra.redis_url, public_origin="http://localhost:8080", **overrides
        )
        app = create_app(settings)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        url = f"http://127.0.0.1:{port}"
        replica_apps[url] = app
        return url

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def replica(start_replica: StartReplica) -> str:
    return await start_replica()


async def account(redis: Redis, user: str, rol: Rol = "user", ttl: int = 3600) -> str:
    """A known user (in the directory) and a valid token for them."""
    await redis.hset(keys.USER_DIRECTORY, user, rol)
    token, _ = CODEC.issue(user=user, nombre=user.title(), rol=rol, ttl_seconds=ttl)
    return token


def claims_of(token: str) -> Claims:
    return CODEC.decode(token)


@dataclass
class Client:
    """A Socket.IO client that records what it receives."""

    sio: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(reconnection=False)
    )
    received: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, Any]] = field(default_factory=list)
    refused: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sio.on("mensaje_recibido", self._message)
        self.sio.on("connect_error", self.refused.append)
        for event in (
            "sincronizar",
            "sesion_terminada",
            "presencia",
            "soporte_disponible",
            "nota_recibida",
            "conversacion_actualizada",
            "escribiendo",
            "visto",
        ):
            self.sio.on(event, lambda data, event=event: self.events.append((event, data)))
        self.sio.on("disconnect", lambda *args: self.events.append(("disconnect", args)))

    async def connect(
        self,
        url: str,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        transport: str = "websocket",
        auth: dict[str, str] | None = None,
    ) -> None:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Cookie"] = f"token={token}"
        await self.sio.connect(
            url, headers=all_headers, transports=[transport], auth=auth, wait_timeout=5
        )

    def _message(self, data: dict[str, Any]) -> None:
        self.received.append(data)
        self.events.append(("mensaje_recibido", data))

    def log_ids(self) -> list[str]:
        """The ids of the conversation log's entries this client received (messages, notes,
        updates), in the order it received them."""
        logged = ("mensaje_recibido", "nota_recibida", "conversacion_actualizada")
        return [data["id"] for name, data in self.events if name in logged]

    def got(self, event: str) -> list[Any]:
        """What this client received of `event`, in order."""
        return [data for name, data in self.events if name == event]

    async def call(self, event: str, data: object) -> dict[str, Any]:
        """Emit `event` and return its acknowledgement."""
        ack: dict[str, Any] = await self.sio.call(event, data, timeout=10)
        return ack

    async def send(self, para: str, mensaje: object, **extra: Any) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(
            "mensaje_privado", {"para": para, "mensaje": mensaje, **extra}, timeout=10
        )
        return ack


async def connected(clients: Callable[[], Client], url: str, token: str) -> Client:
    """A new client of `clients`, connected to `url` as the owner of `token`."""
    client = clients()
    await client.connect(url, token)
    return client


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[], Client]]:
    made: list[Client] = []

    def make() -> Client:
        made.append(Client())
        return made[-1]

    yield make
    for client in made:
        if client.sio.connected:
            await client.sio.disconnect()
