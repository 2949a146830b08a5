"""The edge holds (issue 13), connections and memory: each attack from 127.0.0.2, through
the gateway, at a scale this machine allows, while real people on other addresses still
sign up, log in, connect and get their messages, each stored once
(docs/operations.md, "Edge limits"; docs/guarantees.md)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

import aiohttp
import pytest

from soporte_stack.testing import RunningStack, eventually

from .edge import (
    Live,
    agent,
    customer,
    ended_by_server,
    engine_socket,
    join,
    metric,
    rss_mb,
    session_from,
    still_served,
    stored_once,
)

pytestmark = pytest.mark.e2e

ATTACKER = "127.0.0.2"
CAP = 1000  # SOPORTE_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS, default


async def sockets_open(replicas: list[str], *, equal: float | None = None) -> float | bool:
    """The sockets open on the replicas (or whether there are exactly `equal` of them)."""
    count = sum([await metric(url, "soporte_realtime_connections") for url in replicas])
    return count if equal is None else count == equal


@dataclass
class Flood:
    """Engine.IO WebSockets from the attacker that never join: the open ones, the statuses
    of the refused ones, and a refusal's body."""

    session: aiohttp.ClientSession
    opened: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    refusal: dict[str, str] = field(default_factory=dict)

    async def open(self, stack: RunningStack, count: int) -> None:
        gate = asyncio.Semaphore(100)

        async def one() -> None:
            async with gate:
                try:
                    ws = await self.session.ws_connect(
                        f"{stack.url}/socket.io/?EIO=4&transport=websocket"
                    )
                except aiohttp.WSServerHandshakeError as exc:
                    self.refused.append(exc.status)
                    return
                await ws.receive_str()
                self.opened.append(ws)

        await asyncio.gather(*(one() for _ in range(count)))
        async with self.session.get(f"{stack.url}/socket.io/?EIO=4&transport=polling") as again:
            self.refused.append(again.status)
            self.refusal = await again.json()

    async def close(self) -> None:
        for ws in self.opened:
            await ws.close()
        await self.session.close()


async def test_sockets_that_never_join_are_capped_per_address_and_closed(
    edge_stack: RunningStack,
) -> None:
    support = await agent(edge_stack, "127.0.0.3")
    flood = Flood(session_from(ATTACKER))
    try:
        await flood.open(edge_stack, CAP + 50)
        assert len(flood.opened) == CAP
        assert set(flood.refused) == {429}
        assert flood.refusal["codigo"] == "demasiadas_conexiones"
        await still_served(edge_stack, "127.0.0.4", support)
        # Not one joined: the replicas close them (SOPORTE_JOIN_TIMEOUT_SECONDS, 10 s).
        ends = (ended_by_server(ws) for ws in flood.opened)
        await asyncio.wait_for(asyncio.gather(*ends), timeout=40)
    finally:
        await flood.close()
    # The address is welcome again once its sockets are gone.
    async with session_from(ATTACKER) as again, engine_socket(again, edge_stack):
        pass


