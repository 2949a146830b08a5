"""The agents' workflow over HTTP, through the app (its consumer included) against real Redis
and Postgres: what agents and customers read of the log, the conversations' state and its
filters and counts, search, canned replies, the report and the metrics, the agents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import ConversationStatus
from soporte_common.entries import AssignmentEntry, StatusEntry
from soporte_common.messages import EntryFields, now_iso
from soporte_history.projections import Projected, project, store

from .conftest import account, as_user, assign, entry, note, reply, say, status

OPEN, RESOLVED = ConversationStatus.OPEN, ConversationStatus.RESOLVED

pytestmark = pytest.mark.integration


async def get(client: httpx.AsyncClient, token: str, path: str, **params: object) -> httpx.Response:
    return await client.get(path, params=params, headers=as_user(token))


def ok(response: httpx.Response) -> object:
    assert response.status_code == 200, response.text
    return response.json()


AGENT_ONLY = [
    ("get", "/api/usuarios-conversaciones/recuento"),
    ("get", "/api/respuestas"),
    ("post", "/api/respuestas"),
    ("put", "/api/respuestas/1"),
    ("delete", "/api/respuestas/1"),
    ("get", "/api/buscar?q=hola"),
    ("get", "/api/informes?dias=7"),
    ("get", "/api/agentes"),
]


@pytest.mark.parametrize(("method", "path"), AGENT_ONLY)
async def test_customers_are_refused_every_agent_endpoint(
    client: httpx.AsyncClient, redis: Redis, method: str, path: str
) -> None:
    ana = await account(redis, "ana")
    body = {"atajo": "hola", "texto": "Hola"} if method in ("post", "put") else None
    response = await client.request(method, path, json=body, headers=as_user(ana))
    assert response.status_code == 403
    assert response.json()["codigo"] == "solo_administradores"
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401


async def test_agents_read_every_entry_by_type_and_customers_only_messages(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    ana, maria = await account(redis, "ana"), await account(redis, "maria", "admin")
    hello = await say(redis, "ana", "hola")
    opened = await status(redis, "ana", "abierta", anterior="")
    assigned = await assign(redis, "ana", "maria")
    secret = await note(redis, "maria", "ana", "cliente difícil, ojo")
    answer = await reply(redis, "maria", "ana", "¿en qué te ayudo?")
    hasta = (datetime.now(UTC) + timedelta(hours=2)).isoformat(timespec="milliseconds")
    hasta = hasta.replace("+00:00", "Z")
    snoozed = await status(redis, "ana", "pospuesta", anterior="abierta", de="maria", hasta=hasta)

    log = ok(await get(client, maria, "/api/mensajes", con="ana"))["mensajes"]  # type: ignore[index]
    assert [(e["tipo"], e["id"]) for e in log] == [
        ("mensaje", hello),
        ("estado", opened),
        ("asignacion", assigned),
        ("nota", secret),
        ("mensaje", answer),
        ("estado", snoozed),
    ]
    assert {k: v for k, v in log[1].items() if k != "fecha"} == {
        "tipo": "estado",
        "id": opened,
        "de": None,
        "estado": "abierta",
        "hasta": None,
    }
    assert log[2]["asignado"] == "maria" and log[2]["de"] is None
    assert log[3]["de"] == "maria" and log[3]["mensaje"] == "cliente difícil, ojo"
    assert log[5]["hasta"] == hasta and log[5]["de"] == "maria"
    # Catching up covers every type for an agent...
    after = ok(await get(client, maria, "/api/mensajes", con="ana", after=opened))
    assert [e["id"] for e in after["mensajes"]] == [assigned, secret, answer, snoozed]  # type: ignore[index]
    # ...and only messages for the customer, however the page is asked for.
    for params in ({}, {"after": hello}, {"before": snoozed}, {"limit": 1}):
        page = ok(await get(client, ana, "/api/mensajes/mios", **params))
        ids = [m["id"] for m in page["mensajes"]]  # type: ignore[index]
        assert set(ids) <= {hello, answer} and ids, params
        assert all(m["tipo"] == "mensaje" for m in page["mensajes"])  # type: ignore[index]
    assert "difícil" not in (await get(client, ana, "/api/mensajes/mios")).text


async def test_the_list_shows_each_conversations_state_and_filters_by_it(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria, juan = await account(redis, "maria", "admin"), await account(redis, "juan", "admin")
    for customer in ("ana", "bea", "carla", "dani"):
        await say(redis, customer, "hola")
        await status(redis, customer, "abierta", anterior="")
    await assign(redis, "ana", "maria")
    await assign(redis, "bea", "juan")
    await status(redis, "bea", "pendiente", anterior="abierta", de="juan", asignado="juan")
    await status(redis, "carla", "resuelta", anterior="abierta", de="juan")
    hasta = "2031-01-01T09:00:00.000Z"
    await status(redis, "dani", "pospuesta", anterior="abierta", de="juan", hasta=hasta)
    await note(redis, "juan", "ana", "la nota no es lo último que se dijo")

    async def listed(token: str, **params: object) -> list[str]:
        body = ok(await get(client, token, "/api/usuarios-conversaciones", **params))
        return sorted(c["usuario"] for c in body["conversaciones"])  # type: ignore[index]

    everyone = ok(await get(client, maria, "/api/usuarios-conversaciones"))
    by_name = {c["usuario"]: c for c in everyone["conversaciones"]}  # type: ignore[index]
    assert {u: (c["estado"], c["asignado"]) for u, c in by_name.items()} == {
        "ana": ("abierta", "maria"),
        "bea": ("pendiente", "juan"),
        "carla": ("resuelta", None),
        "dani": ("pospuesta", None),
    }
    assert by_name["dani"]["pospuesta_hasta"] == hasta
    assert by_name["ana"]["pospuesta_hasta"] is None
    assert by_name["ana"]["ultimo_mensaje"] == "hola"  # previews what was said
    assert await listed(maria, estado="pendiente") == ["bea"]
    assert await listed(maria, asignado="yo") == ["ana"]
    assert await listed(juan, asignado="yo") == ["bea"]
    assert await listed(maria, asignado="juan") == ["bea"]
    assert await listed(maria, asignado="nadie") == ["carla", "dani"]
    assert await listed(maria, asignado="nadie", estado="pospuesta") == ["dani"]
    assert (await get(client, maria, "/api/usuarios-conversaciones", estado="x")).status_code == 422
    counts = ok(await get(client, maria, "/api/usuarios-conversaciones/recuento"))
    assert counts == {
        "mias": 1,
        "sin_asignar": 1,  # dani; carla is resolved
        "abierta": 1,
        "pendiente": 1,
        "pospuesta": 1,
        "resuelta": 1,
    }
    assert ok(await get(client, juan, "/api/usuarios-conversaciones/recuento"))["mias"] == 1  # type: ignore[index]


async def test_notes_never_count_as_unread(client: httpx.AsyncClient, redis: Redis) -> None:
    maria = await account(redis, "maria", "admin")
    await say(redis, "ana", "hola")
    await note(redis, "maria", "ana", "una nota")
    await note(redis, "juan", "ana", "otra nota")
    await status(redis, "ana", "pendiente", anterior="abierta", de="maria")
    body = ok(await get(client, maria, "/api/usuarios-conversaciones"))
    [ana] = body["conversaciones"]  # type: ignore[index]
    assert (ana["no_leidos"], ana["estado"], ana["ultimo_mensaje"]) == (1, "pendiente", "hola")


async def test_state_moves_only_to_a_newer_entrys_whatever_order_batches_commit_in(
    db: asyncpg.Pool,
) -> None:
    def projected(entry_id: str, item: EntryFields) -> Projected:
        return project(entry_id.encode(), {k.encode(): v.encode() for k, v in pairs(item)})

    older = [
        projected("1000-0", entry("ana", "hola")),
        projected("1000-1", StatusEntry(de="", conversacion="ana", estado=OPEN, anterior="",
                                        asignado="", fecha=now_iso())),
        projected("1000-2", AssignmentEntry(de="", conversacion="ana", asignado="maria",
                                            anterior="", fecha=now_iso())),
    ]  # fmt: skip
    newer = [
        projected("2000-0", StatusEntry(de="juan", conversacion="ana", estado=RESOLVED,
                                        anterior="abierta", asignado="juan", fecha=now_iso())),
        projected("2000-1", AssignmentEntry(de="juan", conversacion="ana", asignado="juan",
                                            anterior="maria", fecha=now_iso())),
    ]  # fmt: skip
    await store(db, newer)  # the older batch was stuck on a dead consumer
    await store(db, older)
    await store(db, newer)  # and a batch stored twice changes nothing
    row = await db.fetchrow(
        "SELECT estado, asignado, ultimo_mensaje FROM conversaciones WHERE usuario = 'ana'"
    )
    assert dict(row or {}) == {"estado": "resuelta", "asignado": "juan", "ultimo_mensaje": "hola"}
    assert await db.fetchval("SELECT count(*) FROM mensajes") == 5


def pairs(item: EntryFields) -> list[tuple[str, str]]:
    flat = item.fields()
    return list(zip(flat[::2], flat[1::2], strict=True))


async def test_search_finds_messages_and_notes_whatever_the_case_and_accents(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria, ana = await account(redis, "maria", "admin"), await account(redis, "ana")
    first = await say(redis, "ana", "¿Dónde está mi ENVÍO? Pedido 123")
    await say(redis, "bea", "otra consulta sin relación")
    noted = await note(redis, "maria", "bea", "revisar el envio de Bea")
    hostile = await say(redis, "bea", "<img src=x onerror=alert(1)> envíos rotos")
    await status(redis, "bea", "resuelta", anterior="abierta", de="maria")

    async def found(**params: object) -> list[tuple[str, str, str]]:
        body = ok(await get(client, maria, "/api/buscar", **params))
        return [(r["id"], r["tipo"], r["conversacion"]) for r in body["resultados"]]  # type: ignore[index]

    assert await found(q="envio") == [
        (hostile, "mensaje", "bea"),  # "envíos" starts with "envio"
        (noted, "nota", "bea"),
        (first, "mensaje", "ana"),
    ]
    assert await found(q="ENVÍO pedido") == [(first, "mensaje", "ana")]
    assert await found(q="envio", con="ana") == [(first, "mensaje", "ana")]
    assert await found(q="envio", limit=1) == [(hostile, "mensaje", "bea")]
    assert await found(q="reembolso") == []
    assert await found(q="!!! ¿?") == []  # no word: nothing, not an error
    assert await found(q="resuelta") == []  # status changes are not text
    [result] = ok(await get(client, maria, "/api/buscar", q="onerror"))["resultados"]  # type: ignore[index]
    assert result["mensaje"] == "<img src=x onerror=alert(1)> envíos rotos"  # as written
    assert result["de"] == "bea" and result["fecha"].endswith("Z")
    assert (await get(client, maria, "/api/buscar")).status_code == 422
    assert (await get(client, maria, "/api/buscar", q="x", limit=101)).status_code == 422
    assert (await get(client, ana, "/api/buscar", q="envio")).status_code == 403


async def test_canned_replies_are_a_shared_library(client: httpx.AsyncClient, redis: Redis) -> None:
    maria, juan = await account(redis, "maria", "admin"), await account(redis, "juan", "admin")
    created = await client.post(
        "/api/respuestas", json={"atajo": "gracias", "texto": "¡Gracias!"}, headers=as_user(maria)
    )
    assert created.status_code == 201
    reply_id = created.json()["id"]
    assert created.json() == {"id": reply_id, "atajo": "gracias", "texto": "¡Gracias!"}
    await client.post(
        "/api/respuestas",
        json={"atajo": "envio", "texto": "Tu envío sale hoy"},
        headers=as_user(juan),
    )
    listed = ok(await get(client, juan, "/api/respuestas"))
    assert [r["atajo"] for r in listed] == ["envio", "gracias"]  # type: ignore[union-attr]
    taken = await client.post(
        "/api/respuestas", json={"atajo": "GRACIAS", "texto": "otra"}, headers=as_user(juan)
    )
    assert taken.status_code == 409 and taken.json()["codigo"] == "atajo_existe"
    edited = await client.put(
        f"/api/respuestas/{reply_id}",
        json={"atajo": "gracias", "texto": "¡Muchas gracias!"},
        headers=as_user(juan),
    )
    assert edited.json()["texto"] == "¡Muchas gracias!"
    for bad in ({"atajo": "con espacio", "texto": "x"}, {"atajo": "ok", "texto": ""}, {}):
        refused = await client.post("/api/respuestas", json=bad, headers=as_user(maria))
        assert refused.status_code == 422, bad
    assert (
        await client.delete(f"/api/respuestas/{reply_id}", headers=as_user(maria))
    ).status_code == 204
    missing = await client.delete(f"/api/respuestas/{reply_id}", headers=as_user(maria))
    assert missing.status_code == 404 and missing.json()["codigo"] == "no_encontrado"
    gone = await client.put(
        f"/api/respuestas/{reply_id}", json={"atajo": "a", "texto": "b"}, headers=as_user(maria)
    )
    assert gone.status_code == 404
    assert [r["atajo"] for r in ok(await get(client, maria, "/api/respuestas"))] == ["envio"]  # type: ignore[union-attr]


async def test_the_agents_are_listed_with_their_presence(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria = await account(redis, "maria", "admin")
    await redis.hset(keys.KNOWN_AGENTS, mapping={"maria": "María", "juan": "Juan", "pepa": "Pepa"})
    await redis.hset(keys.PRESENCE, mapping={"maria": "en_linea", "juan": "ausente"})
    assert ok(await get(client, maria, "/api/agentes")) == [
        {"usuario": "juan", "nombre": "Juan", "estado": "ausente"},
        {"usuario": "maria", "nombre": "María", "estado": "en_linea"},
        {"usuario": "pepa", "nombre": "Pepa", "estado": "desconectado"},
    ]
