"""A replica's edge limits (issue 13): sessions that never join, binary packets, clients
that do not read, input the JSON decoder used to drop, and the errors of its HTTP path."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import httpx
import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import EntryType
from soporte_realtime import metrics
from soporte_stack.testing import eventually

from .conftest import Client, StartReplica, account

pytestmark = pytest.mark.integration


def closed_for(reason: str) -> float:
    return metrics.SOCKETS_CLOSED.labels(reason)._value.get()  # type: ignore[no-any-return]


@asynccontextmanager
async def raw_socket(
    url: str, token: str | None = None
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """An engine.io WebSocket spoken by hand (to send what no well-behaved client does);
    joins the namespace when given a token."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket") as ws,
    ):
        assert (await ws.receive_str()).startswith("0{")  # engine.io open
        if token is not None:
            await ws.send_str("40" + json.dumps({"token": token}))
            while not (frame := await ws.receive_str()).startswith("40"):
                assert not frame.startswith("44"), frame  # connect_error
        yield ws


async def closed_by_server(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """Read until the server ends the WebSocket (engine.io CLOSE packet or the connection)."""
    while True:
        message = await ws.receive()
        if message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            return True
        if message.type == aiohttp.WSMsgType.TEXT and message.data == "1":
            return True
        if message.type == aiohttp.WSMsgType.TEXT and message.data == "2":  # ping
            await ws.send_str("3")


async def test_a_session_that_never_joins_is_closed(
    start_replica: StartReplica, redis: Redis
) -> None:
    url = await start_replica(join_timeout_seconds=0.5)
    token = await account(redis, "ana")
    before = closed_for("sin_unirse")
    async with raw_socket(url) as idle, raw_socket(url, token) as joined:
        await asyncio.wait_for(closed_by_server(idle), 10)
        assert closed_for("sin_unirse") == before + 1
        await joined.send_str('421["mensaje_privado",{"para":"admin","mensaje":"sigo aquí"}]')
        assert (await joined.receive_str()).startswith('431[{"ok":true')


async def test_a_session_that_leaves_the_namespace_must_join_again(
    start_replica: StartReplica, redis: Redis
) -> None:
    url = await start_replica(join_timeout_seconds=0.5)
    async with raw_socket(url, await account(redis, "ana")) as ws:
        await ws.send_str("41")  # leaves the namespace, keeps the engine.io session
        await asyncio.wait_for(closed_by_server(ws), 10)


async def test_a_websocket_client_that_stops_answering_pings_is_closed(
    start_replica: StartReplica, redis: Redis
) -> None:
    """Silence ends a session after `ping_interval + ping_timeout` (2 s here) whatever it
    sent before; a client that answers the pings keeps its session however long it runs."""
    url = await start_replica(ping_interval_seconds=1, ping_timeout_seconds=1)

    async def answer_pings(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    if await ws.receive_str() == "2":
                        await ws.send_str("3")

    async def ended(ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read, answering nothing, until the server ends the session."""
        while (await ws.receive()).type == aiohttp.WSMsgType.TEXT:
            pass

    async with (
        raw_socket(url, await account(redis, "ana")) as silent,
        raw_socket(url, await account(redis, "bea")) as alive,
    ):
        await silent.send_str('42["mensaje_privado",{"para":"admin","mensaje":"y me callo"}]')
        await asyncio.gather(asyncio.wait_for(ended(silent), 10), answer_pings(alive, 5))
        await alive.send_str('421["mensaje_privado",{"para":"admin","mensaje":"sigo aquí"}]')
        while (frame := await asyncio.wait_for(alive.receive_str(), 10)) == "2":
            await alive.send_str("3")
        assert frame.startswith('431[{"ok":true')


@pytest.mark.parametrize(
    "packet",
    [
        '451-["mensaje_privado",{"_placeholder":true,"num":0}]',
        '461-[{"_placeholder":true,"num":0}]',
        b"\x04" + b"x" * 1000,
    ],
)
async def test_binary_packets_close_the_socket_and_store_nothing(
    start_replica: StartReplica, redis: Redis, packet: str | bytes
) -> None:
    url = await start_replica()
    before = closed_for("binario")
    async with raw_socket(url, await account(redis, "ana")) as ws:
        if isinstance(packet, str):
            await ws.send_str(packet)
            for _ in range(50):  # attachments a pending binary packet would have gathered
                await ws.send_bytes(b"\x00" * 60_000)
        else:
            await ws.send_bytes(packet)
        await asyncio.wait_for(closed_by_server(ws), 10)
    assert closed_for("binario") == before + 1
    assert await redis.xlen(keys.STREAM) == 0


async def test_a_lone_surrogate_gets_the_characters_acknowledgement(
    start_replica: StartReplica, redis: Redis
) -> None:
    url = await start_replica()
    async with raw_socket(url, await account(redis, "ana")) as ws:
        await ws.send_str('427["mensaje_privado",{"para":"admin","mensaje":"hola \\ud800"}]')
        ack = await ws.receive_str()
    assert ack.startswith("437")
    assert json.loads(ack[3:])[0]["codigo"] == "caracteres"
    assert await redis.xlen(keys.STREAM) == 0


async def test_odd_event_packets_change_nothing_and_the_socket_goes_on(
    start_replica: StartReplica, redis: Redis
) -> None:
    """What a client can put in an event packet: none of it ends its session, stores
    anything, or reaches a handler it must not (`connect` and `disconnect` are the
    server's own: as events they are ignored), and what it then sends is stored and
    acknowledged. An unknown event's acknowledgement is empty, as python-socketio's."""
    url = await start_replica()
    async with raw_socket(url, await account(redis, "ana")) as ws:
        for odd in (
            '42["mensaje_privado",{"para":"admin"',  # not JSON
            "42{}",  # not an array
            "42[]",  # no event name
            "42[7]",  # an event name that is not a string
            '42["disconnect","client namespace disconnect"]',
            '42["connect",{"token":"x"}]',
            '42/otro,["mensaje_privado",{}]',  # a namespace it never joined
            '421["no_such_event",{"x":1}]',
        ):
            await ws.send_str(odd)
        # No acknowledgement id: stored, nothing answered.
        await ws.send_str('42["mensaje_privado",{"para":"admin","mensaje":"sin respuesta"}]')
        await ws.send_str('4299["mensaje_privado",{"para":"admin","mensaje":"con respuesta"}]')
        answers = []
        while len(answers) < 2:
            frame = await asyncio.wait_for(ws.receive_str(), 10)
            if frame == "2":  # engine.io ping
                await ws.send_str("3")
            else:
                answers.append(frame)
    assert answers[0] == "431[]"
    assert answers[1].startswith("4399[")
    ack = json.loads(answers[1][4:])[0]
    assert ack["ok"] is True
    messages = [
        (entry_id.decode(), fields[b"mensaje"])
        for entry_id, fields in await redis.xrange(keys.STREAM)
        if fields[b"tipo"] == EntryType.MESSAGE.value.encode()
    ]
    assert [text for _, text in messages] == [b"sin respuesta", b"con respuesta"]
    assert messages[-1][0] == ack["id"]


@pytest.mark.parametrize("text", ["\u3164", "\u200b\u200b\u200b", " \u2060 "])
async def test_a_message_of_invisible_characters_is_empty(
    start_replica: StartReplica, redis: Redis, clients: Callable[[], Client], text: str
) -> None:
    url = await start_replica()
    ana = clients()
    await ana.connect(url, await account(redis, "ana"))
    assert (await ana.send("admin", text))["codigo"] == "vacio"


async def test_a_client_that_does_not_read_is_closed_while_others_get_everything(
    start_replica: StartReplica, redis: Redis, clients: Callable[[], Client]
) -> None:
    url = await start_replica(max_unsent_bytes=256 * 1024, rate_limit_messages=1_000_000)
    customer, reader = clients(), clients()
    await customer.connect(url, await account(redis, "ana"))
    await reader.connect(url, await account(redis, "agente", "admin"))
    before = closed_for("sin_leer")
    async with raw_socket(url, await account(redis, "mudo", "admin")) as deaf:
        # A small receive window: the replica's queue fills after less traffic.
        sock = deaf._response.connection.transport.get_extra_info("socket")  # type: ignore[union-attr]
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sent = 0
        while closed_for("sin_leer") == before and sent < 3000:  # at most 12 MB
            acks = await asyncio.gather(*(customer.send("admin", "x" * 4000) for _ in range(50)))
            assert all(a["ok"] for a in acks)
            sent += len(acks)
        assert closed_for("sin_leer") == before + 1
        await asyncio.wait_for(closed_by_server(deaf), 10)
    await eventually(lambda: len(reader.received) == sent, timeout=30)
    assert customer.sio.connected and reader.sio.connected


async def test_errors_on_the_socketio_path_are_the_contracts_json(
    start_replica: StartReplica,
) -> None:
    url = await start_replica()
    async with httpx.AsyncClient(base_url=url) as http:
        answers = {
            400: await http.get("/socket.io/", params={"EIO": "3", "transport": "polling"}),
            404: await http.get("/socket.io/otra-cosa"),
            405: await http.put("/socket.io/", params={"EIO": "4", "transport": "polling"}),
        }
        foreign = await http.get(
            "/socket.io/",
            params={"EIO": "4", "transport": "polling"},
            headers={"Origin": "https://evil.example"},
        )
    for status, response in answers.items():
        assert response.status_code == status
        assert set(response.json()) == {"error", "codigo"}, status
    assert (foreign.status_code, foreign.json()["codigo"]) == (400, "peticion_invalida")


async def test_the_replica_is_named_in_responses_in_local_mode_only(
    start_replica: StartReplica,
) -> None:
    production = await start_replica(env="production", jwt_secret="p" * 40)
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{production}/socket.io/", params={"EIO": "4", "transport": "polling"}
        )
    assert "x-soporte-replica" not in response.headers
