"""Typing signals on two replicas: who receives them (the other side, the other agents,
never another customer; a customer is told the team types, never which agent), what is
refused, the per-socket limit, and that nothing is stored.

"Nothing arrived" is checked after a later message to the same socket has arrived: every
replica delivers what the channel carries in order, so an earlier signal would have come
first."""

from typing import Any

import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_stack.testing import eventually

from .conftest import Client, StartReplica, account, connected

pytestmark = pytest.mark.integration


async def stored(redis: Redis) -> tuple[int, set[bytes]]:
    """What Redis holds: the stream's length and every key's name."""
    return await redis.xlen(keys.STREAM), set(await redis.keys("*"))


async def flush_to(client: Client, sender: Client, para: str) -> None:
    """A message from `sender` that `client` receives: anything sent to `client` before
    it has arrived once this returns."""
    ack = await sender.send(para, "fin")
    assert ack["ok"], ack
    await eventually(lambda: any(m["id"] == ack["id"] for m in client.received))


async def test_a_customer_typing_reaches_every_agent_on_both_replicas_and_no_customer(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    replica_a, replica_b = await start_replica(), await start_replica()
    ana = await account(redis, "ana")
    ana_here, ana_there = (
        await connected(clients, replica_a, ana),
        await connected(clients, replica_b, ana),
    )
    bea = await connected(clients, replica_b, await account(redis, "bea"))
    maria = await connected(clients, replica_a, await account(redis, "maria", "admin"))
    jose = await connected(clients, replica_b, await account(redis, "jose", "admin"))
    before = await stored(redis)

    assert await ana_here.call("escribiendo", {}) == {"ok": True}

    typing = {"de": "ana", "con": "ana"}
    await eventually(lambda: maria.got("escribiendo") == [typing])
    await eventually(lambda: jose.got("escribiendo") == [typing])
    assert await stored(redis) == before  # never stored: no entry, no key
    await flush_to(bea, maria, "bea")
    await flush_to(ana_there, maria, "ana")
    assert bea.got("escribiendo") == []  # never another customer
    assert ana_there.got("escribiendo") == []  # nor the typist's own other tabs
    assert ana_here.got("escribiendo") == []


async def test_an_agent_typing_is_the_team_to_the_customer_and_a_name_to_colleagues(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    replica_a, replica_b = await start_replica(), await start_replica()
    ana = await connected(clients, replica_b, await account(redis, "ana"))
    bea = await connected(clients, replica_a, await account(redis, "bea"))
    maria = await connected(clients, replica_a, await account(redis, "maria", "admin"))
    jose = await connected(clients, replica_b, await account(redis, "jose", "admin"))
    before = await stored(redis)

    assert await maria.call("escribiendo", {"con": "ana"}) == {"ok": True}

    await eventually(lambda: ana.got("escribiendo") == [{"de": "admin", "con": "ana"}])
    await eventually(lambda: jose.got("escribiendo") == [{"de": "maria", "con": "ana"}])
    assert await stored(redis) == before
    await flush_to(bea, jose, "bea")
    await flush_to(maria, ana, "admin")
    assert bea.got("escribiendo") == []
    assert maria.got("escribiendo") == []  # the typing socket is skipped


async def test_typing_signals_are_refused_where_they_do_not_belong(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    replica = await start_replica()
    await account(redis, "bea")
    ana = await connected(clients, replica, await account(redis, "ana"))
    maria = await connected(clients, replica, await account(redis, "maria", "admin"))
    await connected(clients, replica, await account(redis, "jose", "admin"))
    before = await stored(redis)

    refused = await ana.call("escribiendo", {"con": "bea"})
    assert refused["ok"] is False and refused["codigo"] == "no_permitido"
    for payload, codigo in (
        ({}, "conversacion"),  # an agent names the conversation
        ({"con": "jose"}, "conversacion"),  # an agent is not a conversation
        ({"con": "nadie"}, "conversacion"),
        ({"con": 5}, "conversacion"),
        ("ana", "invalido"),
    ):
        answer = await maria.call("escribiendo", payload)
        assert answer["ok"] is False and answer["codigo"] == codigo, payload
    assert await ana.call("escribiendo", {"con": "ana"}) == {"ok": True}  # one's own
    assert ana.sio.connected and maria.sio.connected
    assert await stored(redis) == before


async def test_a_socket_past_its_allowance_is_dropped_silently(
    start_replica: StartReplica, clients: Any, redis: Redis
) -> None:
    replica = await start_replica(typing_min_interval_seconds=3600)
    token = await account(redis, "ana")
    ana, ana_phone = (
        await connected(clients, replica, token),
        await connected(clients, replica, token),
    )
    maria = await connected(clients, replica, await account(redis, "maria", "admin"))

    for _ in range(5):
        assert await ana.call("escribiendo", None) == {"ok": True}  # no error, ever
    assert await ana_phone.call("escribiendo", None) == {"ok": True}  # its own allowance

    await flush_to(maria, ana, "admin")
    assert maria.got("escribiendo") == [{"de": "ana", "con": "ana"}] * 2

    # Her message went: her next keystroke is a new "typing", relayed at once.
    assert await ana.call("escribiendo", None) == {"ok": True}
    await flush_to(maria, ana, "admin")
    assert maria.got("escribiendo") == [{"de": "ana", "con": "ana"}] * 3
