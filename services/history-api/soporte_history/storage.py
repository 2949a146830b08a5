"""What the consumer writes to Postgres: the SQL of the batch writers of messages and notes
(soporte_history.workflow_storage has those of status changes and assignments).

Every writer is idempotent on the entry's id (an entry read twice is stored once) and
indifferent to order (batches can commit out of order: one stuck on a dead consumer is
stored after newer ones), and runs inside the batch's transaction (soporte_history.projections).
Each returns the support-cycle times its rows completed (soporte_history.cycles), which are
measured once the transaction committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asyncpg.pool import PoolConnectionProxy

from soporte_common.entries import NoteEntry
from soporte_common.messages import StreamEntry
from soporte_history.cycles import CycleTime, record_first_responses

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
    -- name that is still unknown. (A conversation whose first entry was a status change
    -- or an assignment has no summary yet: 0.)
    nombre = CASE WHEN EXCLUDED.ultimo_id > COALESCE(c.ultimo_id, 0)
                  THEN COALESCE(EXCLUDED.nombre, c.nombre)
                  ELSE COALESCE(c.nombre, EXCLUDED.nombre) END,
    ultimo_id = GREATEST(EXCLUDED.ultimo_id, c.ultimo_id),
    ultimo_de = CASE WHEN EXCLUDED.ultimo_id > COALESCE(c.ultimo_id, 0)
                     THEN EXCLUDED.ultimo_de ELSE c.ultimo_de END,
    ultimo_mensaje = CASE WHEN EXCLUDED.ultimo_id > COALESCE(c.ultimo_id, 0)
                          THEN EXCLUDED.ultimo_mensaje ELSE c.ultimo_mensaje END,
    ultima_fecha = CASE WHEN EXCLUDED.ultimo_id > COALESCE(c.ultimo_id, 0)
                        THEN EXCLUDED.ultima_fecha ELSE c.ultima_fecha END
WHERE EXCLUDED.ultimo_id > COALESCE(c.ultimo_id, 0)
   OR (c.nombre IS NULL AND EXCLUDED.nombre IS NOT NULL)
"""

INSERT_NOTES = """
INSERT INTO mensajes (id, tipo, conversacion, de_usuario, mensaje, fecha)
SELECT id, 'nota', conversacion, de_usuario, mensaje, fecha
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
    AS b(id, conversacion, de_usuario, mensaje, fecha)
ON CONFLICT (id) DO NOTHING
"""


@dataclass(frozen=True)
class MessageRow:
    """A `mensaje` entry as a row of `mensajes`, keyed by its folded id."""

    id: int
    entry: StreamEntry
    fecha: datetime
    cycle: int | None = None  # an agent's first response: the key of the cycle's opening


async def insert_messages(conn: PoolConnectionProxy, rows: Sequence[MessageRow]) -> list[CycleTime]:
    """The messages, each conversation's summary moved on to its newest message, and the
    first responses of support cycles (an agent's message that carries `ciclo`)."""
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
    return await record_first_responses(
        conn, [(r.entry.conversacion, r.cycle, r.id, r.entry.de) for r in rows if r.cycle]
    )


@dataclass(frozen=True)
class NoteRow:
    id: int
    entry: NoteEntry
    fecha: datetime


async def insert_notes(conn: PoolConnectionProxy, rows: Sequence[NoteRow]) -> list[CycleTime]:
    """Notes are rows of the log (agents read and search them); they never move the
    conversation's summary, which previews what was said to the customer."""
    await conn.execute(
        INSERT_NOTES,
        [r.id for r in rows],
        [r.entry.conversacion for r in rows],
        [r.entry.de for r in rows],
        [r.entry.mensaje for r in rows],
        [r.fecha for r in rows],
    )
    return []
