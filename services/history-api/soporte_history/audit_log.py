"""The audit trail in Postgres: the append-only table `auditoria` (a trigger refuses every
UPDATE, DELETE and TRUNCATE: migration 0003), what is written to it and how agents read it.

Two sources feed it, each entry stored once whatever is read twice (`fuente`, `entrada`:
the stream and the entry's key are unique):
- the audit stream (keys.AUDIT_STREAM: soporte_common.audit.record, from any service),
  consumed by its own consumer group with `AUDIT_TRAIL` as the sink;
- the conversation log: an agent's note, status change or assignment, projected in the
  same transaction as the entry itself (soporte_history.projections).
An entry says who did what to whom and when; never what anybody wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy
from pydantic import ValidationError

from soporte_common import keys
from soporte_common.audit import AuditEntry
from soporte_common.contract import AuditAction, ConversationStatus
from soporte_common.logging import get_logger
from soporte_common.messages import db_id_to_stream, stream_id_to_db
from soporte_history import metrics
from soporte_history.consumer import RawEntry, Rejected, Sink
from soporte_history.schemas import AuditEvent, AuditPage
from soporte_history.storage import NoteRow
from soporte_history.workflow_storage import AssignmentRow, StatusRow

log = get_logger(__name__)

INSERT_AUDIT = """
INSERT INTO auditoria (fuente, entrada, fecha, agente, accion, objetivo, detalles)
SELECT fuente, entrada, fecha, NULLIF(agente, ''), accion, objetivo, detalles::jsonb
  FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
              $7::text[])
    AS b(fuente, entrada, fecha, agente, accion, objetivo, detalles)
ON CONFLICT (fuente, entrada) DO NOTHING
"""


@dataclass(frozen=True)
class AuditRow:
    fuente: str  # the stream the entry came from
    entrada: int  # the entry's key (its id folded)
    fecha: datetime
    agente: str  # "": no agent acted (Soporte itself, an operator's command)
    accion: AuditAction
    objetivo: str
    detalles: dict[str, Any]


async def insert_audit(conn: PoolConnectionProxy, rows: Sequence[AuditRow]) -> None:
    if not rows:
        return
    await conn.execute(
        INSERT_AUDIT,
        [r.fuente for r in rows],
        [r.entrada for r in rows],
        [r.fecha for r in rows],
        [r.agente for r in rows],
        [r.accion.value for r in rows],
        [r.objetivo for r in rows],
        [orjson.dumps(r.detalles).decode() for r in rows],
    )


# ---------------------------------------------------------------- from the conversation log


def note_audit(row: NoteRow) -> AuditRow:
    """An agent wrote a note (its id says which; its text stays in the log only)."""
    return AuditRow(
        keys.STREAM,
        row.id,
        row.fecha,
        row.entry.de,
        AuditAction.NOTE,
        row.entry.conversacion,
        {"id": db_id_to_stream(row.id)},
    )


def status_audit(row: StatusRow) -> AuditRow | None:
    """An agent changed a conversation's status (automatic changes are nobody's action)."""
    if not row.entry.de:
        return None
    details: dict[str, Any] = {"estado": row.entry.estado.value}
    if row.entry.estado is ConversationStatus.SNOOZED:
        details["hasta"] = row.entry.hasta
    return AuditRow(
        keys.STREAM,
        row.id,
        row.fecha,
        row.entry.de,
        AuditAction.STATUS,
        row.entry.conversacion,
        details,
    )


def assignment_audit(row: AssignmentRow) -> AuditRow | None:
    """An agent assigned a conversation (`asignado` null: to nobody)."""
    if not row.entry.de:
        return None
    return AuditRow(
        keys.STREAM,
        row.id,
        row.fecha,
        row.entry.de,
        AuditAction.ASSIGNMENT,
        row.entry.conversacion,
        {"asignado": row.entry.asignado or None},
    )


# ---------------------------------------------------------------- from the audit stream


@dataclass(frozen=True)
class AuditItem:
    entry_id: bytes
    fields: dict[bytes, bytes]
    row: AuditRow

    @property
    def kind(self) -> str:
        return self.row.accion.value


def parse_audit(entries: Sequence[RawEntry]) -> tuple[list[AuditItem], list[Rejected]]:
    batch: list[AuditItem] = []
    rejected: list[Rejected] = []
    for entry_id, fields in entries:
        if not fields:  # deleted while pending: nothing to keep
            continue
        try:
            entry = AuditEntry.model_validate({k.decode(): v.decode() for k, v in fields.items()})
            row = AuditRow(
                keys.AUDIT_STREAM,
                stream_id_to_db(entry_id.decode()),
                datetime.fromisoformat(entry.fecha),
                entry.agente,
                entry.accion,
                entry.objetivo,
                entry.details(),
            )
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            log.error(
                "malformed audit entry; dead-lettered",
                entry_id=entry_id.decode(errors="replace"),
                error=str(exc),
            )
            rejected.append((entry_id, fields))
            continue
        batch.append(AuditItem(entry_id, fields, row))
    return batch, rejected


async def store_audit(db: asyncpg.Pool, batch: Sequence[AuditItem]) -> None:
    async with db.acquire() as conn, conn.transaction():
        await insert_audit(conn, [item.row for item in batch])


def _committed(stored: Sequence[AuditItem], dead_lettered: int) -> None:
    metrics.record_audit(len(stored), dead_lettered=dead_lettered)


AUDIT_TRAIL: Sink[AuditItem] = Sink(
    stream=keys.AUDIT_STREAM,
    dead_letters=keys.AUDIT_DEAD_LETTER_STREAM,
    parse=parse_audit,
    store=store_audit,
    committed=_committed,
)


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class AuditFilter:
    agente: str | None = None
    accion: AuditAction | None = None
    objetivo: str | None = None
    desde: datetime | None = None  # inclusive
    hasta: datetime | None = None  # exclusive


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def audit_page(
    db: asyncpg.Pool, where: AuditFilter, *, before: int | None, limit: int
) -> AuditPage:
    """Newest first; `before`: the page after that event (by time, then id)."""
    rows = await db.fetch(
        """
        SELECT id, fecha, agente, accion, objetivo, detalles FROM auditoria
         WHERE ($1::bigint IS NULL
                OR (fecha, id) < (SELECT fecha, id FROM auditoria WHERE id = $1))
           AND ($2::text IS NULL OR agente = $2)
           AND ($3::text IS NULL OR accion = $3)
           AND ($4::text IS NULL OR objetivo = $4)
           AND ($5::timestamptz IS NULL OR fecha >= $5)
           AND ($6::timestamptz IS NULL OR fecha < $6)
         ORDER BY fecha DESC, id DESC
         LIMIT $7
        """,
        before,
        where.agente,
        where.accion.value if where.accion else None,
        where.objetivo,
        where.desde,
        where.hasta,
        limit + 1,
    )
    events = [
        AuditEvent(
            id=r["id"],
            fecha=_iso(r["fecha"]),
            agente=r["agente"],
            accion=AuditAction(r["accion"]),
            objetivo=r["objetivo"],
            detalles=orjson.loads(r["detalles"]),
        )
        for r in rows[:limit]
    ]
    return AuditPage(eventos=events, hay_mas=len(rows) > limit)
