"""The room registry: a message reaches only the replicas whose sockets want it, and a
replica that was forgotten (stalled, swept, Redis emptied) registers again and tells its
clients to catch up (soporte_realtime.room_registry)."""

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from redis.asyncio import Redis

from soporte_common import keys
from soporte_realtime.app import REPLICA
from soporte_stack.testing import eventually

from .conftest import Client, StartReplica, account, connected

pytestmark = pytest.mark.integration


def replica_id(replica_apps: dict[str, web.Application], url: str) -> str:
    return replica_apps[url][REPLICA].rooms.replica


@pytest.fixture
async def replica_channels(redis: Redis) -> AsyncIterator[list[tuple[str, str]]]:
    """(replica id, event) for every emit published on a replica's own channel."""
    published: list[tuple[str, str]] = []
    pubsub = redis.pubsub()
    await pubsub.psubscribe(keys.replica_channel("*"))

    async def listen() -> None:
        async for message in pubsub.listen():
            if message["type"] == "pmessage":
                channel = message["channel"].decode()
                published.append((channel.rpartition("#")[2], message["data"].decode()))

    listener = asyncio.create_task(listen())
    yield published
    listener.cancel()
    await pubsub.aclose()


async def test_a_message_goes_only_to_the_replicas_whose_sockets_want_it(
    start_replica: StartReplica,
    replica_apps: dict[str, web.Application],
    clients: Callable[[], Client],
    redis: Redis,
    replica_channels: list[tuple[str, str]],
) -> None:
    agents_url, ana_url, bob_url = [await start_replica() for _ in range(3)]
    agents, ana_replica, bob_replica = (
        replica_id(replica_apps, url) for url in (agents_url, ana_url, bob_url)
    )
    agent = await connected(clients, agents_url, await account(redis, "admin", "admin"))
    ana_token = await account(redis, "ana")
    ana = await connected(clients, ana_url, ana_token)
    bob = await connected(clients, bob_url, await account(redis, "bob"))

    # Ana's only socket is the sender: her replica is not sent the emit, nor is Bob's.
    ack = await ana.send("admin", "hola")
    await eventually(lambda: [m["id"] for m in agent.received] == [ack["id"]])
    await asyncio.sleep(0.2)
    assert [(r, ack["id"] in data) for r, data in replica_channels] == [(agents, True)]

    # A second tab of Ana's on the same replica: now her replica needs the emit.
    ana_tab2 = await connected(clients, ana_url, ana_token)
    replica_channels.clear()
    ack = await ana.send("admin", "otra pestaña")
    await eventually(lambda: [m["id"] for m in ana_tab2.received] == [ack["id"]])
    await asyncio.sleep(0.2)
    assert sorted(r for r, _ in replica_channels) == sorted([agents, ana_replica])

    # The agent's reply: only Ana's replica (the agent is the only agent, and the sender).
    replica_channels.clear()
    ack = await agent.send("ana", "¿en qué te ayudo?")
    await eventually(lambda: ack["id"] in [m["id"] for m in ana.received])
    await eventually(lambda: ack["id"] in [m["id"] for m in ana_tab2.received])
    await asyncio.sleep(0.2)
    assert [r for r, _ in replica_channels] == [ana_replica]
    assert bob.received == []
    assert bob_replica not in {r for r, _ in replica_channels}


async def test_a_closed_socket_unregisters_its_rooms(
    start_replica: StartReplica,
    replica_apps: dict[str, web.Application],
    clients: Callable[[], Client],
    redis: Redis,
) -> None:
    url = await start_replica()
    replica = replica_id(replica_apps, url)
    ana = await connected(clients, url, await account(redis, "ana"))
    room = keys.ROOM_REPLICAS_PREFIX + "user:ana"
    assert await redis.hgetall(room) == {replica.encode(): b"1"}
    await ana.sio.disconnect()

    async def unregistered() -> bool:
        return await redis.hgetall(room) == {}

    await eventually(unregistered)
    assert b"user:ana" not in await redis.smembers(keys.replica_rooms(replica))


async def test_a_forgotten_replica_registers_again_and_its_clients_catch_up(
    start_replica: StartReplica,
    replica_apps: dict[str, web.Application],
    clients: Callable[[], Client],
    redis: Redis,
) -> None:
    sweeper_url, stalled_url = await start_replica(), await start_replica()
    stalled = replica_id(replica_apps, stalled_url)
    agent = await connected(clients, sweeper_url, await account(redis, "maria", "admin"))
    ana = await connected(clients, stalled_url, await account(redis, "ana"))

    # The stalled replica missed its deadline: the other one's sweep forgets its rooms.
    await redis.zadd(keys.REALTIME_REPLICAS, {stalled: 0})
    await replica_apps[sweeper_url][REPLICA].rooms.sweep()
    assert await redis.hget(keys.ROOM_REPLICAS_PREFIX + "user:ana", stalled) is None
    assert await redis.zscore(keys.REALTIME_REPLICAS, stalled) is None

    # Its next heartbeat finds it forgotten: it registers again and Ana is told to catch up.
    await replica_apps[stalled_url][REPLICA].rooms.renew()
    await eventually(lambda: ana.got("sincronizar") == [{}])
    ack = await agent.send("ana", "¿sigues ahí?")
    await eventually(lambda: [m["id"] for m in ana.received] == [ack["id"]])


async def test_a_replica_registers_again_after_redis_lost_its_data(
    start_replica: StartReplica, clients: Callable[[], Client], redis: Redis
) -> None:
    # A heartbeat every 200 s: only the resubscription's own re-registration can bring the
    # next message to Ana within the test, not a heartbeat that finds the replica forgotten.
    replica = await start_replica(presence_ttl_seconds=600)
    ana = await connected(clients, replica, await account(redis, "ana"))
    agent = await connected(clients, replica, await account(redis, "maria", "admin"))
    # Redis restarted empty: the registry is gone, and so is the subscription.
    for key in await redis.keys(keys.ROOM_REPLICAS_PREFIX + "*"):
        await redis.delete(key)
    await redis.delete(keys.REALTIME_REPLICAS)
    await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    await eventually(lambda: ("sincronizar", {}) in ana.events)
    ack = await agent.send("ana", "después del reinicio")
    await eventually(lambda: [m["id"] for m in ana.received] == [ack["id"]])
