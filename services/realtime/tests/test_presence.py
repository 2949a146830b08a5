"""The cluster-wide socket registry against a real Redis: the per-user cap, agent presence,
and sockets of a replica that died without a goodbye."""

import asyncio

import pytest
from redis.asyncio import Redis

from soporte_common.contract import PresenceState
from soporte_common.tokens import Claims, Rol
from soporte_realtime.presence import PresenceChanges, SocketRegistry, TooManySocketsError
from soporte_stack.testing import eventually

pytestmark = pytest.mark.integration

ONLINE, AWAY, OFFLINE = PresenceState.ONLINE, PresenceState.AWAY, PresenceState.OFFLINE


def person(usuario: str, rol: Rol) -> Claims:
    return Claims(user=usuario, nombre=usuario.title(), rol=rol, iat=0, exp=1, jti=usuario)


def states(changes: PresenceChanges) -> dict[str, PresenceState]:
    return {usuario: agent.estado for usuario, agent in changes.agents.items()}


async def agent_states(sockets: SocketRegistry) -> dict[str, PresenceState]:
    return {usuario: agent.estado for usuario, agent in (await sockets.agents()).items()}


def registry(redis: Redis, *, ttl: float = 30.0, cap: int = 20) -> SocketRegistry:
    return SocketRegistry(redis, ttl_seconds=ttl, max_sockets_per_user=cap)


async def test_a_user_has_at_most_the_cap_of_sockets_across_replicas(redis: Redis) -> None:
    replica_a, replica_b = registry(redis, cap=3), registry(redis, cap=3)
    await replica_a.join("s1", person("ana", "user"))
    await replica_b.join("s2", person("ana", "user"))
    await replica_a.join("s3", person("ana", "user"))
    with pytest.raises(TooManySocketsError):
        await replica_b.join("s4", person("ana", "user"))
    await replica_a.join("s3", person("ana", "user"))  # the same socket again is not a new one
    await registry(redis, cap=3).join("x1", person("bea", "user"))  # other users are not affected
    await replica_a.leave("s1", "ana", "user")
    await replica_b.join("s4", person("ana", "user"))


async def test_an_agent_is_online_while_any_socket_counts(redis: Redis) -> None:
    sockets = registry(redis)
    first = await sockets.join("t1", person("maria", "admin"))
    assert states(first) == {"maria": ONLINE}
    assert first.support_available is True
    assert not await sockets.join("t2", person("maria", "admin"))  # a second tab changes nothing
    assert not await sockets.leave("t1", "maria", "admin")
    last = await sockets.leave("t2", "maria", "admin")
    assert states(last) == {"maria": OFFLINE}
    assert last.support_available is False
    assert await agent_states(sockets) == {"maria": OFFLINE}
    assert last.agents["maria"].nombre == "Maria"


async def test_customers_never_change_presence(redis: Redis) -> None:
    sockets = registry(redis)
    assert not await sockets.join("c1", person("ana", "user"))
    assert not await sockets.leave("c1", "ana", "user")
    assert await agent_states(sockets) == {}


async def test_away_when_every_tab_is_idle_or_by_the_agents_own_switch(redis: Redis) -> None:
    sockets = registry(redis)
    await sockets.join("t1", person("maria", "admin"))
    await sockets.join("t2", person("maria", "admin"))
    assert not await sockets.set_idle("t1", "maria", idle=True)  # one tab still in use
    idle = await sockets.set_idle("t2", "maria", idle=True)
    assert states(idle) == {"maria": AWAY}
    assert idle.support_available is False
    back = await sockets.set_idle("t1", "maria", idle=False)
    assert states(back) == {"maria": ONLINE}
    away = await sockets.set_away("maria", away=True)
    assert states(away) == {"maria": AWAY}
    assert not await sockets.set_idle("t2", "maria", idle=False)  # still away by choice
    assert states(await sockets.set_away("maria", away=False)) == {"maria": ONLINE}
    # An idle tab that closes stops counting as idle too.
    await sockets.set_idle("t2", "maria", idle=True)
    assert not await sockets.leave("t2", "maria", "admin")
    assert await agent_states(sockets) == {"maria": ONLINE}


async def test_support_is_available_while_one_agent_is_online(redis: Redis) -> None:
    sockets = registry(redis)
    assert (await sockets.join("a", person("maria", "admin"))).support_available is True
    assert (await sockets.join("b", person("jose", "admin"))).support_available is None
    assert (await sockets.leave("a", "maria", "admin")).support_available is None
    assert await sockets.support_available()
    assert (await sockets.leave("b", "jose", "admin")).support_available is False
    assert not await sockets.support_available()


async def test_a_dead_replicas_agent_goes_offline_once_for_everyone(redis: Redis) -> None:
    dead = registry(redis, ttl=0.3)
    await dead.join("t1", person("maria", "admin"))
    survivors = [registry(redis, ttl=0.3) for _ in range(3)]
    announced: list[dict[str, PresenceState]] = []

    async def swept() -> bool:
        results = await asyncio.gather(*(s.sweep() for s in survivors))
        announced.extend(states(r) for r in results if r.agents)
        return bool(announced)

    await eventually(swept, timeout=5)
    assert announced == [{"maria": OFFLINE}]  # exactly one sweeper announces it
    assert not any(await asyncio.gather(*(s.sweep() for s in survivors)))


async def test_renewed_sockets_keep_counting(redis: Redis) -> None:
    alive = registry(redis, ttl=0.4)
    await alive.join("t1", person("maria", "admin"))
    for _ in range(6):
        assert await alive.renew([("maria", "t1")]) == []
        assert not await alive.sweep()
        await asyncio.sleep(0.1)
    assert await agent_states(alive) == {"maria": ONLINE}


async def test_renewal_reports_sockets_swept_while_the_replica_stalled(redis: Redis) -> None:
    stalled = registry(redis, ttl=0.2)
    # The customer's socket first: it has expired by the time the agent's is swept.
    await stalled.join("c1", person("ana", "user"))
    await stalled.join("t1", person("maria", "admin"))

    async def swept() -> bool:
        return bool((await stalled.sweep()).agents)

    await eventually(swept, timeout=5)
    missing = await stalled.renew([("maria", "t1"), ("ana", "c1")])
    assert sorted(missing) == [("ana", "c1"), ("maria", "t1")]
    assert states(await stalled.join("t1", person("maria", "admin"))) == {"maria": ONLINE}


async def test_a_crashed_replicas_sockets_stop_counting_against_the_cap(redis: Redis) -> None:
    crashed = registry(redis, ttl=0.2, cap=2)
    await crashed.join("s1", person("ana", "user"))
    await crashed.join("s2", person("ana", "user"))
    fresh = registry(redis, ttl=30, cap=2)
    with pytest.raises(TooManySocketsError):
        await fresh.join("s3", person("ana", "user"))

    async def joined() -> bool:
        try:
            await fresh.join("s3", person("ana", "user"))
        except TooManySocketsError:
            return False
        return True

    await eventually(joined, timeout=5)