async def test_slow_headers_are_cut_off_while_websockets_and_long_polls_stay(
    edge_stack: RunningStack,
) -> None:
    host, port = edge_stack.url.removeprefix("http://").split(":")
    slow: list[socket.socket] = []
    for _ in range(200):
        sock = socket.create_connection(("127.0.0.1", int(port)), source_address=(ATTACKER, 0))
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n".encode())
        sock.setblocking(False)
        slow.append(sock)

    async def trickle_until_closed(sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(60):  # a header line a second, never the blank line that ends them
            try:
                await loop.sock_sendall(sock, b"X-Lento: si\r\n")
                await asyncio.sleep(1)
            except OSError:
                return
        raise AssertionError("a request whose headers never ended was held for a minute")

    support = await agent(edge_stack, "127.0.0.3")
    someone = await customer(edge_stack, "127.0.0.5")
    try:
        async with Live(someone, transport="polling") as polling, Live(support) as desk:
            trickling = asyncio.gather(*(trickle_until_closed(s) for s in slow))
            # Both outlive the 10 s read timeout: a long-poll waits 12 s for the next ping.
            await asyncio.sleep(25)
            assert polling.sio is not None and polling.sio.connected
            assert desk.sio is not None and desk.sio.connected
            ack = await polling.send("admin", "sigo por long-polling")
            assert ack["ok"]
            await eventually(lambda: any(m["id"] == ack["id"] for m in desk.received), 20)
            await trickling
    finally:
        for sock in slow:
            sock.close()


async def test_a_binary_packet_closes_the_socket_before_anything_piles_up(
    edge_stack: RunningStack,
) -> None:
    support = await agent(edge_stack, "127.0.0.3")
    mallory = await customer(edge_stack, ATTACKER, prefix="mallory")
    replicas = [edge_stack.pid(f"realtime:realtime-{i}") for i in (1, 2)]
    before = sum(rss_mb(pid) for pid in replicas)
    async with session_from(ATTACKER) as session, engine_socket(session, edge_stack) as ws:
        await join(ws, mallory.token)
        await ws.send_str('459999999999-["mensaje_privado",{"_placeholder":true,"num":0}]')
        sent = 0
        try:
            for _ in range(2000):  # up to 120 MB of attachments, while the socket lasts
                await ws.send_bytes(b"\x00" * 60_000)
                sent += 1
        except (ConnectionError, aiohttp.ClientConnectionError):
            pass  # the replica closed the socket mid-send: what this test wants
        await asyncio.wait_for(ended_by_server(ws), timeout=20)
    assert sum(rss_mb(pid) for pid in replicas) - before < 100
    await still_served(edge_stack, "127.0.0.4", support)


async def test_a_client_that_does_not_read_is_closed_and_others_get_everything(
    edge_stack: RunningStack,
) -> None:
    """Non-reading agent sockets on the attacker's address fill the replicas' queues: past
    SOPORTE_MAX_UNSENT_BYTES (1 MB) each is closed. A reading agent gets every message,
    and every acknowledged one is stored once."""
    deaf_agent = await agent(edge_stack, ATTACKER)
    reader = await agent(edge_stack, "127.0.0.3")
    writer = await customer(edge_stack, "127.0.0.4")
    metrics = [edge_stack.info.realtime_url(i) for i in (1, 2)]

    async def cut_off() -> float:
        return sum(
            [
                await metric(u, "soporte_realtime_sockets_closed_total", reason="sin_leer")
                for u in metrics
            ]
        )

    before = await cut_off()
    open_before = await sockets_open(metrics)
    async with session_from(ATTACKER) as session:
        deaf = []
        for _ in range(10):
            ws = await session.ws_connect(f"{edge_stack.url}/socket.io/?EIO=4&transport=websocket")
            await ws.receive_str()
            await join(ws, deaf_agent.token)
            sock = ws._response.connection.transport.get_extra_info("socket")  # type: ignore[union-attr]
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            deaf.append(ws)  # from now on it reads nothing
        acked: list[str] = []
        async with Live(writer) as chat, Live(reader) as desk:
            # Each message is 12 KB on the wire (4,000 three-byte characters): the kernel's
            # buffers between a replica and a deaf client (replica, gateway, client) hold
            # 10-20 MB before the replica's own queue grows, so up to 72 MB are sent.
            while await cut_off() < before + len(deaf) and len(acked) < 6000:
                acks = await asyncio.gather(*(chat.send("admin", "€" * 4000) for _ in range(100)))
                assert all(a["ok"] for a in acks)
                acked += [a["id"] for a in acks]
            assert await cut_off() == before + len(deaf)
            # Gone from the replicas (their queues and buffers with them): only the two
            # reading clients are left.
            await eventually(lambda: sockets_open(metrics, equal=open_before + 2), timeout=30)
            await eventually(lambda: len(desk.received) == len(acked), timeout=60)
    await eventually(lambda: stored_once(edge_stack, acked), timeout=60)
