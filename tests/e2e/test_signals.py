"""Live signals through the gateway, with two realtime replicas: typing reaches exactly the
sockets it is for and nothing is stored; seen receipts both ways; a customer is refused
every agent-only signal on either replica. (Presence: tests/e2e/test_presence.py.)"""

import asyncio

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_stack.testing import RunningStack, eventually

from .conftest import (
    Chat,
    Connect,
    Person,
    history,
    register_and_login,
    replica_cookies,
    second_agent,
)

pytestmark = pytest.mark.e2e

REFUSED = {"ok": False, "codigo": "no_permitido"}


async def last_stream_id(stack: RunningStack) -> bytes | None:
    redis = Redis.from_url(stack.redis_url)
    try:
        newest = await redis.xrevrange(keys.STREAM, count=1)
    finally:
        await redis.aclose()
    return newest[0][0] if newest else None


async def stored_rows(stack: RunningStack, *conversations: str) -> int:
    conn = await asyncpg.connect(stack.database_url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM mensajes WHERE conversacion = ANY($1::text[])",
            list(conversations),
        )
        return count
    finally:
        await conn.close()


def typing(chat: Chat) -> list[dict[str, object]]:
    return chat.got("escribiendo")


async def mark_read(stack: RunningStack, reader: Person, hasta: str, con: str | None) -> None:
    async with httpx.AsyncClient(base_url=stack.url, cookies={"token": reader.token}) as http:
        response = await http.post("/api/mensajes/leidos", json={"hasta": hasta, "con": con})
    assert response.status_code == 204, response.text


async def test_typing_reaches_exactly_the_right_sockets_and_is_never_stored(
    stack: RunningStack, connect: Connect
) -> None:
    one, two = await replica_cookies(stack)
    ana, bob = await register_and_login(stack), await register_and_login(stack)
    ana_here, ana_there = await connect(ana, replica=one), await connect(ana, replica=two)
    bob_here, bob_there = await connect(bob, replica=one), await connect(bob, replica=two)
    maria, juan = await second_agent(stack), await second_agent(stack)
    maria_chat, juan_chat = await connect(maria, replica=one), await connect(juan, replica=two)
    stream_before = await last_stream_id(stack)

    assert await ana_here.call("escribiendo", {}) == {"ok": True}
    for agent in (maria_chat, juan_chat):
        await eventually(
            lambda agent=agent: typing(agent) == [{"de": ana.usuario, "con": ana.usuario}]
        )
    assert await maria_chat.call("escribiendo", {"con": ana.usuario}) == {"ok": True}
    for tab in (ana_here, ana_there):  # the team types, never a name
        await eventually(lambda tab=tab: typing(tab) == [{"de": "admin", "con": ana.usuario}])
    await eventually(lambda: len(typing(juan_chat)) == 2)
    assert typing(juan_chat)[1] == {"de": maria.usuario, "con": ana.usuario}  # a colleague
    await asyncio.sleep(0.5)  # time for a stray signal to show up

    assert typing(maria_chat) == [{"de": ana.usuario, "con": ana.usuario}]  # not her own
    for tab in (ana_here, ana_there):
        assert typing(tab) == [{"de": "admin", "con": ana.usuario}]  # not her own either
    for other in (bob_here, bob_there):  # another customer, on either replica: nothing
        assert other.signals == []
    assert await last_stream_id(stack) == stream_before
    assert await stored_rows(stack, ana.usuario, bob.usuario) == 0
    for person in (ana, bob):
        mine = await history(stack, person, "/api/mensajes/mios")
        assert mine.json()["mensajes"] == []


async def test_typing_past_the_allowance_is_dropped_without_an_error(
    stack: RunningStack, connect: Connect
) -> None:
    ana = await register_and_login(stack)
    customer = await connect(ana)
    watcher = await connect(await second_agent(stack))
    # A client that ignores its own 2 s throttle: every signal is answered ok.
    acks = [await customer.call("escribiendo", {}) for _ in range(5)]
    assert acks == [{"ok": True}] * 5
    await eventually(lambda: len(typing(watcher)) >= 1)
    await asyncio.sleep(0.5)
    assert len(typing(watcher)) < 5  # the server relayed fewer than it was sent


async def test_seen_receipts_both_ways_across_replicas(
    stack: RunningStack, connect: Connect
) -> None:
    one, two = await replica_cookies(stack)
    ana, bob = await register_and_login(stack), await register_and_login(stack)
    ana_here, ana_there = await connect(ana, replica=one), await connect(ana, replica=two)
    bob_chat = await connect(bob, replica=two)
    maria, juan = await second_agent(stack), await second_agent(stack)
    maria_chat, juan_chat = await connect(maria, replica=two), await connect(juan, replica=one)

    question = await ana_here.send("admin", "¿Hay alguien?")
    assert question["ok"]
    before = await history(stack, ana, "/api/mensajes/visto")
    assert before.json() == {"hasta": None}
    await mark_read(stack, maria, question["id"], ana.usuario)
    for tab in (ana_here, ana_there):  # the team read it; never which agent
        await eventually(lambda tab=tab: tab.got("visto") == [{"hasta": question["id"]}])
    assert (await history(stack, ana, "/api/mensajes/visto")).json() == {"hasta": question["id"]}

    answer = await maria_chat.send(ana.usuario, "Sí, dime.")
    assert answer["ok"]
    await mark_read(stack, ana, answer["id"], None)
    seen_by_customer = {"con": ana.usuario, "hasta": answer["id"]}
    for agent in (maria_chat, juan_chat):
        await eventually(lambda agent=agent: agent.got("visto") == [seen_by_customer])
    agents_view = await history(stack, juan, "/api/mensajes/visto", con=ana.usuario)
    assert agents_view.json() == {"hasta": answer["id"]}
    await mark_read(stack, ana, answer["id"], None)  # again: nothing newly seen, no receipt
    await asyncio.sleep(0.5)

    assert maria_chat.got("visto") == [seen_by_customer]
    for tab in (ana_here, ana_there):
        assert tab.got("visto") == [{"hasta": question["id"]}]
    assert bob_chat.signals == []
    assert (await history(stack, bob, "/api/mensajes/visto", con=ana.usuario)).status_code == 403


async def test_a_customer_is_refused_every_agent_only_signal_on_either_replica(
    stack: RunningStack, connect: Connect
) -> None:
    one, two = await replica_cookies(stack)
    ana, bob = await register_and_login(stack), await register_and_login(stack)
    bob_chat = await connect(bob, replica=one)
    watcher = await connect(await second_agent(stack), replica=one)
    for replica in (one, two):
        customer = await connect(ana, replica=replica)
        for event, data in (
            ("presencia", {"estado": "ausente"}),
            ("presencia", {"inactiva": True}),
            ("escribiendo", {"con": bob.usuario}),  # into another customer's conversation
        ):
            ack = await customer.call(event, data)
            assert {k: ack.get(k) for k in REFUSED} == REFUSED, (event, data, ack)
    agent_typing_to_agent = await watcher.call("escribiendo", {"con": "admin"})
    assert agent_typing_to_agent["ok"] is False  # agents type only to customers
    await asyncio.sleep(0.5)
    assert bob_chat.signals == []
    assert [p for p in watcher.got("presencia") if p["usuario"] == ana.usuario] == []
    assert typing(watcher) == []
    assert (await history(stack, ana, "/api/agentes")).status_code == 403
