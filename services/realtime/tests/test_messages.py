"""mensaje_privado: routing, acknowledgement, what is stored, and what is refused."""

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_stack.testing import eventually

from .conftest import (
    Client,
    StartReplica,
    account,
    connected,
)

pytestmark = pytest.mark.integration


async def stream(redis: Redis) -> list[tuple[str, dict[str, str]]]:
    entries = await redis.xrange(keys.STREAM)
    return [(i.decode(), {k.decode(): v.decode() for k, v in f.items()}) for i, f in entries]


async def messages(redis: Redis) -> list[tuple[str, dict[str, str]]]:
    """The stream's messages (a customer's first one is followed by its conversation's
    status and assignment entries: test_workflow.py)."""
    return [entry for entry in await stream(redis) if entry[1]["tipo"] == "mensaje"]


async def test_a_customer_message_reaches_every_agent_and_the_senders_tabs_once(
    start_replica: StartReplica, clients, redis: Redis
) -> None:
    one, two = await start_replica(), await start_replica()
    ana = await account(redis, "ana")
    ana_tab1 = await connected(clients, one, ana)
    ana_tab2 = await connected(clients, two, ana)
    # "admin" is both an agent and the support address: still one copy per socket.
    agent = await connected(clients, two, await account(redis, "admin", "admin"))
    agent2 = await connected(clients, one, await account(redis, "maria", "admin"))
    stranger = await connected(clients, one, await account(redis, "bob"))

    ack = await ana_tab1.send("admin", "hola", de="admin")  # a claimed sender is ignored
    assert ack["ok"] is True and set(ack) == {"ok", "id", "fecha"}
    expected = {
        "id": ack["id"],
        "de": "ana",
        "para": "admin",
        "mensaje": "hola",
        "fecha": ack["fecha"],
    }
    receivers = [ana_tab2, agent, agent2]
    await eventually(lambda: all(c.received for c in receivers))
    await asyncio.sleep(0.3)  # would-be duplicates have had time to arrive
    for client in receivers:
        assert client.received == [expected]
    assert ana_tab1.received == []  # the sending socket has the acknowledgement instead
    assert stranger.received == []
    entries = await stream(redis)
    assert entries[:1] == [
        (
            ack["id"],
            {
                "tipo": "mensaje",
                "de": "ana",
                "nombre": "Ana",
                "para": "admin",
                "conversacion": "ana",
                "mensaje": "hola",
                "fecha": ack["fecha"],
            },
        )
    ]
    # Then the new conversation opens, and round robin gives it to an agent online.
    assert [(f["tipo"], f.get("estado"), f.get("asignado")) for _, f in entries[1:]] == [
        ("estado", "abierta", ""),
        ("asignacion", None, "admin"),
    ]


async def test_an_agent_reply_reaches_the_customer_and_every_agent(
    start_replica: StartReplica, clients, redis: Redis
) -> None:
    one, two = await start_replica(), await start_replica()
    ana = await connected(clients, one, await account(redis, "ana"))
    agent = await connected(clients, two, await account(redis, "maria", "admin"))
    agent_tab2 = await connected(clients, one, await account(redis, "maria", "admin"))
    other_agent = await connected(clients, one, await account(redis, "juan", "admin"))
    other_customer = await connected(clients, two, await account(redis, "bob"))

    ack = await agent.send("ana", "¿en qué te ayudo?")
    assert ack["ok"]
    await eventually(lambda: all(c.received for c in (ana, agent_tab2, other_agent)))
    await asyncio.sleep(0.3)
    assert agent.received == []  # the sending socket: it has the acknowledgement
    for client in (ana, agent_tab2, other_agent):
        assert [m["id"] for m in client.received] == [ack["id"]]
        assert client.received[0]["de"] == "maria"
    assert other_customer.received == []
    assert (await stream(redis))[0][1]["conversacion"] == "ana"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("texto suelto", "invalido"),
        ({"para": "admin"}, "invalido"),
        ({"para": "admin", "mensaje": 12}, "invalido"),
        ({"para": "admin", "mensaje": "   "}, "vacio"),
        ({"para": "admin", "mensaje": "x" * 4001}, "demasiado_largo"),
        ({"para": "admin", "mensaje": "nul\x00"}, "caracteres"),
        ({"para": "bob", "mensaje": "hola bob"}, "no_permitido"),
    ],
)
async def test_bad_input_is_refused_not_stored_and_the_socket_survives(
    replica: str, clients, redis: Redis, payload: Any, code: str
) -> None:
    await account(redis, "bob")
    ana = await connected(clients, replica, await account(redis, "ana"))
    ack = await ana.sio.call("mensaje_privado", payload, timeout=5)
    assert ack["ok"] is False and ack["codigo"] == code and ack["error"]
    assert await redis.xlen(keys.STREAM) == 0
    assert ana.sio.connected
    assert (await ana.send("admin", "sigo aquí"))["ok"]


