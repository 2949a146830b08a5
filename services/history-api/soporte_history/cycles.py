"""Support cycles, from the log: first response time and resolution time.

A cycle opens when a conversation becomes `abierta` from nothing or `resuelta` (the status
entry says so: soporte_common.entries.opens_a_cycle). Realtime's scripts mark the agent's
first message of the cycle and the `resuelta` entry that closes it with `ciclo`, the id of
the opening entry, so each fact arrives with its cycle's key: storing them is three
idempotent upserts that commute (batches may commit out of order). Durations come from the
entries' ids, which Redis assigns from one clock.

The table `ciclos` keeps one row per cycle; `GET /api/informes` and `/metrics` read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from asyncpg.pool import PoolConnectionProxy


class CycleMeasure(StrEnum):
    FIRST_RESPONSE = "primera_respuesta"
    RESOLUTION = "resolucion"


@dataclass(frozen=True)
class CycleTime:
    """A duration a batch completed: measured once it committed."""

    measure: CycleMeasure
    seconds: float


OPEN_CYCLES = """
INSERT INTO ciclos (conversacion, inicio_id)
SELECT * FROM unnest($1::text[], $2::bigint[])
ON CONFLICT DO NOTHING
"""

FIRST_RESPONSES = """
INSERT INTO ciclos AS c (conversacion, inicio_id, respuesta_id, respondido_por)
SELECT DISTINCT ON (conversacion, inicio_id) *
  FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[])
    AS b(conversacion, inicio_id, respuesta_id, respondido_por)
 ORDER BY conversacion, inicio_id, respuesta_id
ON CONFLICT (conversacion, inicio_id) DO UPDATE
   SET respuesta_id = EXCLUDED.respuesta_id, respondido_por = EXCLUDED.respondido_por
 WHERE c.respuesta_id IS NULL
-- The seconds between two folded ids (ms * 1_000_000 + seq).
RETURNING (respuesta_id / 1000000 - inicio_id / 1000000) / 1000.0 AS segundos
"""

RESOLUTIONS = """
INSERT INTO ciclos AS c (conversacion, inicio_id, resuelto_id, resuelto_por)
SELECT DISTINCT ON (conversacion, inicio_id) *
  FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[])
    AS b(conversacion, inicio_id, resuelto_id, resuelto_por)
 ORDER BY conversacion, inicio_id, resuelto_id
ON CONFLICT (conversacion, inicio_id) DO UPDATE
   SET resuelto_id = EXCLUDED.resuelto_id, resuelto_por = EXCLUDED.resuelto_por
 WHERE c.resuelto_id IS NULL
RETURNING (resuelto_id / 1000000 - inicio_id / 1000000) / 1000.0 AS segundos
"""

# (conversation, key of the cycle's opening entry, key of the entry completing it, the agent)
Completion = tuple[str, int, int, str]


async def open_cycles(conn: PoolConnectionProxy, opened: Sequence[tuple[str, int]]) -> None:
    """(conversation, key of the opening entry) pairs."""
    if opened:
        await conn.execute(OPEN_CYCLES, [c for c, _ in opened], [k for _, k in opened])


async def record_first_responses(
    conn: PoolConnectionProxy, done: Sequence[Completion]
) -> list[CycleTime]:
    return await _complete(conn, FIRST_RESPONSES, CycleMeasure.FIRST_RESPONSE, done)


async def record_resolutions(
    conn: PoolConnectionProxy, done: Sequence[Completion]
) -> list[CycleTime]:
    return await _complete(conn, RESOLUTIONS, CycleMeasure.RESOLUTION, done)


async def _complete(
    conn: PoolConnectionProxy, sql: str, measure: CycleMeasure, done: Sequence[Completion]
) -> list[CycleTime]:
    """Each cycle's time, set once: rows already set (an entry stored twice) return none."""
    if not done:
        return []
    rows = await conn.fetch(
        sql,
        [conversation for conversation, _, _, _ in done],
        [cycle for _, cycle, _, _ in done],
        [key for _, _, key, _ in done],
        [agent or None for _, _, _, agent in done],  # "": automatic, nobody held it
    )
    return [CycleTime(measure, float(row["segundos"])) for row in rows]
