"""Re-seeding the conversations' live state in Redis from Postgres when Redis lost it (a
fresh Redis, or the first start after the upgrade that introduced it), so that a Redis
restart neither reopens nor unassigns anything. Like auth's user directory: a marker key
says the state was seeded; while it is missing, history-api seeds and sets it.

What is written is each conversation's state as the newest stored entries left it, its
open support cycle, and whether it waits for auto-assignment (it became `abierta`
automatically while nobody held it, and nobody was assigned since). A state that realtime
wrote meanwhile is newer and is kept (soporte_common.conversation_state.seed).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Final

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from soporte_common import keys
from soporte_common.conversation_state import SeededState, queue_score, seed
from soporte_common.logging import get_logger
from soporte_common.messages import db_id_to_stream
from soporte_common.retrying import retry_forever

log = get_logger(__name__)

SEED_ERRORS: Final = (RedisError, OSError, asyncpg.PostgresError)

STATES = """
SELECT c.usuario, c.estado, c.asignado, c.pospuesta_hasta, c.estado_id,
       c.estado_por IS NULL AND c.estado = 'abierta' AND c.asignado IS NULL
           AND c.estado_id IS NOT NULL AND COALESCE(c.asignado_id, 0) < c.estado_id AS espera,
       o.inicio_id AS ciclo, o.respuesta_id IS NOT NULL AS respondida
  FROM conversaciones c
  LEFT JOIN LATERAL (
      SELECT inicio_id, respuesta_id FROM ciclos
       WHERE conversacion = c.usuario AND resuelto_id IS NULL
       ORDER BY inicio_id DESC LIMIT 1
  ) o ON c.estado <> 'resuelta'
"""


def _state(row: asyncpg.Record) -> SeededState:
    hasta = row["pospuesta_hasta"] if row["estado"] == "pospuesta" else None
    return SeededState(
        usuario=row["usuario"],
        estado=row["estado"],
        asignado=row["asignado"] or "",
        hasta=hasta.isoformat(timespec="milliseconds").replace("+00:00", "Z") if hasta else "",
        hasta_ms=str(int(hasta.timestamp() * 1000)) if hasta else "",
        ciclo=db_id_to_stream(row["ciclo"]) if row["ciclo"] else "",
        respondida="1" if row["respondida"] else "",
        cola=queue_score(db_id_to_stream(row["estado_id"])) if row["espera"] else "",
    )


async def seed_states(db: asyncpg.Pool, redis: Redis) -> int:
    """Every conversation's state into Redis (those it already has are kept), then the
    marker. Returns how many were written."""
    states = [_state(row) for row in await db.fetch(STATES)]
    seeded = await seed(redis, states)
    await redis.set(keys.CONVERSATION_STATE_SEEDED, 1)
    return seeded


async def keep_states_seeded(db: asyncpg.Pool, redis: Redis, every_seconds: float = 5.0) -> None:
    """Background task: seed whenever the marker is gone (Redis restarted empty)."""
    while True:
        await retry_forever(
            "seeding the conversations' state",
            functools.partial(_seed_if_lost, db, redis),
            errors=SEED_ERRORS,
        )
        await asyncio.sleep(every_seconds)


async def _seed_if_lost(db: asyncpg.Pool, redis: Redis) -> None:
    if not await redis.exists(keys.CONVERSATION_STATE_SEEDED):
        seeded = await seed_states(db, redis)
        log.info("conversation states seeded from postgres", written=seeded)
