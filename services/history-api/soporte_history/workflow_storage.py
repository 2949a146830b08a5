"""What the consumer writes for status changes and assignments: a row of the log each (its
fields in `datos`), the conversation's state as its newest entry of each kind left it, and
the support cycles they open and close (soporte_history.cycles).

Like every writer (soporte_history.storage), idempotent on the entry's id and indifferent
to the order batches commit in: the state moves only to a newer entry's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from asyncpg.pool import PoolConnectionProxy

from soporte_common.contract import ConversationStatus
from soporte_common.entries import AssignmentEntry, StatusEntry, opens_a_cycle
from soporte_history.cycles import CycleTime, open_cycles, record_resolutions

INSERT_STATUSES = """
WITH batch AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::timestamptz[], $7::timestamptz[])
        AS b(id, conversacion, de_usuario, estado, datos, fecha, hasta)
), inserted AS (
    INSERT INTO mensajes (id, tipo, conversacion, de_usuario, datos, fecha)
    SELECT id, 'estado', conversacion, NULLIF(de_usuario, ''), datos::jsonb, fecha FROM batch
    ON CONFLICT (id) DO NOTHING
), latest AS (
    SELECT DISTINCT ON (conversacion) * FROM batch ORDER BY conversacion, id DESC
)
INSERT INTO conversaciones AS c (usuario, estado, estado_id, estado_por, pospuesta_hasta)
SELECT conversacion, estado, id, NULLIF(de_usuario, ''), hasta FROM latest
ON CONFLICT (usuario) DO UPDATE SET
    estado = EXCLUDED.estado,
    estado_id = EXCLUDED.estado_id,
    estado_por = EXCLUDED.estado_por,
    pospuesta_hasta = EXCLUDED.pospuesta_hasta
WHERE c.estado_id IS NULL OR EXCLUDED.estado_id > c.estado_id
"""

INSERT_ASSIGNMENTS = """
WITH batch AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::timestamptz[])
        AS b(id, conversacion, de_usuario, asignado, datos, fecha)
), inserted AS (
    INSERT INTO mensajes (id, tipo, conversacion, de_usuario, datos, fecha)
    SELECT id, 'asignacion', conversacion, NULLIF(de_usuario, ''), datos::jsonb, fecha FROM batch
    ON CONFLICT (id) DO NOTHING
), latest AS (
    SELECT DISTINCT ON (conversacion) * FROM batch ORDER BY conversacion, id DESC
)
INSERT INTO conversaciones AS c (usuario, asignado, asignado_id)
SELECT conversacion, NULLIF(asignado, ''), id FROM latest
ON CONFLICT (usuario) DO UPDATE SET
    asignado = EXCLUDED.asignado,
    asignado_id = EXCLUDED.asignado_id
WHERE c.asignado_id IS NULL OR EXCLUDED.asignado_id > c.asignado_id
"""


@dataclass(frozen=True)
class StatusRow:
    id: int
    entry: StatusEntry
    fecha: datetime
    hasta: datetime | None  # while pospuesta
    closes: int | None  # resuelta: the key of the cycle's opening entry


@dataclass(frozen=True)
class AssignmentRow:
    id: int
    entry: AssignmentEntry
    fecha: datetime


def _datos(entry: StatusEntry | AssignmentEntry) -> str:
    """What the entry says besides who, where and when (the history API returns it)."""
    common = {"tipo", "de", "conversacion", "fecha"}
    return orjson.dumps(entry.model_dump(mode="json", exclude=common)).decode()


async def insert_statuses(conn: PoolConnectionProxy, rows: Sequence[StatusRow]) -> list[CycleTime]:
    await conn.execute(
        INSERT_STATUSES,
        [r.id for r in rows],
        [r.entry.conversacion for r in rows],
        [r.entry.de for r in rows],
        [r.entry.estado.value for r in rows],
        [_datos(r.entry) for r in rows],
        [r.fecha for r in rows],
        [r.hasta for r in rows],
    )
    await open_cycles(
        conn,
        [
            (r.entry.conversacion, r.id)
            for r in rows
            if opens_a_cycle(r.entry.estado, r.entry.anterior)
        ],
    )
    # A resolution counts for whoever held the conversation, else whoever resolved it.
    return await record_resolutions(
        conn,
        [
            (r.entry.conversacion, r.closes, r.id, r.entry.asignado or r.entry.de)
            for r in rows
            if r.entry.estado is ConversationStatus.RESOLVED and r.closes
        ],
    )


async def insert_assignments(
    conn: PoolConnectionProxy, rows: Sequence[AssignmentRow]
) -> list[CycleTime]:
    await conn.execute(
        INSERT_ASSIGNMENTS,
        [r.id for r in rows],
        [r.entry.conversacion for r in rows],
        [r.entry.de for r in rows],
        [r.entry.asignado for r in rows],
        [_datos(r.entry) for r in rows],
        [r.fecha for r in rows],
    )
    return []
