"""The services' Postgres pool (soporte_common.database.create_pool) skips asyncpg's
session reset when a connection goes back: what must still hold without it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from asyncpg.pool import PoolConnectionProxy

from soporte_common import database
from soporte_history.storage import MessageRow, insert_messages
from soporte_stack.testing import RunningStack

from .conftest import entry

pytestmark = pytest.mark.integration


async def test_work_left_unfinished_on_a_returned_connection_is_never_stored(
    infra: RunningStack, clean: None
) -> None:
    pool = await database.create_pool(infra.database_url, size=1)
    try:
        conn = await pool.acquire()
        await conn.execute("BEGIN")
        await insert_message(conn, 1, "a medias")
        await pool.release(conn)
        async with pool.acquire() as again:  # one connection: the same one
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT count(*) FROM mensajes") == 0
            # and it works as any other: what it writes now is stored
            await insert_message(again, 2, "entera")
        async with pool.acquire() as later:
            assert await later.fetchval("SELECT mensaje FROM mensajes") == "entera"
    finally:
        await pool.close()


async def insert_message(conn: PoolConnectionProxy, key: int, mensaje: str) -> None:
    """As the consumer stores a message (soporte_history.storage)."""
    await insert_messages(conn, [MessageRow(key, entry("ana", mensaje), datetime.now(UTC))])
