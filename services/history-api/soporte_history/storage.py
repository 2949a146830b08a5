"""What the consumer writes to Postgres: the SQL of each projection's batch writer.

Every writer is idempotent on the entry's id (an entry read twice is stored once) and
indifferent to order (batches can commit out of order: one stuck on a dead consumer is
stored after newer ones), and runs inside the batch's transaction (soporte_history.projections).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asyncpg.pool import PoolConnectionProxy

from soporte_common.messages import StreamEntry

INSERT_MESSAGES = """
WITH batch AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::timestamptz[], $7::text[])
        AS b(id, conversacion, de_usuario, para_usuario, mensaje, fecha, nombre)
), inserted AS (
    INSERT INTO mensajes (id, conversacion, de_usuario, para_usuario, mensaje, fecha)
    SELECT id, conversacion, de_usuario, para_usuario, mensaje, fecha FROM batch
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), latest AS (
    SELECT DISTINCT ON (conversacion) * FROM batch ORDER BY conversacion, id DESC
), named AS (
    -- The customer's display name: from their newest message in the batch (an agent's
    -- entry carries the agent's name), even when an agent wrote last.
    SELECT DISTINCT ON (conversacion) conversacion, nombre FROM batch
     WHERE de_usuario = conversacion ORDER BY conversacion, id DESC
)
INSERT INTO conversaciones AS c (usuario, nombre, ultimo_id, ultimo_de, ultimo_mensaje,
                                 ultima_fecha)
SELECT l.conversacion, n.nombre, l.id, l.de_usuario, l.mensaje, l.fecha
FROM latest l LEFT JOIN named n USING (conversacion)
ON CONFLICT (usuario) DO UPDATE SET
    -- A newer batch moves the summary on; an older one (stored late) only fills in a
    -- name that is still unknown.
    nombre = CASE WHEN EXCLUDED.ultimo_id > c.ultimo_id
                  THEN COALESCE(EXCLUDED.nombre, c.nombre)
                  ELSE COALESCE(c.nombre, EXCLUDED.nombre) END,
    ultimo_id = GREATEST(EXCLUDED.ultimo_id, c.ultimo_id),
    ultimo_de = CASE WHEN EXCLUDED.ultimo_id > c.ultimo_id
                     THEN EXCLUDED.ultimo_de ELSE c.ultimo_de END,
    ultimo_mensaje = CASE WHEN EXCLUDED.ultimo_id > c.ultimo_id
                          THEN EXCLUDED.ultimo_mensaje ELSE c.ultimo_mensaje END,
    ultima_fecha = CASE WHEN EXCLUDED.ultimo_id > c.ultimo_id
                        THEN EXCLUDED.ultima_fecha ELSE c.ultima_fecha END
WHERE EXCLUDED.ultimo_id > c.ultimo_id OR (c.nombre IS NULL AND EXCLUDED.nombre IS NOT NULL)
"""


@dataclass(frozen=True)
class MessageRow:
    """A `mensaje` entry as a row of `mensajes`, keyed by its folded id."""

    id: int
    entry: StreamEntry
    fecha: datetime


async def insert_messages(conn: PoolConnectionProxy, rows: Sequence[MessageRow]) -> None:
    """The messages, and each conversation's summary moved on to its newest message."""
    await conn.execute(
        INSERT_MESSAGES,
        [r.id for r in rows],
        [r.entry.conversacion for r in rows],
        [r.entry.de for r in rows],
        [r.entry.para for r in rows],
        [r.entry.mensaje for r in rows],
        [r.fecha for r in rows],
        [r.entry.nombre for r in rows],
    )
