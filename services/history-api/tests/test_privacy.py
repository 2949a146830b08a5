"""Export, erasure and retention through the app (its consumers included) against real Redis
and Postgres: what an export holds (and what a customer's own copy leaves out), that an
erasure leaves nothing in any table, the stream or Redis, and that retention erases old
entries only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_history.retention import Retention, erase_older_than
from soporte_stack.testing import eventually

from .conftest import account, append, as_user, assign, entry, note, reply, say, status

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def customer(db: asyncpg.Pool, redis: Redis, usuario: str) -> str:
    """An account as auth keeps it (a row and a directory entry), and a token."""
    await db.execute(
        "INSERT INTO usuarios (usuario, nombre, rol, password_hash) VALUES ($1, $2, 'user', $3)",
        usuario,
        usuario.title(),
        "$argon2id$hash-que-nunca-se-exporta",
    )
    return await account(redis, usuario)


async def conversation(redis: Redis, ana: str, maria: str, marker: str) -> dict[str, str]:
    """A conversation with one entry of each type; the ids by what they are."""
    return {
        "pregunta": await say(redis, ana, f"Mi pedido {marker} no llega"),
        "abierta": await status(redis, ana, "abierta", anterior=""),
        "asignada": await assign(redis, ana, maria, de=maria),
        "nota": await note(redis, maria, ana, f"Nota interna {marker}"),
        "respuesta": await reply(redis, maria, ana, f"Lo miro, {marker}"),
        "pendiente": await status(
            redis, ana, "pendiente", anterior="abierta", de=maria, asignado=maria
        ),
    }


async def get(client: httpx.AsyncClient, token: str, path: str) -> httpx.Response:
    return await client.get(path, headers=as_user(token))


async def mark_read(client: httpx.AsyncClient, token: str, body: dict[str, str]) -> None:
    response = await client.post("/api/mensajes/leidos", json=body, headers=as_user(token))
    assert response.status_code == 204, response.text


async def test_an_export_holds_everything_and_the_customers_copy_what_they_may_see(
    client: httpx.AsyncClient, redis: Redis, db: asyncpg.Pool
) -> None:
    ana, maria, marker = unique("ana"), unique("maria"), unique("marca")
    token, agent = await customer(db, redis, ana), await account(redis, maria, "admin")
    ids = await conversation(redis, ana, maria, marker)
    await mark_read(client, token, {"hasta": ids["respuesta"]})
    await mark_read(client, agent, {"hasta": ids["pregunta"], "con": ana})

    response = await get(client, agent, f"/api/usuarios/{ana}/exportar")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (f'attachment; filename="soporte-{ana}.json"')
    document = response.json()
    assert document["usuario"] == ana
    assert document["cuenta"]["nombre"] == ana.title()
    assert "password_hash" not in document["cuenta"] and "argon2" not in response.text
    assert [e["id"] for e in document["mensajes"]] == list(ids.values())
    assert [e["tipo"] for e in document["mensajes"]] == [
        "mensaje",
        "estado",
        "asignacion",
        "nota",
        "mensaje",
        "estado",
    ]
    assert document["conversacion"]["estado"] == "pendiente"
    assert document["conversacion"]["asignado"] == maria
    assert sorted(document["lecturas"], key=lambda r: r["lector"] == maria) == [
        {"lector": ana, "hasta": ids["respuesta"]},
        {"lector": maria, "hasta": ids["pregunta"]},
    ]

    own = await get(client, token, "/api/mensajes/mios/exportar")
    assert own.status_code == 200
    mine = own.json()
    assert [e["id"] for e in mine["mensajes"]] == [ids["pregunta"], ids["respuesta"]]
    assert mine["lecturas"] == [{"lector": ana, "hasta": ids["respuesta"]}]
    assert "conversacion" not in mine  # who holds it is the team's business
    assert "Nota interna" not in own.text and maria not in str(mine["lecturas"])

    trail = await client.get(
        "/api/auditoria", params={"objetivo": ana, "accion": "exportacion"}, headers=as_user(agent)
    )
    assert [(e["agente"], e["objetivo"]) for e in trail.json()["eventos"]] == [(maria, ana)]


async def test_customers_never_export_or_erase_anyone_and_unknown_names_are_404(
    client: httpx.AsyncClient, redis: Redis, db: asyncpg.Pool
) -> None:
    ana, bea = unique("ana"), unique("bea")
    token = await customer(db, redis, ana)
    await customer(db, redis, bea)
    await say(redis, bea, "lo de bea es de bea")
    for method, path in (
        ("GET", f"/api/usuarios/{bea}/exportar"),
        ("DELETE", f"/api/usuarios/{bea}"),
    ):
        refused = await client.request(method, path, headers=as_user(token))
        assert refused.status_code == 403
        assert refused.json()["codigo"] == "solo_administradores"
        assert "lo de bea" not in refused.text
    agent = await account(redis, unique("maria"), "admin")
    for method in ("GET", "DELETE"):
        path = f"/api/usuarios/{unique('nadie')}" + ("/exportar" if method == "GET" else "")
        missing = await client.request(method, path, headers=as_user(agent))
        assert missing.status_code == 404, missing.text
        assert missing.json()["codigo"] == "no_encontrado"
    other_agent = unique("juan")
    await account(redis, other_agent, "admin")
    refused = await client.delete(f"/api/usuarios/{other_agent}", headers=as_user(agent))
    assert refused.status_code == 403
    assert await redis.hget(keys.USER_DIRECTORY, other_agent) == b"admin"
    assert (await get(client, agent, "/api/usuarios/NO_ES_UN_USUARIO/exportar")).status_code == 422


async def rows_mentioning(db: asyncpg.Pool, *texts: str) -> dict[str, int]:
    """Rows of every table of the database (but the audit trail) whose text holds any of
    `texts`."""
    tables = await db.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'auditoria'"
    )
    found: dict[str, int] = {}
    for table in (r["tablename"] for r in tables):
        for text in texts:
            count = await db.fetchval(
                f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE $1',  # noqa: S608
                f"%{text}%",
            )
            if count:
                found[f"{table}:{text}"] = count
    return found


async def redis_mentioning(redis: Redis, *texts: str) -> list[str]:
    """Keys whose name or value (strings, hashes, sets, streams) holds any of `texts`, but
    the audit trail's stream (who was erased, by whom: never content)."""
    found: list[str] = []
    async for key in redis.scan_iter(count=1000):
        if key.decode() == keys.AUDIT_STREAM:
            continue
        kind = (await redis.type(key)).decode()
        if kind == "string":
            content: Any = await redis.get(key)
        elif kind == "hash":
            content = await redis.hgetall(key)
        elif kind == "zset":
            content = await redis.zrange(key, 0, -1)
        elif kind == "set":
            content = await redis.smembers(key)
        elif kind == "stream":
            content = await redis.xrange(key)
        else:
            content = ""
        if any(text in f"{key!r} {content!r}" for text in texts):
            found.append(key.decode())
    return found


