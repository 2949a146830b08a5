"""Privacy requests and the audit trail through the gateway, with two realtime replicas: what
an export holds (the agents' copy and the customer's own), an erasure with the customer
connected on the other replica (their sockets closed, their text found nowhere: Postgres,
the Redis stream, search; every read answers as for a name that never existed), an erasure
racing the customer still sending, customers refused every agent-only endpoint, the audit
trail of what agents did, and retention (its own stack, with a period of seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any, cast

import asyncpg
import httpx
import pytest
import socketio
from redis.asyncio import Redis

from soporte_common import keys
from soporte_stack.testing import RunningStack, eventually, whole_stack

from .conftest import (
    Chat,
    Connect,
    Person,
    history,
    login,
    register_and_login,
    replica_cookies,
    second_agent,
)

pytestmark = pytest.mark.e2e

AGENT_ONLY = (
    ("GET", "/api/usuarios/{usuario}/exportar"),
    ("DELETE", "/api/usuarios/{usuario}"),
    ("GET", "/api/auditoria"),
)


def marker() -> str:
    return f"rastro{uuid.uuid4().hex[:10]}"


async def call(
    stack: RunningStack, person: Person, method: str, path: str, **params: Any
) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=stack.url, cookies={"token": person.token}, timeout=30
    ) as http:
        return await http.request(method, path, params=params)


async def trail(stack: RunningStack, agent: Person, **filters: Any) -> list[dict[str, Any]]:
    response = await call(stack, agent, "GET", "/api/auditoria", **filters)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["eventos"]
    return events


async def conversation_with_everything(
    stack: RunningStack, connect: Connect, text: str
) -> tuple[Person, Person, Chat, Chat, dict[str, str]]:
    """A customer on one replica, an agent on the other, and one entry of each type: the
    customer's message, an assignment, a note, a reply, a status change, a read mark."""
    one, two = await replica_cookies(stack)
    ana = await register_and_login(stack)
    maria = await second_agent(stack)
    ana_chat, maria_chat = await connect(ana, replica=two), await connect(maria, replica=one)
    ids = {"pregunta": (await ana_chat.send("admin", f"Mi pedido {text} no llega"))["id"]}
    # Round robin may have given it to anyone (maria too): nobody first, then maria.
    await maria_chat.call("asignar", {"con": ana.usuario, "agente": None})
    assigned = await maria_chat.call("asignar", {"con": ana.usuario, "agente": maria.usuario})
    noted = await maria_chat.call("nota_interna", {"con": ana.usuario, "mensaje": f"Nota {text}"})
    ids["respuesta"] = (await maria_chat.send(ana.usuario, f"Lo miro, {text}"))["id"]
    pending = await maria_chat.call("cambiar_estado", {"con": ana.usuario, "estado": "pendiente"})
    assert assigned["ok"] and noted["ok"] and pending["ok"], (assigned, noted, pending)
    ids["nota"] = noted["id"]
    await eventually(lambda: ids["respuesta"] in [m["id"] for m in ana_chat.received])
    async with httpx.AsyncClient(base_url=stack.url, cookies={"token": ana.token}) as http:
        read = await http.post("/api/mensajes/leidos", json={"hasta": ids["respuesta"]})
        assert read.status_code == 204, read.text
    return ana, maria, ana_chat, maria_chat, ids


