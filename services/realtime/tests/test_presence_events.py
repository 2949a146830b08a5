"""Presence seen from clients of two replicas: customers learn whether support is there,
agents see each other's state, and each user's sockets are capped across replicas."""

import pytest
import socketio
from redis.asyncio import Redis

from soporte_stack.testing import eventually

from .conftest import Client, StartReplica, account

pytestmark = pytest.mark.integration


async def test_customers_learn_when_support_comes_and_goes(
    start_replica: StartReplica, redis: Redis, clients: type[Client]
) -> None:
    replica_a, replica_b = await start_replica(), await start_replica()
    customer = clients()
    await customer.connect(replica_a, await account(redis, "ana"))
    await eventually(lambda: customer.got("soporte_disponible") == [{"en_linea": False}])
    agent = clients()
    await agent.connect(replica_b, await account(redis, "maria", "admin"))
    await eventually(lambda: customer.got("soporte_disponible")[-1:] == [{"en_linea": True}])
    colleague = clients()
    await colleague.connect(replica_a, await account(redis, "jose", "admin"))
    assert await agent.sio.call("presencia", {"estado": "ausente"}, timeout=5) == {"ok": True}
    away = {"usuario": "maria", "nombre": "Maria", "estado": "ausente"}
    await eventually(lambda: away in colleague.got("presencia"))
    assert customer.got("soporte_disponible")[-1] == {"en_linea": True}  # jose is there
    await colleague.sio.disconnect()
    await eventually(lambda: customer.got("soporte_disponible")[-1] == {"en_linea": False})
    assert customer.got("presencia") == []  # customers never see agents' names or states


async def test_an_idle_tab_is_away_only_when_every_tab_is(
    start_replica: StartReplica, redis: Redis, clients: type[Client]
) -> None:
    replica_a, replica_b = await start_replica(), await start_replica()
    token = await account(redis, "maria", "admin")
    tab1, tab2, watcher = clients(), clients(), clients()
    await tab1.connect(replica_a, token)
    await tab2.connect(replica_b, token)
    await watcher.connect(replica_a, await account(redis, "jose", "admin"))
    idle = {"inactiva": True}
    assert await tab1.sio.call("presencia", idle, timeout=5) == {"ok": True}
    assert await tab2.sio.call("presencia", idle, timeout=5) == {"ok": True}
    await eventually(
        lambda: (
            {"usuario": "maria", "nombre": "Maria", "estado": "ausente"} in watcher.got("presencia")
        )
    )
    back = {"inactiva": False}
    assert await tab2.sio.call("presencia", back, timeout=5) == {"ok": True}
    await eventually(
        lambda: (
            watcher.got("presencia")[-1]
            == {"usuario": "maria", "nombre": "Maria", "estado": "en_linea"}
        )
    )


async def test_customers_cannot_set_presence_and_bad_payloads_are_refused(
    start_replica: StartReplica, redis: Redis, clients: type[Client]
) -> None:
    replica = await start_replica()
    customer, agent = clients(), clients()
    await customer.connect(replica, await account(redis, "ana"))
    await agent.connect(replica, await account(redis, "maria", "admin"))
    refused = await customer.sio.call("presencia", {"estado": "ausente"}, timeout=5)
    assert refused["ok"] is False and refused["codigo"] == "no_permitido"
    for bad in (None, "ausente", {"estado": "dormido"}, {"inactiva": 1}):
        answer = await agent.sio.call("presencia", bad, timeout=5)
        assert answer["ok"] is False and answer["codigo"] == "invalido", bad
    assert agent.sio.connected and customer.sio.connected


async def test_a_users_sockets_are_capped_across_replicas(
    start_replica: StartReplica, redis: Redis, clients: type[Client]
) -> None:
    replica_a = await start_replica(max_sockets_per_user=2)
    replica_b = await start_replica(max_sockets_per_user=2)
    token = await account(redis, "ana")
    first, second, third = clients(), clients(), clients()
    await first.connect(replica_a, token)
    await second.connect(replica_b, token)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await third.connect(replica_a, token)
    assert third.refused == [{"message": "Demasiadas conexiones"}]
    other = clients()
    await other.connect(replica_b, await account(redis, "bea"))  # other users are unaffected
    await first.sio.disconnect()
    fourth = clients()
    await eventually(lambda: not first.sio.connected)
    await fourth.connect(replica_b, token)
    assert fourth.sio.connected