async def test_an_erasure_leaves_nothing_of_the_customer_anywhere(
    client: httpx.AsyncClient, redis: Redis, db: asyncpg.Pool
) -> None:
    ana, maria, marker = unique("ana"), unique("maria"), unique("marca")
    token, agent = await customer(db, redis, ana), await account(redis, maria, "admin")
    await conversation(redis, ana, maria, marker)
    await mark_read(client, token, {"hasta": await say(redis, ana, "otra")})
    # The live state realtime keeps, and the keys that remember a customer.
    await redis.hset(
        keys.conversation_state(ana), mapping={"estado": "pendiente", "asignado": maria}
    )
    await redis.hincrby(keys.AGENT_LOAD, maria, 1)
    await redis.zadd(keys.WAITING_QUEUE, {ana: 1})
    await eventually(lambda: _count(db, "SELECT count(*) FROM mensajes", 7))
    await redis.set(keys.client_message_id(ana, "c1"), "1-0 fecha")
    await redis.set(keys.send_rate(ana), 3)
    await redis.zadd(keys.login_known_addresses(ana), {"10.1.2.3": 1})
    await redis.zadd(f"{keys.USER_SOCKETS_PREFIX}{ana}", {"sid": 1})
    # Entries still in the stream: one pending on a consumer that died (appended and read
    # in one step, before the live consumer can), one perhaps not read yet.
    async with redis.pipeline(transaction=True) as pipe:
        fields = entry(ana, f"Pendiente {marker}").fields()
        pipe.xadd(keys.STREAM, dict(zip(fields[::2], fields[1::2], strict=True)))
        pipe.xreadgroup(keys.CONSUMER_GROUP, "muerto", {keys.STREAM: ">"}, count=1000)
        await pipe.execute()
    await say(redis, ana, f"Sin leer {marker}")

    response = await client.delete(f"/api/usuarios/{ana}", headers=as_user(agent))
    assert response.status_code == 204, response.text

    assert await rows_mentioning(db, marker, ana) == {}
    assert await redis_mentioning(redis, marker) == []
    # The tombstone expires in a minute; the audit trail keeps who was erased, by whom.
    assert await redis_mentioning(redis, ana) == [keys.erased(ana)]
    assert 0 < await redis.ttl(keys.erased(ana)) <= 60
    assert await redis.hget(keys.AGENT_LOAD, maria) == b"0"
    for path in (f"/api/usuarios/{ana}/exportar", f"/api/usuarios/{ana}"):
        method = "GET" if path.endswith("exportar") else "DELETE"
        assert (await client.request(method, path, headers=as_user(agent))).status_code == 404
    search = await client.get("/api/buscar", params={"q": marker}, headers=as_user(agent))
    assert search.json() == {"resultados": []}
    listed = await client.get("/api/usuarios-conversaciones", headers=as_user(agent))
    assert ana not in listed.text
    assert (await get(client, token, "/api/mensajes/mios")).status_code == 401
    trail = await client.get("/api/auditoria", params={"objetivo": ana}, headers=as_user(agent))
    erasure = trail.json()["eventos"][0]
    assert (erasure["agente"], erasure["accion"]) == (maria, "borrado")
    assert erasure["detalles"]["cuenta"] is True
    assert erasure["detalles"]["entradas"] >= 7  # the stream's may have been stored first
    assert marker not in trail.text

    async def nothing_pending() -> bool:
        pending = await redis.xpending(keys.STREAM, keys.CONSUMER_GROUP)
        return int(pending["pending"]) == 0

    await eventually(nothing_pending)


