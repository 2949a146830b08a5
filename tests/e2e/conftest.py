"""End-to-end helpers: real accounts through the gateway, real Socket.IO clients."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import socketio

from soporte_common.contract import AGENT_SOCKET_QUERY
from soporte_stack.testing import RunningStack, eventually, whole_stack

STICKY_COOKIE = "soporte_replica"


@pytest.fixture(scope="session")
def edge_stack() -> Iterator[RunningStack]:
    """A whole stack with the edge limits at their defaults (the shared `stack` lifts the
    auth budget of its single test address), for tests/e2e/test_edge*.py. Pings every
    12 s: a long-poll then outlasts the gateway's 10 s read timeout, as in production."""
    with whole_stack(
        "edge",
        {
            "SOPORTE_REALTIME_REPLICAS": "2",
            "SOPORTE_PING_INTERVAL_SECONDS": "12",
            "SOPORTE_PING_TIMEOUT_SECONDS": "5",
            # The unread-socket test needs megabytes of messages from one sender, far past
            # the per-user message rate (tests/e2e/test_security.py covers that limit).
            "SOPORTE_RATE_LIMIT_MESSAGES": "1000000",
        },
    ) as running:
        yield running


@dataclass
class Person:
    usuario: str
    password: str
    token: str
    rol: str


# Registering and logging in hash passwords (argon2, deliberately slow): a few at a time.
_ACCOUNTS = asyncio.Semaphore(4)


async def register_and_login(stack: RunningStack, prefix: str = "cliente") -> Person:
    async with _ACCOUNTS:
        return await _register_and_login(stack, prefix)


async def _register_and_login(stack: RunningStack, prefix: str) -> Person:
    usuario = f"{prefix}-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        created = await http.post(
            "/api/auth/register",
            json={"usuario": usuario, "nombre": usuario.title(), "password": "secreto-123"},
        )
        assert created.status_code == 201, created.text
    return await login(stack, usuario, "secreto-123")


async def login(stack: RunningStack, usuario: str, password: str) -> Person:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        response = await http.post(
            "/api/auth/login", json={"usuario": usuario, "password": password}
        )
        assert response.status_code == 200, response.text
        return Person(usuario, password, response.cookies["token"], response.json()["rol"])


async def agent(stack: RunningStack) -> Person:
    return await login(stack, "admin", "soporte-admin")


async def second_agent(stack: RunningStack) -> Person:
    """Another agent account, added with the operator command."""
    usuario = f"agente-{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(stack.create_agent, usuario, usuario.title(), "agente-secreto")
    return await login(stack, usuario, "agente-secreto")


async def replica_cookies(stack: RunningStack) -> list[str]:
    """The gateway's sticky-cookie value of each realtime replica (round robin hands them
    out in turn to clients that have none)."""
    values: set[str] = set()
    deadline = asyncio.get_running_loop().time() + 30  # a restarted replica rejoins on its
    async with httpx.AsyncClient(base_url=stack.url) as http:  # next health check
        while len(values) < 2 and asyncio.get_running_loop().time() < deadline:
            response = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
            if STICKY_COOKIE in response.cookies:
                values.add(response.cookies[STICKY_COOKIE])
            http.cookies.clear()
            await asyncio.sleep(0.05)
    assert len(values) == 2, "expected two realtime replicas behind the gateway"
    return sorted(values)


async def ensure_running(stack: RunningStack, *programs: str) -> None:
    """Start what a test stopped, and return once it serves: running, ready, and handed
    new clients by the gateway again."""
    for program in programs:
        if not await stack.is_running(program):
            await stack.control("start", program)
    for program in programs:
        await eventually(lambda p=program: stack.is_running(p), timeout=60)
    await eventually(lambda: every_service_ready(stack), timeout=60)
    # Ready is not yet served: the gateway takes a restarted replica back at a health check.
    await eventually(lambda: gateway_hands_out_every_replica(stack), timeout=60)


async def gateway_hands_out_every_replica(stack: RunningStack) -> bool:
    ports = stack.info.realtime_ports
    return {await replica_answering(stack) for _ in range(2 * len(ports))} == set(ports)


async def replica_answering(
    stack: RunningStack, *, cookies: dict[str, str] | None = None, **query: str
) -> int | None:
    """The port of the replica the gateway gives a client with `cookies` (none: a new
    client) and `query`; None if no replica answered (a stopped one the gateway has not
    noticed yet: 502). Replicas name themselves in local mode."""
    async with httpx.AsyncClient(base_url=stack.url, cookies=cookies) as http:
        response = await http.get(
            "/socket.io/", params={"EIO": "4", "transport": "polling", **query}
        )
    replica = response.headers.get("x-soporte-replica")
    return int(replica.rsplit(":", 1)[1]) if replica else None


async def every_service_ready(stack: RunningStack) -> bool:
    async with httpx.AsyncClient(timeout=2) as http:
        for url in stack.info.readiness_urls:
            try:
                if (await http.get(url)).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
    return True


@dataclass
class Chat:
    """A Socket.IO client connected through the gateway; records what it receives."""

    person: Person
    sio: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(reconnection=False)
    )
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[Any] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    availability: list[Any] = field(default_factory=list)  # soporte_disponible, in order
    # The conversation log's live entries (messages, notes, updates), in arrival order.
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # The live signals (never stored): typing, seen receipts, agents' presence.
    signals: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sio.on("soporte_disponible", self.availability.append)
        self.sio.on("mensaje_recibido", self._message)
        for event in ("nota_recibida", "conversacion_actualizada"):
            self.sio.on(event, lambda data, event=event: self.log.append((event, data)))
        for event in ("escribiendo", "visto", "presencia"):
            self.sio.on(event, lambda data, event=event: self.signals.append((event, data)))
        self.sio.on("connect_error", self.refused.append)
        self.sio.on("sesion_terminada", lambda data: self.events.append("sesion_terminada"))

    def _message(self, data: dict[str, Any]) -> None:
        self.received.append(data)
        self.log.append(("mensaje_recibido", data))

    def got(self, event: str) -> list[dict[str, Any]]:
        return [data for name, data in (*self.log, *self.signals) if name == event]

    async def call(self, event: str, data: object) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(event, data, timeout=10)
        return ack

    async def send(self, para: str, mensaje: object) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(
            "mensaje_privado", {"para": para, "mensaje": mensaje}, timeout=10
        )
        return ack


Connect = Callable[..., Any]


@pytest.fixture
async def connect(stack: RunningStack) -> AsyncIterator[Connect]:
    chats: list[Chat] = []

    async def open_chat(
        person: Person,
        *,
        replica: str | None = None,
        transport: str = "websocket",
        as_agent: bool = False,
    ) -> Chat:
        """`as_agent`: with the agent page's handshake query (to the agents' replicas)."""
        chat = Chat(person)
        cookie = f"token={person.token}"
        if replica:
            cookie += f"; {STICKY_COOKIE}={replica}"
        url = f"{stack.url}?{urlencode(AGENT_SOCKET_QUERY)}" if as_agent else stack.url
        await chat.sio.connect(
            url, headers={"Cookie": cookie}, transports=[transport], wait_timeout=10
        )
        chats.append(chat)
        return chat

    yield open_chat
    await asyncio.gather(*(chat.sio.disconnect() for chat in chats if chat.sio.connected))


async def history(stack: RunningStack, person: Person, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.url, cookies={"token": person.token}) as http:
        return await http.get(path, params=params)