async def test_an_export_holds_everything_and_the_customers_own_copy_no_note(
    stack: RunningStack, connect: Connect
) -> None:
    text = marker()
    ana, maria, *_, ids = await conversation_with_everything(stack, connect, text)

    exported = await call(stack, maria, "GET", f"/api/usuarios/{ana.usuario}/exportar")
    assert exported.status_code == 200, exported.text
    assert "attachment" in exported.headers["content-disposition"]
    document = exported.json()
    assert document["usuario"] == ana.usuario
    assert document["cuenta"]["usuario"] == ana.usuario and document["cuenta"]["rol"] == "user"
    assert "password" not in exported.text and "argon2" not in exported.text
    entries = document["mensajes"]
    assert {"mensaje", "nota", "estado", "asignacion"} <= {e["tipo"] for e in entries}
    assert {ids["pregunta"], ids["respuesta"], ids["nota"]} <= {e["id"] for e in entries}
    assert document["conversacion"]["estado"] == "pendiente"
    assert document["conversacion"]["asignado"] == maria.usuario
    assert {"lector": ana.usuario, "hasta": ids["respuesta"]} in document["lecturas"]

    own = await call(stack, ana, "GET", "/api/mensajes/mios/exportar")
    assert own.status_code == 200, own.text
    assert "attachment" in own.headers["content-disposition"]
    mine = own.json()
    assert mine["cuenta"]["usuario"] == ana.usuario
    assert [e["id"] for e in mine["mensajes"]] == [ids["pregunta"], ids["respuesta"]]
    assert f"Nota {text}" not in own.text  # the team's notes are not the customer's
    assert "conversacion" not in mine and "asignado" not in own.text  # nor who holds it

    exports = await trail(stack, maria, accion="exportacion", objetivo=ana.usuario)
    assert [(e["agente"], e["objetivo"]) for e in exports] == [(maria.usuario, ana.usuario)]


async def test_customers_are_refused_every_agent_only_endpoint(stack: RunningStack) -> None:
    ana, luis = await register_and_login(stack), await register_and_login(stack)
    for method, path in AGENT_ONLY:
        response = await call(stack, ana, method, path.format(usuario=luis.usuario))
        assert response.status_code == 403, (method, path, response.text)
        body = response.json()
        assert set(body) == {"error", "codigo"} and body["codigo"] == "solo_administradores"
    async with httpx.AsyncClient(base_url=stack.url) as anonymous:
        for method, path in AGENT_ONLY:
            response = await anonymous.request(method, path.format(usuario=luis.usuario))
            assert response.status_code == 401, (method, path)
            assert set(response.json()) == {"error", "codigo"}
    # Still there: a refused erasure erased nothing.
    assert (await call(stack, luis, "GET", "/api/mensajes/mios")).status_code == 200


async def everything_in_postgres(stack: RunningStack, needle: str, *, skip: str = "") -> int:
    """Rows of any table whose text holds `needle` (`skip`: a table left out)."""
    db = await asyncpg.connect(stack.database_url)
    try:
        tables = await db.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> $1",
            skip,
        )
        found = 0
        for row in tables:
            name = row["tablename"]
            found += await db.fetchval(
                f'SELECT count(*) FROM "{name}" t WHERE t::text LIKE $1',  # noqa: S608
                f"%{needle}%",
            )
        return int(found)
    finally:
        await db.close()


async def holds_member(redis: Redis, key: bytes, member: str) -> bool:
    """Whether a hash has the field, a set or sorted set the member, a list the item."""
    kind = await redis.type(key)
    if kind == b"hash":
        return bool(await redis.hexists(key, member))
    if kind == b"zset":
        return await redis.zscore(key, member) is not None
    if kind == b"set":
        return bool(await redis.sismember(key, member))
    if kind == b"list":
        return await redis.lpos(key, member) is not None
    return False


async def everything_in_redis(
    stack: RunningStack, needle: str, *, skip_audit: bool = False
) -> list[str]:
    """Where `needle` is in Redis: the conversation log's stream and its dead letters, the
    audit stream (unless `skip_audit`), every key's name and every hash's fields."""
    redis = Redis.from_url(stack.redis_url)
    streams = [keys.STREAM, keys.DEAD_LETTER_STREAM] + ([] if skip_audit else [keys.AUDIT_STREAM])
    try:
        found = []
        for stream in streams:
            entries = cast(list[tuple[bytes, dict[bytes, bytes]]], await redis.xrange(stream))
            for entry_id, fields in entries:
                if any(needle.encode() in value for value in fields.values()):
                    found.append(f"{stream} {entry_id.decode()}")
        async for key in redis.scan_iter(count=1000):
            name = key.decode()
            if needle in name and name != keys.erased(needle):  # the tombstone: a minute
                found.append(name)
            elif await holds_member(redis, key, needle):
                found.append(f"{name}[{needle}]")
        return found
    finally:
        await redis.aclose()