async def test_agents_write_to_existing_customers_only(replica: str, clients, redis: Redis) -> None:
    await account(redis, "juan", "admin")
    agent = await connected(clients, replica, await account(redis, "maria", "admin"))
    assert (await agent.send("nadie", "hola"))["codigo"] == "destinatario"
    assert (await agent.send("juan", "hola"))["codigo"] == "destinatario"
    assert (await agent.send("admin", "hola"))["codigo"] == "destinatario"
    assert await redis.xlen(keys.STREAM) == 0


async def test_flooding_is_rate_limited_per_user_without_affecting_others(
    start_replica: StartReplica, clients, redis: Redis
) -> None:
    url = await start_replica(rate_limit_messages=5, rate_limit_window_seconds=30)
    flooder = await connected(clients, url, await account(redis, "ana"))
    calm = await connected(clients, url, await account(redis, "bob"))
    acks = [await flooder.send("admin", f"m{i}") for i in range(8)]
    assert [a["ok"] for a in acks] == [True] * 5 + [False] * 3
    assert {a.get("codigo") for a in acks[5:]} == {"ritmo"}
    assert (await calm.send("admin", "hola"))["ok"]
    assert len(await messages(redis)) == 6


async def test_a_retried_send_with_the_same_client_id_is_stored_once(
    replica: str, clients, redis: Redis
) -> None:
    ana = await connected(clients, replica, await account(redis, "ana"))
    first = await ana.send("admin", "hola", cid="c-123")
    retry = await ana.send("admin", "hola", cid="c-123")
    assert first == retry
    assert [entry_id for entry_id, _ in await messages(redis)] == [first["id"]]


async def test_every_receiver_sees_one_conversation_in_acceptance_order(
    start_replica: StartReplica, clients, redis: Redis
) -> None:
    one, two = await start_replica(), await start_replica()
    token = await account(redis, "ana")
    senders = [await connected(clients, url, token) for url in (one, two, one, two)]
    agent_a = await connected(clients, one, await account(redis, "maria", "admin"))
    agent_b = await connected(clients, two, await account(redis, "juan", "admin"))

    async def burst(client: Client, n: int) -> None:
        for i in range(n):
            assert (await client.send("admin", f"{id(client)}-{i}"))["ok"]

    await asyncio.gather(*(burst(s, 6) for s in senders))
    stored = [entry_id for entry_id, _ in await messages(redis)]
    assert len(stored) == 24
    await eventually(lambda: all(len(c.received) == 24 for c in (agent_a, agent_b)))
    await eventually(lambda: all(len(c.received) == 18 for c in senders))  # all but their own
    for client in (agent_a, agent_b, *senders):
        received = [m["id"] for m in client.received]
        assert received == [i for i in stored if i in set(received)]  # in acceptance order


async def test_clients_are_asked_to_catch_up_after_the_replica_resubscribes(
    replica: str, clients, redis: Redis
) -> None:
    ana = await connected(clients, replica, await account(redis, "ana"))
    agent = await connected(clients, replica, await account(redis, "maria", "admin"))
    await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    await eventually(lambda: ("sincronizar", {}) in ana.events)
    assert ana.sio.connected
    ack = await ana.send("admin", "después del corte")
    await eventually(lambda: [m["id"] for m in agent.received] == [ack["id"]])


async def test_a_frame_over_the_size_limit_closes_only_that_connection(
    start_replica: StartReplica, clients, redis: Redis
) -> None:
    url = await start_replica(max_frame_bytes=16 * 1024)
    attacker = await connected(clients, url, await account(redis, "ana"))
    bystander = await connected(clients, url, await account(redis, "bob"))
    await attacker.sio.emit("mensaje_privado", {"para": "admin", "mensaje": "x" * 40_000})
    await eventually(lambda: not attacker.sio.connected)
    assert await redis.xlen(keys.STREAM) == 0
    assert (await bystander.send("admin", "todo bien"))["ok"]
