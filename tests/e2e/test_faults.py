"""The guarantees under faults (docs/guarantees.md): each test runs the real stack (two
realtime replicas behind the gateway, real Redis and Postgres), breaks a real component
while real clients keep working, and checks the outcome from the outside.

Every test leaves the stack as it found it (whatever it stopped, it starts again)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import AGENT_SOCKET_QUERY
from soporte_common.messages import stream_id_to_db
from soporte_stack.testing import RunningStack, eventually

from .conftest import (
    STICKY_COOKIE,
    Chat,
    Connect,
    agent,
    ensure_running,
    register_and_login,
    replica_answering,
    replica_cookies,
    second_agent,
)
from .resilient import ResilientChat, id_key

pytestmark = pytest.mark.e2e

HISTORY = "services:history-api"
POSTGRES = "infra:postgres"
REDIS = "infra:redis"


@pytest.fixture
async def redis(stack: RunningStack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.redis_url)
    yield client
    await client.aclose()


async def stored_counts(stack: RunningStack, ids: list[str]) -> Counter[int]:
    """How many rows Postgres holds for each of these message ids."""
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await conn.fetch(
            "SELECT id FROM mensajes WHERE id = ANY($1::bigint[])",
            [stream_id_to_db(i) for i in ids],
        )
    finally:
        await conn.close()
    return Counter(r["id"] for r in rows)


async def all_stored_exactly_once(stack: RunningStack, ids: list[str], timeout: float = 90) -> None:
    expected = Counter(stream_id_to_db(i) for i in ids)
    assert len(expected) == len(ids), "an id was acknowledged twice"
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            counts = await stored_counts(stack, ids)
        except (OSError, asyncpg.PostgresError):
            counts = Counter()
        if counts == expected:
            return
        assert all(c == 1 for c in counts.values()), "a message was stored twice"
        if asyncio.get_running_loop().time() > deadline:
            missing = len(expected) - len(counts)
            raise AssertionError(f"{missing} acknowledged messages never reached Postgres")
        await asyncio.sleep(0.5)


async def nothing_pending(redis: Redis, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await redis.xpending(keys.STREAM, keys.CONSUMER_GROUP))["pending"]:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("entries stayed pending in the consumer group")
        await asyncio.sleep(0.3)


async def customers(
    stack: RunningStack, connect: Connect, n: int, replicas: list[str] | None = None
) -> list[Chat]:
    people = await asyncio.gather(*(register_and_login(stack) for _ in range(n)))
    return [
        await connect(p, replica=replicas[i % 2] if replicas else None)
        for i, p in enumerate(people)
    ]


SENT: list[str] = []  # every acknowledged send, for tests that wait for traffic to flow


async def send_many(chat: Chat, count: int, pause: float = 0.0) -> list[dict[str, Any]]:
    acks = []
    for i in range(count):
        acks.append(await chat.send("admin", f"{chat.person.usuario} #{i}"))
        SENT.append(acks[-1].get("id", ""))
        if pause:
            await asyncio.sleep(pause)
    return acks


def ok_ids(acks: list[list[dict[str, Any]]]) -> list[str]:
    return [a["id"] for batch in acks for a in batch if a["ok"]]


# ---------------------------------------------------------------- 1, 2: history-api dies


async def test_history_api_killed_while_1000_messages_are_sent_loses_nothing(
    stack: RunningStack, connect: Connect, redis: Redis
) -> None:
    chats = await customers(stack, connect, 40)
    sending = asyncio.gather(*(send_many(c, 25) for c in chats))
    already = len(SENT)
    await eventually(lambda: len(SENT) > already + 100)
    try:
        await stack.control("signal", "KILL", HISTORY)  # a crash, mid-batch
        await stack.control("stop", HISTORY)  # stay down while sends go on
        acks = await sending
    finally:
        await ensure_running(stack, HISTORY)
    ids = ok_ids(acks)
    assert len(ids) == 1000, "history-api being down must not stop acceptance"
    await all_stored_exactly_once(stack, ids)
    await nothing_pending(redis)


async def test_a_consumer_that_dies_between_insert_and_ack_leaves_no_duplicate(
    stack: RunningStack, connect: Connect, redis: Redis
) -> None:
    await stack.control("stop", HISTORY)
    try:
        chats = await customers(stack, connect, 5)
        ids = ok_ids(await asyncio.gather(*(send_many(c, 20) for c in chats)))
        # Play the dying consumer: read the entries under history-api's own consumer name,
        # commit the messages to Postgres, and vanish before XACK (each new conversation's
        # status and assignment entries are left for history-api).
        consumer = f"{socket.gethostname()}-{stack.info.history_port}"
        read = await redis.xreadgroup(keys.CONSUMER_GROUP, consumer, {keys.STREAM: ">"})
        entries = read[0][1]
        assert len(entries) >= len(ids)
        conn = await asyncpg.connect(stack.database_url)
        try:
            await conn.executemany(
                "INSERT INTO mensajes (id, conversacion, de_usuario, para_usuario, mensaje, fecha)"
                " VALUES ($1, $2, $3, $4, $5, now())",
                [
                    (
                        stream_id_to_db(i.decode()),
                        f[b"conversacion"].decode(),
                        f[b"de"].decode(),
                        f[b"para"].decode(),
                        f[b"mensaje"].decode(),
                    )
                    for i, f in entries
                    if f[b"tipo"] == b"mensaje"
                ],
            )
        finally:
            await conn.close()
        assert (await redis.xpending(keys.STREAM, keys.CONSUMER_GROUP))["pending"] >= len(ids)
    finally:
        await ensure_running(stack, HISTORY)
    await nothing_pending(redis)
    await all_stored_exactly_once(stack, ids)


# ---------------------------------------------------------------- 3: Postgres away


async def test_postgres_down_for_20_seconds_under_load(
    stack: RunningStack, connect: Connect, redis: Redis
) -> None:
    admin = await connect(await agent(stack))
    chats = await customers(stack, connect, 10)
    sending = asyncio.gather(*(send_many(c, 60, pause=0.5) for c in chats))
    await eventually(lambda: len(admin.received) >= 20)
    await stack.control("stop", POSTGRES)
    try:
        received_before = len(admin.received)
        await asyncio.sleep(20)  # the outage
        assert len(admin.received) > received_before + 100, "live delivery stopped"
        async with httpx.AsyncClient(
            base_url=stack.url, timeout=30, cookies={"token": chats[0].person.token}
        ) as http:
            during = await http.get("/api/mensajes/mios")
        assert during.status_code == 503  # a clear answer, not a hang
    finally:
        await ensure_running(stack, POSTGRES)
    acks = await sending
    ids = ok_ids(acks)
    assert len(ids) == 600
    await eventually(lambda: {m["id"] for m in admin.received} >= set(ids), timeout=30)
    await all_stored_exactly_once(stack, ids)
    await nothing_pending(redis)


# ---------------------------------------------------------------- 4: a realtime replica dies


async def test_a_dead_replicas_clients_reconnect_elsewhere_and_catch_up(
    stack: RunningStack,
) -> None:
    doomed, survivor = await replica_cookies(stack)
    ana = await register_and_login(stack)
    support = await agent(stack)
    customer = ResilientChat(stack.url, ana, ana.usuario, replica=doomed)
    watcher = ResilientChat(stack.url, support, ana.usuario, replica=survivor)
    writer = ResilientChat(stack.url, support, ana.usuario, replica=survivor)
    victim = await replica_program_for(stack, doomed)
    for chat in (customer, watcher, writer):
        await chat.start()
    sent = [(await writer.send(f"antes {i}"))["id"] for i in range(3)]
    try:
        await stack.control("signal", "KILL", victim)
        await stack.control("stop", victim)
        for i in range(5):  # written while the customer has no connection
            sent.append((await writer.send(f"durante {i}"))["id"])
        await eventually(lambda: customer.connects >= 2, timeout=30)
        sent.append((await customer.send("ya estoy de vuelta"))["id"])
        sent += [(await writer.send(f"después {i}"))["id"] for i in range(3)]
        for chat in (customer, watcher):
            await eventually(lambda c=chat: set(sent) <= set(c.messages), timeout=30)
            assert c_ids(chat, sent) == sorted(sent, key=id_key)
    finally:
        for chat in (customer, watcher, writer):
            await chat.stop()
        await ensure_running(stack, victim)


async def test_agents_go_to_the_agents_replica_and_to_any_while_it_is_down(
    stack: RunningStack, connect: Connect
) -> None:
    agents_port, other_port = stack.info.realtime_ports  # the first serves the agents

    async def agents_land_on(port: int) -> bool:
        return await replica_answering(stack, **AGENT_SOCKET_QUERY) == port

    # (an earlier test may have restarted it: the gateway takes it back at a health check)
    await eventually(lambda: agents_land_on(agents_port), timeout=30)
    assert all([await agents_land_on(agents_port) for _ in range(6)])
    assert {await replica_answering(stack) for _ in range(6)} == {agents_port, other_port}

    agents_replica = "realtime:realtime-1"
    ana = await register_and_login(stack)
    try:
        await stack.control("stop", agents_replica)
        # The gateway's health check notices within seconds; agents then land anywhere.
        await eventually(lambda: agents_land_on(other_port), timeout=30)
        support = await connect(await agent(stack), as_agent=True)
        customer = await connect(ana)
        ack = await customer.send("admin", "¿hay alguien?")
        await eventually(lambda: ack["id"] in [m["id"] for m in support.received])
    finally:
        await ensure_running(stack, agents_replica)
    await eventually(lambda: agents_land_on(agents_port), timeout=30)


def c_ids(chat: ResilientChat, wanted: list[str]) -> list[str]:
    return [i for i in chat.ordered_ids if i in set(wanted)]


async def replica_program_for(stack: RunningStack, cookie: str) -> str:
    """The supervisord program behind a sticky-cookie value (replicas name themselves)."""
    port = await replica_answering(stack, cookies={STICKY_COOKIE: cookie})
    assert port is not None, "no replica behind the cookie"
    return f"realtime:realtime-{stack.info.realtime_ports.index(port) + 1}"


# ---------------------------------------------------------------- 5: Redis restarts

# Each sender stays under the shared stack's per-user rate limit (30 messages per 10 s): a
# refusal in this test must be the outage's, not the limit's.
SEND_PAUSE_SECONDS = 0.4


async def test_redis_restarted_during_sends(stack: RunningStack, connect: Connect) -> None:
    side_a, side_b = await replica_cookies(stack)
    support = await agent(stack)
    people = [await register_and_login(stack) for _ in range(6)]
    senders = [await connect(p, replica=(side_a, side_b)[i % 2]) for i, p in enumerate(people)]
    answers: list[dict[str, Any]] = []
    silent: list[str] = []
    stop = asyncio.Event()

    async def keep_sending(chat: Chat) -> None:
        n = 0
        while not stop.is_set():
            try:
                answers.append(await chat.send("admin", f"{chat.person.usuario} {n}"))
            except TimeoutError:
                silent.append(chat.person.usuario)  # no answer at all: what must not happen
            n += 1
            await asyncio.sleep(SEND_PAUSE_SECONDS)

    sending = [asyncio.create_task(keep_sending(c)) for c in senders]
    await eventually(lambda: len(answers) >= 30)
    await stack.control("signal", "KILL", REDIS)  # a crash; the AOF has the data
    # Down until a send has met the outage: supervisord's own restart can fall between two
    # sends, which then meet none.
    await stack.control("stop", REDIS)
    try:
        await eventually(lambda: any(not a["ok"] for a in answers), timeout=30)
    finally:
        await stack.control("start", REDIS)
    await eventually(lambda: stack.is_running(REDIS), timeout=60)
    await eventually(lambda: sum(a["ok"] for a in answers[-10:]) == 10, timeout=60)
    stop.set()
    await asyncio.gather(*sending)

    assert silent == [], "every send must be answered, with an error if need be"
    refused = [a for a in answers if not a["ok"]]
    assert {a["codigo"] for a in refused} == {"no_disponible"}
    await all_stored_exactly_once(stack, [a["id"] for a in answers if a["ok"]])
    # Both replicas resubscribed: a customer on one reaches an agent on the other.
    ana = await register_and_login(stack)
    on_a = await connect(ana, replica=side_a)
    on_b = await connect(support, replica=side_b)
    ack = await on_a.send("admin", "¿me oís después del reinicio?")
    await eventually(lambda: any(m["id"] == ack["id"] for m in on_b.received))


# ---------------------------------------------------------------- 6: ordering


async def test_many_senders_in_one_conversation_are_seen_in_acceptance_order(
    stack: RunningStack, connect: Connect
) -> None:
    side_a, side_b = await replica_cookies(stack)
    ana = await register_and_login(stack)
    support = await second_agent(stack)  # its own rate budget
    writers = [
        await connect(ana, replica=side_a),
        await connect(ana, replica=side_b),
        await connect(support, replica=side_a),
        await connect(support, replica=side_b),
    ]
    observers = [await connect(support, replica=side) for side in (side_a, side_b)]

    async def burst(chat: Chat) -> None:
        para = "admin" if chat.person.rol == "user" else ana.usuario
        for i in range(12):  # two tabs each: under the per-user rate limit
            ack = await chat.sio.call(
                "mensaje_privado", {"para": para, "mensaje": str(i)}, timeout=15
            )
            assert ack["ok"], ack

    await asyncio.gather(*(burst(w) for w in writers))
    receivers = [*writers, *observers]
    await eventually(lambda: all(len(r.received) >= 48 for r in observers), timeout=30)
    # Writers get everything but their own (acknowledged instead): 48 - 12 each.
    await eventually(lambda: all(len(w.received) >= 36 for w in writers), timeout=30)
    accepted = sorted((m["id"] for m in observers[0].received), key=id_key)
    for receiver in receivers:
        received = [m["id"] for m in receiver.received]
        assert received == [i for i in accepted if i in set(received)]


# ---------------------------------------------------------------- 7: trimming and backlog


async def realtime_metric(stack: RunningStack, name: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(stack.info.realtime_url(1) + "/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith(name + " "))
    return float(line.split()[1])


async def test_a_long_history_outage_loses_nothing_and_the_backlog_is_visible(
    stack: RunningStack, connect: Connect, redis: Redis
) -> None:
    await stack.control("stop", HISTORY)
    try:
        chats = await customers(stack, connect, 12)
        acks = await asyncio.gather(*(send_many(c, 25) for c in chats))
        ids = ok_ids(acks)
        assert len(ids) == 300, [a for batch in acks for a in batch if not a["ok"]][:3]
        backlog = await realtime_metric(stack, "soporte_stream_length")
        assert backlog >= 300
        first_kept = (await redis.xrange(keys.STREAM, count=1))[0][0].decode()
        assert id_key(first_kept) <= id_key(min(ids, key=id_key))  # nothing trimmed away
    finally:
        await ensure_running(stack, HISTORY)
    await all_stored_exactly_once(stack, ids)
    await nothing_pending(redis)
    # Once acknowledged, the backlog is trimmed away.
    deadline = asyncio.get_running_loop().time() + 60
    while await redis.xlen(keys.STREAM) >= 300:
        assert asyncio.get_running_loop().time() < deadline, "acknowledged entries never trimmed"
        await asyncio.sleep(0.5)
    async with httpx.AsyncClient() as http:
        status = (await http.get(stack.info.history_url + "/stream")).json()
    assert status["pending"] == 0