async def answers(stack: RunningStack, agent: Person, usuario: str, text: str) -> list[Any]:
    """What agents' reads say about `usuario` and `text`."""
    conversation = await history(stack, agent, "/api/mensajes", con=usuario)
    listed = await history(stack, agent, "/api/usuarios-conversaciones", q=usuario)
    found = await history(stack, agent, "/api/buscar", q=text)
    exported = await call(stack, agent, "GET", f"/api/usuarios/{usuario}/exportar")
    erased = await call(stack, agent, "DELETE", f"/api/usuarios/{usuario}")
    return [
        (conversation.status_code, conversation.json()["mensajes"]),
        (listed.status_code, listed.json()["conversaciones"]),
        (found.status_code, found.json()["resultados"]),
        (exported.status_code, exported.json()),
        (erased.status_code, erased.json()),
    ]


async def test_an_erased_customer_is_disconnected_everywhere_and_found_nowhere(
    stack: RunningStack, connect: Connect
) -> None:
    text = marker()
    ana, maria, ana_chat, maria_chat, _ = await conversation_with_everything(stack, connect, text)
    one, _two = await replica_cookies(stack)
    ana_here = await connect(ana, replica=one)  # a second tab, on the agent's replica
    gone: list[dict[str, str]] = []
    maria_chat.sio.on("conversacion_borrada", gone.append)

    erased = await call(stack, maria, "DELETE", f"/api/usuarios/{ana.usuario}")
    assert erased.status_code == 204, erased.text

    for tab in (ana_chat, ana_here):  # closed on both replicas
        await eventually(lambda tab=tab: not tab.sio.connected)  # type: ignore[misc]
        assert "sesion_terminada" in tab.events
    await eventually(lambda: {"usuario": ana.usuario} in gone)
    assert await everything_in_postgres(stack, text) == 0
    assert await everything_in_postgres(stack, ana.usuario, skip="auditoria") == 0
    assert await everything_in_redis(stack, text) == []
    # The trail keeps who was erased (as in Postgres): its entry may not be stored yet.
    assert await everything_in_redis(stack, ana.usuario, skip_audit=True) == []

    # Every read answers as it does for a name that never existed.
    never = f"nunca-{uuid.uuid4().hex[:8]}"
    assert await answers(stack, maria, ana.usuario, text) == await answers(
        stack, maria, never, text
    )
    async with httpx.AsyncClient(base_url=stack.url) as http:
        for usuario in (ana.usuario, never):
            response = await http.post(
                "/api/auth/login", json={"usuario": usuario, "password": ana.password}
            )
            assert response.status_code == 401 and response.json()["codigo"] == "credenciales"
    assert (await history(stack, ana, "/api/mensajes/mios")).status_code == 401
    again = Chat(ana)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.sio.connect(
            stack.url, headers={"Cookie": f"token={ana.token}"}, transports=["websocket"]
        )

    # The trail says who erased whom, with counts, and nothing that was written.
    [entry] = await trail(stack, maria, accion="borrado", objetivo=ana.usuario)
    assert entry["agente"] == maria.usuario and entry["detalles"]["cuenta"] is True
    assert entry["detalles"]["entradas"] >= 5


async def test_an_erasure_racing_the_customer_still_sending_leaves_nothing_accepted(
    stack: RunningStack, connect: Connect
) -> None:
    """The rule (docs/guarantees.md): nothing accepted before the erasure survives it,
    nothing is accepted after it began."""
    _one, two = await replica_cookies(stack)
    ana, maria = await register_and_login(stack), await second_agent(stack)
    ana_chat = await connect(ana, replica=two)
    text = marker()
    accepted: list[str] = []
    refused: list[str] = []

    async def keep_sending() -> None:
        for i in range(10_000):
            try:
                ack = await ana_chat.send("admin", f"{text} {i}")
            except socketio.exceptions.SocketIOError:
                return  # the socket was closed under it
            if ack["ok"]:
                accepted.append(ack["id"])
            elif ack["codigo"] != "ritmo":
                refused.append(ack["codigo"])
            if not ana_chat.sio.connected:
                return
            await asyncio.sleep(0.01)

    sender = asyncio.create_task(keep_sending())
    try:
        await eventually(lambda: len(accepted) >= 3)
        erased = await call(stack, maria, "DELETE", f"/api/usuarios/{ana.usuario}")
        assert erased.status_code == 204, erased.text
        await asyncio.wait_for(sender, timeout=30)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    assert set(refused) <= {"cuenta_borrada"}
    assert await everything_in_postgres(stack, text) == 0
    assert await everything_in_redis(stack, text) == []
    found = await history(stack, maria, "/api/buscar", q=text)
    assert found.json()["resultados"] == []


