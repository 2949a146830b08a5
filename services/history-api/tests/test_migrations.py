"""An existing part-one database upgrades with every message kept: messages written on the
part-one schema (migrated to 0001 only), then the upgrade to the latest schema; everything
is still readable, the conversations get a sensible status, and old messages are searchable.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from alembic import command
from redis.asyncio import Redis

from soporte_common.database import alembic_config
from soporte_history.cli import MIGRATIONS
from soporte_history.queries import ListFilter, conversation_list, conversation_page
from soporte_history.search import search
from soporte_stack.config import run_script
from soporte_stack.testing import RunningStack

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(infra: RunningStack) -> AsyncIterator[str]:
    """A database of its own, with no tables yet."""
    name = f"migracion_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(infra.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = infra.database_url.rsplit("/", 1)[0] + f"/{name}"
    yield url
    await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    await admin.close()


async def migrate(url: str, revision: str) -> None:
    # alembic runs its own event loop (soporte_common.database): off this one.
    config = alembic_config(MIGRATIONS.directory, url, MIGRATIONS.version_table)
    await asyncio.to_thread(command.upgrade, config, revision)


PART_ONE = [  # (id, conversation, from, to, text)
    (1_000_000, "ana", "ana", "admin", "Hola, mi envío no llegó"),
    (2_000_000, "ana", "maria", "ana", "Lo miro ahora"),
    (3_000_000, "ana", "ana", "admin", "¿Alguna novedad?"),
    (4_000_000, "bea", "bea", "admin", "Quiero un reembolso"),
    (5_000_000, "bea", "juan", "bea", "Hecho, te llega en 3 días"),
]


async def test_a_part_one_database_upgrades_with_every_message_kept(
    database: str, infra: RunningStack
) -> None:
    await migrate(database, "0001")
    conn = await asyncpg.connect(database)
    fecha = datetime(2026, 11, 1, tzinfo=UTC)
    await conn.executemany(
        "INSERT INTO mensajes (id, conversacion, de_usuario, para_usuario, mensaje, fecha)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        [(*row, fecha) for row in PART_ONE],
    )
    await conn.execute(
        "INSERT INTO conversaciones (usuario, nombre, ultimo_id, ultimo_de, ultimo_mensaje,"
        " ultima_fecha) VALUES ('ana', 'Ana', 3000000, 'ana', '¿Alguna novedad?', $1),"
        " ('bea', 'Bea', 5000000, 'juan', 'Hecho, te llega en 3 días', $1)",
        fecha,
    )
    await conn.execute("INSERT INTO lecturas VALUES ('maria', 'ana', 1000000)")
    await conn.close()

    await migrate(database, "head")
    # The agents' list also reads auth's visitors (the website widget): the upgrade is of
    # both services' tables, as `make run` and compose run it.
    env = os.environ | {"SOPORTE_DATABASE_URL": database, "SOPORTE_ENV": "local"}
    auth = await asyncio.to_thread(run_script, "soporte-auth", "migrate", env=env)
    assert auth.returncode == 0, auth.stdout + auth.stderr

    db = await asyncpg.create_pool(database, min_size=1, max_size=2)
    redis = Redis.from_url(infra.redis_url)
    try:
        page = await conversation_page(
            db, "ana", limit=50, before=None, after=None, messages_only=True
        )
        assert [(m.tipo, m.mensaje) for m in page.mensajes] == [  # type: ignore[union-attr]
            ("mensaje", "Hola, mi envío no llegó"),
            ("mensaje", "Lo miro ahora"),
            ("mensaje", "¿Alguna novedad?"),
        ]
        agent_view = await conversation_page(
            db, "bea", limit=50, before=None, after=None, messages_only=False
        )
        assert len(agent_view.mensajes) == 2
        listed = await conversation_list(
            db, redis, "maria", limit=50, before=None, where=ListFilter()
        )
        assert [(c.usuario, c.estado, c.asignado, c.no_leidos) for c in listed.conversaciones] == [
            ("bea", "pendiente", None, 1),  # the agent wrote last: waiting for the customer
            ("ana", "abierta", None, 1),  # the customer wrote last: needs an agent
        ]
        found = await search(db, "envio", con=None, limit=10)
        assert [r.mensaje for r in found.resultados] == ["Hola, mi envío no llegó"]
        assert await db.fetchval("SELECT count(*) FROM mensajes WHERE tipo = 'mensaje'") == 5
        # The search index merges new messages in small steps (0004): a 4 MB merge inside
        # one insert stalls a shared host for ~200 ms (docs/performance.md).
        options = await db.fetchval(
            "SELECT reloptions FROM pg_class WHERE relname = 'mensajes_busqueda'"
        )
        assert options == ["gin_pending_list_limit=256"]
    finally:
        await redis.aclose()
        await db.close()
