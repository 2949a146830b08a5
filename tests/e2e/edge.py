"""Clients from other addresses of the loopback range, for the edge tests: an attacker on
127.0.0.2, the real people who must not notice it on 127.0.0.3 and up. Every client binds
its connections to its own address, so the gateway sees one client per address."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import httpx
import socketio

from soporte_common.messages import stream_id_to_db
from soporte_stack.testing import RunningStack, eventually

PASSWORD = "secreto-123"


def http_from(stack: RunningStack, address: str, **kwargs: Any) -> httpx.AsyncClient:
    """An HTTP client whose connections leave from `address`."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=stack.url, transport=transport, timeout=30, **kwargs)


def session_from(address: str) -> aiohttp.ClientSession:
    """An aiohttp session (WebSockets by hand, the Socket.IO client's) from `address`."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=0))


@dataclass
class Someone:
    """A real user on their own address."""

    stack: RunningStack
    address: str
    usuario: str
    token: str = ""
    rol: str = "user"

    async def login(self, password: str = PASSWORD) -> httpx.Response:
        async with http_from(self.stack, self.address) as http:
            response = await http.post(
                "/api/auth/login", json={"usuario": self.usuario, "password": password}
            )
        if response.status_code == 200:
            self.token = response.cookies["token"]
            self.rol = response.json()["rol"]
        return response

    async def get(self, path: str, **params: str) -> httpx.Response:
        async with http_from(self.stack, self.address, cookies={"token": self.token}) as http:
            return await http.get(path, params=params)

    async def stored_ids(self) -> list[str]:
        page = await self.get("/api/mensajes/mios", limit="200")
        return [m["id"] for m in page.json()["mensajes"]]


async def customer(stack: RunningStack, address: str, prefix: str = "cliente") -> Someone:
    person = Someone(stack, address, f"{prefix}-{uuid.uuid4().hex[:8]}")
    async with http_from(stack, address) as http:
        created = await http.post(
            "/api/auth/register",
            json={"usuario": person.usuario, "nombre": "Cliente", "password": PASSWORD},
        )
        assert created.status_code == 201, created.text
    assert (await person.login()).status_code == 200
    return person


async def agent(stack: RunningStack, address: str) -> Someone:
    person = Someone(stack, address, f"agente-{uuid.uuid4().hex[:6]}")
    await asyncio.to_thread(stack.create_agent, person.usuario, "Agente", PASSWORD)
    assert (await person.login()).status_code == 200
    return person


@dataclass
class Live:
    """A Socket.IO client of `who`, from their address."""

    who: Someone
    transport: str = "websocket"
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    sio: socketio.AsyncClient | None = None

    async def __aenter__(self) -> Live:
        self.sio = socketio.AsyncClient(
            reconnection=False, http_session=session_from(self.who.address)
        )
        self.sio.on("mensaje_recibido", self.received.append)
        self.sio.on("connect_error", self.refused.append)
        await self.sio.connect(
            self.who.stack.url,
            auth={"token": self.who.token},
            transports=[self.transport],
            wait_timeout=15,
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.sio is not None
        if self.sio.connected:
            await self.sio.disconnect()
        await self.sio.eio.http.close()

    async def send(self, para: str, mensaje: str) -> dict[str, Any]:
        assert self.sio is not None
        ack: dict[str, Any] = await self.sio.call(
            "mensaje_privado", {"para": para, "mensaje": mensaje}, timeout=20
        )
        return ack


async def still_served(stack: RunningStack, address: str, support: Someone) -> None:
    """What a real user on `address` must still get while an attack goes on: an account,
    a login, a socket, a message to the team that an agent receives, and it stored once."""
    someone = await customer(stack, address, prefix="real")
    async with Live(someone) as chat, Live(support) as desk:
        ack = await chat.send("admin", "hola, ¿me ayudáis?")
        assert ack["ok"], ack
        await eventually(lambda: any(m["id"] == ack["id"] for m in desk.received), timeout=30)
    await eventually(lambda: _stored(someone, ack["id"]), timeout=30)
    assert await stored_once(stack, [ack["id"]])


async def _stored(someone: Someone, message_id: str) -> bool:
    return message_id in await someone.stored_ids()


async def stored_once(stack: RunningStack, ids: list[str]) -> bool:
    """Every one of these acknowledged ids is in Postgres exactly once."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT id FROM mensajes WHERE id = ANY($1::bigint[])",
            [stream_id_to_db(i) for i in ids],
        )
    finally:
        await conn.close()
    counts = Counter(r["id"] for r in rows)
    return all(counts[stream_id_to_db(i)] == 1 for i in ids)


@asynccontextmanager
async def engine_socket(
    session: aiohttp.ClientSession, stack: RunningStack
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """An engine.io WebSocket spoken by hand (it joins nothing unless told to)."""
    async with session.ws_connect(f"{stack.url}/socket.io/?EIO=4&transport=websocket") as ws:
        assert (await ws.receive_str()).startswith("0{")
        yield ws


async def join(ws: aiohttp.ClientWebSocketResponse, token: str) -> None:
    """Join the namespace with `token`, by hand (events sent on joining may come first)."""
    await ws.send_str("40" + json.dumps({"token": token}))
    while not (frame := await ws.receive_str()).startswith("40"):
        assert not frame.startswith("44"), frame  # connect_error


async def ended_by_server(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read until the server ends the WebSocket (its engine.io CLOSE, or the connection)."""
    ends = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    while True:
        message = await ws.receive()
        if message.type in ends or message.data == "1":
            return
        if message.data == "2":  # engine.io ping
            await ws.send_str("3")


def rss_mb(pid: int) -> float:
    """A process's resident memory (MB), read from /proc."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def metric(url: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus metric on a service's own port (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    sample = f"{name}{{{wanted}}}" if wanted else name
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{url}/metrics")).text
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0