async def test_the_trail_records_what_agents_did_newest_first_paged_and_filtered(
    stack: RunningStack, connect: Connect
) -> None:
    ana, maria, *_ = await conversation_with_everything(stack, connect, marker())
    exported = await call(stack, maria, "GET", f"/api/usuarios/{ana.usuario}/exportar")
    assert exported.status_code == 200

    theirs = await trail(stack, maria, agente=maria.usuario)
    assert set(theirs[0]) >= {"id", "fecha", "agente", "accion", "objetivo"}
    actions = [e["accion"] for e in theirs]
    # (Before her assignment, maybe her unassigning what round robin gave her.)
    assert actions[:4] == ["exportacion", "estado", "nota", "asignacion"]
    assert set(actions[4:-1]) <= {"asignacion"} and actions[-1] == "inicio_sesion"
    assert {e["agente"] for e in theirs} == {maria.usuario}
    assert {e["objetivo"] for e in theirs[:-1]} == {ana.usuario}
    assert theirs[1]["detalles"]["estado"] == "pendiente"
    assert theirs[3]["detalles"]["asignado"] == maria.usuario
    assert all("Nota" not in str(e["detalles"]) for e in theirs)  # never what was written

    first = await call(stack, maria, "GET", "/api/auditoria", agente=maria.usuario, limit=2)
    page = first.json()
    assert page["hay_mas"] and [e["id"] for e in page["eventos"]] == [e["id"] for e in theirs[:2]]
    rest = await trail(stack, maria, agente=maria.usuario, antes=page["eventos"][-1]["id"])
    assert [e["id"] for e in rest] == [e["id"] for e in theirs[2:]]

    # Nothing in Soporte edits the trail; Postgres itself refuses to.
    db = await asyncpg.connect(stack.database_url)
    try:
        for statement in ("UPDATE auditoria SET agente = 'otro'", "DELETE FROM auditoria"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await db.execute(statement)
    finally:
        await db.close()


# ---------------------------------------------------------------- retention

# A period of seconds (SOPORTE_RETENTION_DAYS takes fractions): entries older than ~9 s go.
RETENTION_DAYS = "0.0001"


@pytest.fixture(scope="module")
def retention_stack() -> Iterator[RunningStack]:
    with whole_stack(
        "retention", {"SOPORTE_REALTIME_REPLICAS": "2", "SOPORTE_RETENTION_DAYS": RETENTION_DAYS}
    ) as running:
        yield running


async def test_retention_erases_entries_older_than_the_period_and_is_audited(
    retention_stack: RunningStack,
) -> None:
    stack = retention_stack
    ana = await register_and_login(stack)
    admin = await login(stack, "admin", "soporte-admin")
    chat = Chat(ana)
    await chat.sio.connect(
        stack.url, headers={"Cookie": f"token={ana.token}"}, transports=["websocket"]
    )
    try:
        text = marker()
        sent = await chat.send("admin", text)
        assert sent["ok"], sent
        mine = await history(stack, ana, "/api/mensajes/mios")
        assert [m["id"] for m in mine.json()["mensajes"]] == [sent["id"]]

        async def gone() -> bool:
            response = await history(stack, ana, "/api/mensajes/mios")
            return bool(response.json()["mensajes"] == [])

        await eventually(gone, timeout=60)
        assert await everything_in_postgres(stack, text) == 0
        runs = await trail(stack, admin, accion="retencion")
        assert runs and runs[0]["agente"] is None
        assert sum(run["detalles"]["entradas"] for run in runs) >= 1
    finally:
        await chat.sio.disconnect()
