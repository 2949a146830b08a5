"""Each stream entry is projected into Postgres by its type (`tipo`, see
soporte_common.contract.EntryType): a parser from the entry's fields to a row, and a batch
writer (soporte_history.storage) for the rows of that type.

A new type of entry is one more `PROJECTIONS` line: its parser, its writer, and what it
adds to the audit trail (an agent's note, status change or assignment: who, when, to which
conversation; never what was written). The consumer stores a whole batch, every type in it
and its audit entries, in one transaction, and acknowledges the entries only after it
committed. An entry whose type has no projection, or whose fields its parser refuses, is
malformed: it goes to the dead-letter stream. `MESSAGE_LOG` is the log's consumer sink.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import ValidationError

from soporte_common import keys
from soporte_common.contract import ConversationStatus, EntryType
from soporte_common.entries import AssignmentEntry, NoteEntry, StatusEntry
from soporte_common.logging import get_logger
from soporte_common.messages import StreamEntry, stream_id_to_db
from soporte_history import metrics
from soporte_history.audit_log import (
    AuditRow,
    assignment_audit,
    insert_audit,
    note_audit,
    status_audit,
)
from soporte_history.consumer import RawEntry, Rejected, Sink
from soporte_history.cycles import CycleTime
from soporte_history.storage import MessageRow, NoteRow, insert_messages, insert_notes
from soporte_history.workflow_storage import (
    AssignmentRow,
    StatusRow,
    insert_assignments,
    insert_statuses,
)

log = get_logger(__name__)


class Row(Protocol):
    """What every projected row has: its key (the entry's id folded into a bigint) and
    when realtime accepted the entry."""

    @property
    def id(self) -> int: ...

    @property
    def fecha(self) -> datetime: ...


RowT = TypeVar("RowT", bound=Row)


@dataclass(frozen=True)
class Projection(Generic[RowT]):
    # The entry's key and decoded fields -> its row; ValidationError or ValueError if malformed.
    parse: Callable[[int, dict[str, str]], RowT]
    # Rows of this type, in the batch's transaction; the cycle times they completed.
    write: Callable[[PoolConnectionProxy, Sequence[RowT]], Awaitable[list[CycleTime]]]
    # The row's entry in the audit trail (an agent's action), or None.
    audit: Callable[[RowT], AuditRow | None] | None = None


def _key(entry_id: str) -> int | None:
    return stream_id_to_db(entry_id) if entry_id else None


def parse_message(key: int, fields: dict[str, str]) -> MessageRow:
    entry = StreamEntry.model_validate(fields)
    return MessageRow(key, entry, datetime.fromisoformat(entry.fecha), _key(entry.ciclo))


def parse_note(key: int, fields: dict[str, str]) -> NoteRow:
    entry = NoteEntry.model_validate(fields)
    return NoteRow(key, entry, datetime.fromisoformat(entry.fecha))


def parse_status(key: int, fields: dict[str, str]) -> StatusRow:
    entry = StatusEntry.model_validate(fields)
    snoozed = entry.estado is ConversationStatus.SNOOZED
    hasta = datetime.fromisoformat(entry.hasta) if snoozed else None
    return StatusRow(key, entry, datetime.fromisoformat(entry.fecha), hasta, _key(entry.ciclo))


def parse_assignment(key: int, fields: dict[str, str]) -> AssignmentRow:
    entry = AssignmentEntry.model_validate(fields)
    return AssignmentRow(key, entry, datetime.fromisoformat(entry.fecha))


PROJECTIONS: Mapping[EntryType, Projection[Any]] = {
    EntryType.MESSAGE: Projection(parse_message, insert_messages),
    EntryType.NOTE: Projection(parse_note, insert_notes, note_audit),
    EntryType.STATUS: Projection(parse_status, insert_statuses, status_audit),
    EntryType.ASSIGNMENT: Projection(parse_assignment, insert_assignments, assignment_audit),
}


@dataclass(frozen=True)
class Projected:
    """An entry ready to store: its type, its row, and its fields as read (dead-lettered
    whole if Postgres refuses the row)."""

    entry_id: bytes
    fields: dict[bytes, bytes]
    tipo: EntryType
    row: Row

    @property
    def kind(self) -> str:
        return self.tipo.value


def project(entry_id: bytes, fields: dict[bytes, bytes]) -> Projected:
    """The entry as a row of its type; ValidationError, ValueError (an unknown type, an id
    that does not fold into the key) or UnicodeDecodeError if it is malformed."""
    decoded = {k.decode(): v.decode() for k, v in fields.items()}
    tipo = EntryType(decoded.get("tipo", EntryType.MESSAGE))  # none: written before `tipo`
    row = PROJECTIONS[tipo].parse(stream_id_to_db(entry_id.decode()), decoded)
    return Projected(entry_id, fields, tipo, row)


def parse_entries(entries: Sequence[RawEntry]) -> tuple[list[Projected], list[Rejected]]:
    """The entries to store, and the malformed ones to dead-letter. Entries deleted from
    the stream while pending (no fields left) are neither: there is nothing to keep."""
    batch: list[Projected] = []
    rejected: list[Rejected] = []
    for entry_id, fields in entries:
        if not fields:  # trimmed away while pending: nothing to store
            continue
        try:
            batch.append(project(entry_id, fields))
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            log.error(
                "malformed stream entry; dead-lettered",
                message_id=entry_id.decode(errors="replace"),
                error=str(exc),
            )
            rejected.append((entry_id, fields))
    return batch, rejected


async def store(db: asyncpg.Pool, batch: Sequence[Projected]) -> None:
    """The whole batch in one transaction, each type by its writer; the cycle times it
    completed are measured once it committed."""
    by_type: dict[EntryType, list[Row]] = {}
    audited: list[AuditRow] = []
    for item in batch:
        by_type.setdefault(item.tipo, []).append(item.row)
        trail = PROJECTIONS[item.tipo].audit
        if trail is not None and (row := trail(item.row)) is not None:
            audited.append(row)
    completed: list[CycleTime] = []
    async with db.acquire() as conn, conn.transaction():
        for tipo, rows in by_type.items():
            completed += await PROJECTIONS[tipo].write(conn, rows)
        await insert_audit(conn, audited)
    metrics.record_cycle_times(completed)
    # A line per message only when DEBUG is on: even a dropped call per message slows a
    # backlog's drain.
    if log.is_enabled_for(logging.DEBUG):
        for item in batch:
            log.debug("message stored", message_id=item.entry_id.decode(), tipo=item.tipo.value)


def _committed(stored: Sequence[Projected], dead_lettered: int) -> None:
    metrics.record_batch([item.row.fecha for item in stored], dead_lettered=dead_lettered)


# The conversation log: every entry accepted by realtime, by type.
MESSAGE_LOG: Sink[Projected] = Sink(
    stream=keys.STREAM,
    dead_letters=keys.DEAD_LETTER_STREAM,
    parse=parse_entries,
    store=store,
    committed=_committed,
)
