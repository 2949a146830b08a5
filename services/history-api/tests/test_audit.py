"""The audit trail against real Redis and Postgres: entries from the audit stream and from
the conversation log, each stored once; the table refuses every change; agents read it
newest first, filtered and paged; customers are refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from soporte_common import audit, keys
from soporte_common.contract import AuditAction
from soporte_history.audit_log import AUDIT_TRAIL
from soporte_history.consumer import StreamConsumer, ensure_group
from soporte_stack.testing import eventually

from .conftest import account, as_user, assign, note, status

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def trail(client: httpx.AsyncClient, token: str, **params: object) -> list[dict[str, object]]:
    response = await client.get("/api/auditoria", params=params, headers=as_user(token))
    assert response.status_code == 200, response.text
    events: list[dict[str, object]] = response.json()["eventos"]
    return events


def actions(events: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(e["agente"], e["accion"], e["objetivo"]) for e in events]


async def test_agents_actions_from_both_sources_are_in_the_trail_once_newest_first(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria, ana = unique("maria"), unique("ana")
    agent = await account(redis, maria, "admin")
    await audit.record(redis, maria, AuditAction.LOGIN, maria, {"direccion": "10.0.0.1"})
    noted = await note(redis, maria, ana, "Cliente VIP: texto que la auditoría no guarda")
    await status(redis, ana, "abierta", anterior="")  # automatic: nobody's action
    await assign(redis, ana, maria, de=maria)
    await status(redis, ana, "resuelta", anterior="abierta", de=maria, asignado=maria)
    await audit.record(redis, maria, AuditAction.EXPORT, ana)

    events = await trail(client, agent, agente=maria)
    # Newest first by time (two sources: entries of one millisecond may come in any order).
    assert [e["fecha"] for e in events] == sorted((e["fecha"] for e in events), reverse=True)
    by_action = {e["accion"]: e for e in events}
    assert sorted(actions(events)) == sorted(
        [
            (maria, "exportacion", ana),
            (maria, "estado", ana),
            (maria, "asignacion", ana),
            (maria, "nota", ana),
            (maria, "inicio_sesion", maria),
        ]
    )
    assert by_action["estado"]["detalles"] == {"estado": "resuelta"}
    assert by_action["asignacion"]["detalles"] == {"asignado": maria}
    assert by_action["nota"]["detalles"] == {"id": noted}
    assert by_action["inicio_sesion"]["detalles"] == {"direccion": "10.0.0.1"}
    assert "VIP" not in str(events)
    # The automatic change is in the log, not in the trail of anybody's actions.
    assert len(await trail(client, agent, objetivo=ana)) == 4


async def test_filters_and_pages(client: httpx.AsyncClient, redis: Redis) -> None:
    maria, juan, ana = unique("maria"), unique("juan"), unique("ana")
    agent = await account(redis, maria, "admin")
    for n in range(5):
        await audit.record(redis, maria, AuditAction.EXPORT, ana, {"n": n})
    await audit.record(redis, juan, AuditAction.ERASURE, ana)
    await audit.record(redis, None, AuditAction.AGENT_CREATED, juan)

    by_target = await trail(client, agent, objetivo=ana)
    assert [e["accion"] for e in by_target] == ["borrado"] + ["exportacion"] * 5  # one source
    assert actions(await trail(client, agent, objetivo=juan)) == [(None, "agente_creado", juan)]
    assert [e["agente"] for e in await trail(client, agent, objetivo=ana, accion="borrado")] == [
        juan
    ]
    first = await client.get(
        "/api/auditoria", params={"agente": maria, "limit": 2}, headers=as_user(agent)
    )
    page = first.json()
    assert page["hay_mas"] is True
    seen = [e["detalles"]["n"] for e in page["eventos"]]
    while page["hay_mas"]:
        page = (
            await client.get(
                "/api/auditoria",
                params={"agente": maria, "limit": 2, "antes": page["eventos"][-1]["id"]},
                headers=as_user(agent),
            )
        ).json()
        seen += [e["detalles"]["n"] for e in page["eventos"]]
    assert seen == [4, 3, 2, 1, 0]
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert len(await trail(client, agent, agente=maria, desde=hour_ago)) == 5
    assert await trail(client, agent, agente=maria, hasta=hour_ago) == []
    assert await trail(client, agent, agente=maria, desde=in_an_hour) == []


async def test_customers_are_refused_and_bad_filters_are_422(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    ana = await account(redis, unique("ana"))
    refused = await client.get("/api/auditoria", headers=as_user(ana))
    assert refused.status_code == 403
    assert refused.json()["codigo"] == "solo_administradores"
    assert (await client.get("/api/auditoria")).status_code == 401
    agent = await account(redis, unique("maria"), "admin")
    for params in ({"accion": "nada"}, {"limit": 0}, {"desde": "ayer"}, {"objetivo": "a\x00b"}):
        response = await client.get("/api/auditoria", params=params, headers=as_user(agent))
        assert response.status_code == 422, params


async def test_the_table_refuses_every_update_delete_and_truncate(
    client: httpx.AsyncClient, redis: Redis, db: asyncpg.Pool
) -> None:
    maria = unique("maria")
    agent = await account(redis, maria, "admin")
    await audit.record(redis, maria, AuditAction.LOGIN, maria)
    [event] = await trail(client, agent, agente=maria)
    for statement in (
        "UPDATE auditoria SET agente = 'otra' WHERE id = $1",
        "DELETE FROM auditoria WHERE id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await db.execute(statement, event["id"])
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.execute("TRUNCATE auditoria")
    assert await trail(client, agent, agente=maria) == [event]


async def test_an_entry_read_twice_is_stored_once_and_a_malformed_one_is_dead_lettered(
    redis: Redis, db: asyncpg.Pool
) -> None:
    maria = unique("maria")
    await ensure_group(redis, keys.AUDIT_STREAM)
    await audit.record(redis, maria, AuditAction.LOGIN, maria)
    await redis.xadd(keys.AUDIT_STREAM, {"agente": maria, "accion": "volar", "objetivo": "x"})
    await audit.record(redis, maria, AuditAction.EXPORT, "ana")
    consumer = StreamConsumer(
        redis, db, sink=AUDIT_TRAIL, name="audit-test", batch=100, claim_idle_ms=60_000
    )
    response = await redis.xreadgroup(
        keys.CONSUMER_GROUP, "audit-test", {keys.AUDIT_STREAM: ">"}, count=100
    )
    entries = response[0][1]
    await consumer.process(entries)
    await consumer.process(entries)  # a consumer that died before its acknowledgement
    rows = await db.fetch("SELECT accion FROM auditoria WHERE agente = $1 ORDER BY id", maria)
    assert [r["accion"] for r in rows] == ["inicio_sesion", "exportacion"]
    letters = await redis.xrange(keys.AUDIT_DEAD_LETTER_STREAM)
    assert [fields[b"accion"] for _, fields in letters] == [b"volar", b"volar"]

    async def nothing_pending() -> bool:
        pending = await redis.xpending(keys.AUDIT_STREAM, keys.CONSUMER_GROUP)
        return int(pending["pending"]) == 0

    await eventually(nothing_pending)
