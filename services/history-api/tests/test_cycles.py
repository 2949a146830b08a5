"""First response and resolution times, computed from the log: the report agents read, the
median customers read, the histograms in /metrics; and the conversations' state re-seeded
into Redis from Postgres when Redis lost it."""

from __future__ import annotations

import time

import httpx
import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import ConversationStatus
from soporte_common.conversation_state import queue_score
from soporte_common.entries import AssignmentEntry, StatusEntry
from soporte_common.messages import now_iso
from soporte_stack.testing import eventually

from .conftest import account, append, as_user, entry

pytestmark = pytest.mark.integration

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000


class Log:
    """Appends entries with chosen times (ms), as realtime's scripts write them."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def message(self, at: int, de: str, con: str, ciclo: str = "") -> str:
        item = entry(
            de, "hola", para="admin" if de == con else con, rol="user" if de == con else "admin"
        )
        extra = {"ciclo": ciclo} if ciclo else {}
        return await append(self.redis, item, entry_id=f"{at}-0", **extra)

    async def status(self, at: int, con: str, estado: str, anterior: str, **fields: str) -> str:
        item = StatusEntry(
            de=fields.get("de", ""),
            conversacion=con,
            estado=ConversationStatus(estado),
            anterior=anterior,
            asignado=fields.get("asignado", ""),
            hasta=fields.get("hasta", ""),
            ciclo=fields.get("ciclo", ""),
            fecha=now_iso(),
        )
        return await append(self.redis, item, entry_id=f"{at}-0")

    async def assign(self, at: int, con: str, asignado: str, de: str = "") -> str:
        item = AssignmentEntry(
            de=de, conversacion=con, asignado=asignado, anterior="", fecha=now_iso()
        )
        return await append(self.redis, item, entry_id=f"{at}-0")


async def metric(client: httpx.AsyncClient, name: str) -> float:
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return 0.0


async def test_the_report_and_the_metrics_measure_each_cycle_from_the_log(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria, ana = await account(redis, "maria", "admin"), await account(redis, "ana")
    await redis.hset(keys.KNOWN_AGENTS, mapping={"maria": "María", "juan": "Juan"})
    answered = await metric(client, "soporte_first_response_seconds_count")
    resolved = await metric(client, "soporte_resolution_seconds_count")
    log, now = Log(redis), int(time.time() * 1000)
    old = now - 10 * DAY  # in the 30-day report only
    await log.message(old, "bea", "bea")
    bea = await log.status(old + 1, "bea", "abierta", "")
    await log.message(old + 2 * MINUTE + 1, "juan", "bea", ciclo=bea)  # 2 min
    await log.status(
        old + HOUR + 1, "bea", "resuelta", "abierta", de="juan", asignado="juan", ciclo=bea
    )
    recent = now - HOUR
    await log.message(recent, "ana", "ana")
    ana_1 = await log.status(recent + 1, "ana", "abierta", "")
    await log.assign(recent + 2, "ana", "maria")
    await log.message(recent + MINUTE + 1, "maria", "ana", ciclo=ana_1)  # 1 min
    await log.message(recent + 2 * MINUTE, "maria", "ana")  # not a first response
    await log.status(recent + 10 * MINUTE + 1, "ana", "resuelta", "abierta", de="pepa",
                     asignado="maria", ciclo=ana_1)  # 10 min, for maria who held it  # fmt: skip
    await log.message(recent + 11 * MINUTE, "ana", "ana")
    await log.status(recent + 11 * MINUTE + 1, "ana", "abierta", "resuelta")  # reopened
    await log.message(recent + 12 * MINUTE, "carla", "carla")
    carla = await log.status(recent + 12 * MINUTE + 1, "carla", "abierta", "")
    await log.message(recent + 12 * MINUTE + 30_001, "maria", "carla", ciclo=carla)  # 30 s

    week = (await client.get("/api/informes", params={"dias": 7}, headers=as_user(maria))).json()
    assert (week["dias"], week["abiertas"], week["resueltas"]) == (7, 3, 1)
    assert week["primera_respuesta"] == {"n": 2, "mediana_segundos": 45.0, "p90_segundos": 57.0}
    assert week["resolucion"] == {"n": 1, "mediana_segundos": 600.0, "p90_segundos": 600.0}
    assert [(a["agente"], a["nombre"]) for a in week["por_agente"]] == [("maria", "María")]
    assert week["por_agente"][0]["resolucion"]["n"] == 1
    month = (await client.get("/api/informes", params={"dias": 30}, headers=as_user(maria))).json()
    assert (month["abiertas"], month["resueltas"]) == (4, 2)
    assert month["primera_respuesta"] == {"n": 3, "mediana_segundos": 60.0, "p90_segundos": 108.0}
    assert month["resolucion"]["mediana_segundos"] == 2100.0
    juan = next(a for a in month["por_agente"] if a["agente"] == "juan")
    assert juan["primera_respuesta"]["mediana_segundos"] == 120.0
    assert juan["resolucion"]["mediana_segundos"] == 3600.0
    bad = await client.get("/api/informes", params={"dias": 3}, headers=as_user(maria))
    assert bad.status_code == 422
    # Customers may read the team's median first response (the last 30 days), nothing else.
    median = await client.get("/api/soporte/tiempo-respuesta", headers=as_user(ana))
    assert median.json() == {"mediana_segundos": 60.0}
    assert (await client.get("/api/soporte/tiempo-respuesta")).status_code == 401
    assert await metric(client, "soporte_first_response_seconds_count") == answered + 3
    assert await metric(client, "soporte_resolution_seconds_count") == resolved + 2


async def test_with_nothing_measured_the_median_is_null(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    ana = await account(redis, "ana")
    median = await client.get("/api/soporte/tiempo-respuesta", headers=as_user(ana))
    assert median.json() == {"mediana_segundos": None}


async def test_redis_losing_the_state_reopens_and_unassigns_nothing(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria = await account(redis, "maria", "admin")
    for customer in ("ana", "bea", "carla", "dani", "eva"):
        await account(redis, customer)
    log, now = Log(redis), int(time.time() * 1000) - HOUR
    hasta = "2031-01-01T09:00:00.000Z"
    ana = await log.status(now + 1, "ana", "abierta", "")
    await log.assign(now + 2, "ana", "maria")
    await log.message(now + 3, "maria", "ana", ciclo=ana)
    await log.status(now + 4, "bea", "abierta", "")
    await log.assign(now + 5, "bea", "juan", de="maria")
    await log.status(
        now + 6, "bea", "pospuesta", "abierta", de="juan", asignado="juan", hasta=hasta
    )
    carla = await log.status(now + 7, "carla", "abierta", "")  # waits for round robin
    await log.status(now + 8, "dani", "abierta", "")
    await log.assign(now + 9, "dani", "maria")
    await log.assign(now + 10, "dani", "", de="maria")  # an agent unassigned it: no queue
    await log.status(now + 11, "eva", "resuelta", "abierta", de="maria")
    counts = await client.get("/api/usuarios-conversaciones/recuento", headers=as_user(maria))
    assert counts.status_code == 200  # everything is stored
    async with redis.pipeline(transaction=True) as lost:  # Redis lost it; eva wrote meanwhile
        for usuario in ("ana", "bea", "carla", "dani"):
            lost.delete(keys.conversation_state(usuario))
        lost.delete(
            keys.AGENT_LOAD, keys.SNOOZED, keys.WAITING_QUEUE, keys.CONVERSATION_STATE_SEEDED
        )
        lost.hset(keys.conversation_state("eva"), mapping={"estado": "abierta", "asignado": "juan"})
        lost.hset(keys.AGENT_LOAD, "juan", 1)
        await lost.execute()
    await eventually(lambda: redis.exists(keys.CONVERSATION_STATE_SEEDED), timeout=15)

    async def state(usuario: str) -> dict[str, str]:
        raw = await redis.hgetall(keys.conversation_state(usuario))
        return {k.decode(): v.decode() for k, v in raw.items()}

    assert await state("ana") == {
        "estado": "abierta", "asignado": "maria", "hasta": "", "ciclo": ana, "respondida": "1"
    }  # fmt: skip
    assert (await state("bea"))["estado"] == "pospuesta"
    assert (await state("bea"))["hasta"] == hasta
    assert (await state("carla"))["ciclo"] == carla
    assert (await state("dani"))["asignado"] == ""
    assert await state("eva") == {"estado": "abierta", "asignado": "juan"}  # newer: kept
    loads = {k.decode(): int(v) for k, v in (await redis.hgetall(keys.AGENT_LOAD)).items()}
    assert loads == {"maria": 1, "juan": 1}  # bea is snoozed: it does not count
    snoozed = await redis.zrange(keys.SNOOZED, 0, -1, withscores=True)
    assert snoozed == [(b"bea", 1925024400000.0)]
    queue = await redis.zrange(keys.WAITING_QUEUE, 0, -1, withscores=True)
    assert queue == [(b"carla", float(queue_score(carla)))]
