"""history-api against a real Redis and a real migrated Postgres (the `infra` fixture).

The app runs in-process (LifespanManager + ASGITransport), its stream consumer included;
consumer tests drive StreamConsumer directly. Messages enter the way realtime appends them:
XADD of StreamEntry fields to the `mensajes` stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from soporte_common import database, keys
from soporte_common.contract import ConversationStatus
from soporte_common.entries import AssignmentEntry, NoteEntry, StatusEntry
from soporte_common.messages import EntryFields, StreamEntry, db_id_to_stream, now_iso
from soporte_common.settings import LOCAL_JWT_SECRET
from soporte_common.tokens import Rol, TokenCodec
from soporte_history.app import create_app, stop
from soporte_history.consumer import StreamConsumer, ensure_group
from soporte_history.projections import MESSAGE_LOG
from soporte_history.settings import HistorySettings
from soporte_stack.testing import RunningStack

CODEC = TokenCodec(LOCAL_JWT_SECRET)


@pytest.fixture
async def clean(infra: RunningStack) -> None:
    """Each test starts with no messages and an empty Redis."""
    conn = await asyncpg.connect(infra.database_url)
    await conn.execute(
        "TRUNCATE mensajes, conversaciones, lecturas, ciclos, respuestas, visitantes, sitios"
    )
    await conn.close()
    redis = Redis.from_url(infra.redis_url)
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture
async def redis(infra: RunningStack, clean: None) -> AsyncIterator[Redis]:
    client = Redis.from_url(infra.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def db(infra: RunningStack, clean: None) -> AsyncIterator[asyncpg.Pool]:
    pool = await database.create_pool(infra.database_url, size=4)
    yield pool
    await pool.close()


async def account(redis: Redis, user: str, rol: Rol = "user", ttl: int = 3600) -> str:
    """A known user (in the directory) and a valid token for them."""
    await redis.hset(keys.USER_DIRECTORY, user, rol)
    token, _ = CODEC.issue(user=user, nombre=user.title(), rol=rol, ttl_seconds=ttl)
    return token


def entry(
    de: str,
    mensaje: str,
    *,
    para: str = "admin",
    rol: Rol = "user",
    nombre: str | None = None,
    fecha: str | None = None,
) -> StreamEntry:
    """A stream entry as realtime writes it (a customer writes to `admin`)."""
    return StreamEntry(
        de=de,
        nombre=nombre or de.title(),
        para=para,
        conversacion=para if rol == "admin" else de,  # the customer's conversation
        mensaje=mensaje,
        fecha=fecha or now_iso(),
    )


async def append(redis: Redis, item: EntryFields, *, entry_id: str = "*", **extra: str) -> str:
    """XADD one entry to the `mensajes` stream; returns its id (the message id). `extra`:
    fields realtime's scripts add (`ciclo`)."""
    fields = item.fields() + [v for pair in extra.items() for v in pair]
    new_id = await redis.execute_command("XADD", keys.STREAM, entry_id, *fields)
    return str(new_id.decode())


async def say(redis: Redis, de: str, mensaje: str, **kwargs: Any) -> str:
    return await append(redis, entry(de, mensaje, **kwargs))


async def reply(redis: Redis, agent: str, customer: str, mensaje: str) -> str:
    return await append(redis, entry(agent, mensaje, para=customer, rol="admin"))


async def note(redis: Redis, agent: str, customer: str, mensaje: str) -> str:
    fecha = now_iso()
    return await append(
        redis,
        NoteEntry(
            de=agent, nombre=agent.title(), conversacion=customer, mensaje=mensaje, fecha=fecha
        ),
    )


async def status(
    redis: Redis,
    customer: str,
    estado: str,
    *,
    anterior: str,
    de: str = "",
    asignado: str = "",
    hasta: str = "",
    ciclo: str = "",
) -> str:
    """A status entry as realtime's scripts append it (`de` "": automatic)."""
    return await append(
        redis,
        StatusEntry(
            de=de,
            conversacion=customer,
            estado=ConversationStatus(estado),
            anterior=anterior,
            asignado=asignado,
            hasta=hasta,
            ciclo=ciclo,
            fecha=now_iso(),
        ),
    )


async def assign(
    redis: Redis, customer: str, asignado: str, *, anterior: str = "", de: str = ""
) -> str:
    entry_ = AssignmentEntry(
        de=de, conversacion=customer, asignado=asignado, anterior=anterior, fecha=now_iso()
    )
    return await append(redis, entry_)


async def pending_count(redis: Redis) -> int:
    return int((await redis.xpending(keys.STREAM, keys.CONSUMER_GROUP))["pending"])


async def stored_ids(db: asyncpg.Pool) -> list[str]:
    rows = await db.fetch("SELECT id FROM mensajes ORDER BY id")
    return [db_id_to_stream(r["id"]) for r in rows]


MakeConsumer = Callable[..., StreamConsumer]


@pytest.fixture
async def make_consumer(redis: Redis, db: asyncpg.Pool) -> MakeConsumer:
    await ensure_group(redis)

    def make(
        name: str = "history-test", *, batch: int = 100, claim_idle_ms: int = 60_000
    ) -> StreamConsumer:
        return StreamConsumer(
            redis, db, sink=MESSAGE_LOG, name=name, batch=batch, claim_idle_ms=claim_idle_ms
        )

    return make


StartConsumer = Callable[[StreamConsumer], asyncio.Task[None]]


@pytest.fixture
async def start_consumer() -> AsyncIterator[StartConsumer]:
    """Run consumers' loops in the background; stopped at the end of the test."""
    tasks: list[asyncio.Task[None]] = []

    def start(consumer: StreamConsumer) -> asyncio.Task[None]:
        tasks.append(asyncio.create_task(consumer.run()))
        return tasks[-1]

    yield start
    for task in tasks:
        await stop(task)


@pytest.fixture
def settings(infra: RunningStack) -> HistorySettings:
    return HistorySettings(
        database_url=infra.database_url,
        redis_url=infra.redis_url,
        consumer_name="history-test",
        claim_idle_ms=1000,
        settle_timeout_seconds=5.0,
    )


@pytest.fixture
async def app_manager(settings: HistorySettings, clean: None) -> AsyncIterator[LifespanManager]:
    async with LifespanManager(create_app(settings)) as manager:
        yield manager


@pytest.fixture
async def client(app_manager: LifespanManager) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app_manager.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        yield c


def as_user(token: str) -> dict[str, str]:
    """The request cookie header of a signed-in browser."""
    return {"Cookie": f"token={token}"}