async def test_retention_erases_entries_older_than_the_period_and_says_so_once(
    client: httpx.AsyncClient, redis: Redis, db: asyncpg.Pool
) -> None:
    old, recent, maria = unique("vieja"), unique("reciente"), unique("maria")
    agent = await account(redis, maria, "admin")
    long_ago = datetime.now(UTC) - timedelta(days=40)
    first_ms = int(long_ago.timestamp() * 1000)
    for n in range(5):  # accepted 40 days ago: their ids say so
        fecha = (long_ago + timedelta(milliseconds=n)).isoformat().replace("+00:00", "Z")
        await append(redis, entry(old, f"antiguo {n}", fecha=fecha), entry_id=f"{first_ms + n}-0")
    await append(
        redis,
        entry(maria, "respuesta antigua", para=recent, rol="admin"),
        entry_id=f"{first_ms + 10}-0",
    )
    await status(redis, old, "resuelta", anterior="abierta", de=maria)
    kept = await say(redis, recent, "de hoy")
    await eventually(lambda: _count(db, "SELECT count(*) FROM mensajes WHERE id >= 0", 8))

    run = await erase_older_than(db, datetime.now(UTC) - timedelta(days=30), batch=2, pause=0)
    assert (run.entradas, run.conversaciones) == (6, 1)
    rows = await db.fetch("SELECT conversacion, tipo FROM mensajes ORDER BY id")
    assert [tuple(r) for r in rows] == [(old, "estado"), (recent, "mensaje")]
    listed = await client.get("/api/usuarios-conversaciones", headers=as_user(agent))
    previews = {c["usuario"]: c["ultimo_mensaje"] for c in listed.json()["conversaciones"]}
    assert previews[recent] == "de hoy"
    assert old not in previews  # resolved, and nothing left to show
    mine = await client.get("/api/mensajes", params={"con": recent}, headers=as_user(agent))
    assert [m["id"] for m in mine.json()["mensajes"]] == [kept]

    retention = Retention(db, redis, days=30, every_seconds=3600)
    a_month_on = datetime.now(UTC) + timedelta(days=31)  # what is left is old by then
    run = await retention.run_once(now=a_month_on)
    assert run is not None and (run.entradas, run.conversaciones) == (2, 0)
    assert await retention.run_once(now=a_month_on) is None  # this period's run is done
    trail = await client.get(
        "/api/auditoria", params={"accion": "retencion", "limit": 1}, headers=as_user(agent)
    )
    [event] = trail.json()["eventos"]
    assert event["agente"] is None
    assert (event["detalles"]["entradas"], event["detalles"]["dias"]) == (2, 30)


async def _count(db: asyncpg.Pool, query: str, expected: int) -> bool:
    return bool(await db.fetchval(query) == expected)


async def test_a_website_visitors_site_identity_and_page_are_exported_then_erased(
    client: httpx.AsyncClient, redis: Redis, db: asyncpg.Pool
) -> None:
    ana, maria, sitio = unique("visitante"), unique("maria"), unique("sitio")
    email = f"{ana}@tienda.example"
    token, agent = await customer(db, redis, ana), await account(redis, maria, "admin")
    await db.execute(
        "INSERT INTO sitios (sitio, nombre, origenes, secreto) VALUES ($1, 'Tienda', $2, 's')",
        sitio,
        ["https://tienda.example"],
    )
    await db.execute(
        "INSERT INTO visitantes (usuario, sitio, sub, email) VALUES ($1, $2, 'cliente-42', $3)",
        ana,
        sitio,
        email,
    )
    await redis.set(keys.visitor_page(ana), '{"url": "https://tienda.example/carrito"}')
    await say(redis, ana, "Hola desde la tienda")

    exported = await get(client, agent, f"/api/usuarios/{ana}/exportar")
    visitor = exported.json()["visitante"]
    assert (visitor["sitio"], visitor["sitio_nombre"]) == (sitio, "Tienda")
    assert (visitor["verificado"], visitor["sub"], visitor["email"]) == (True, "cliente-42", email)
    own = (await get(client, token, "/api/mensajes/mios/exportar")).json()
    assert own["visitante"]["email"] == email

    assert (await client.delete(f"/api/usuarios/{ana}", headers=as_user(agent))).status_code == 204
    assert await rows_mentioning(db, ana, email) == {}
    assert await redis.exists(keys.visitor_page(ana)) == 0
    assert await db.fetchval("SELECT count(*) FROM sitios WHERE sitio = $1", sitio) == 1
