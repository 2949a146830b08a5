"""Each stream entry is projected into Postgres by its type (`tipo`, see
soporte_common.contract.EntryType): a parser from the entry's fields to a row, and a batch
writer (soporte_history.storage) for the rows of that type.

A new type of entry is one more `PROJECTIONS` line: its parser and its writer. The consumer
stores a whole batch, every type in it, in one transaction, and acknowledges the entries
only after it committed. An entry whose type has no projection, or whose fields its parser
refuses, is malformed: it goes to the dead-letter stream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from pydantic import ValidationError

from soporte_common.contract import EntryType
from soporte_common.logging import get_logger
from soporte_common.messages import StreamEntry, stream_id_to_db
from soporte_history.storage import MessageRow, insert_messages

log = get_logger(__name__)

# (id, fields). An entry deleted from the stream while pending comes back from XREADGROUP
# with empty fields (XAUTOCLAIM drops such entries from the pending list itself).
RawEntry = tuple[bytes, dict[bytes, bytes]]
# An entry to dead-letter: its id and whatever fields it had.
Rejected = tuple[bytes, dict[bytes, bytes]]


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
    # Rows of this type, in the batch's transaction.
    write: Callable[[PoolConnectionProxy, Sequence[RowT]], Awaitable[None]]


def parse_message(key: int, fields: dict[str, str]) -> MessageRow:
    entry = StreamEntry.model_validate(fields)
    return MessageRow(key, entry, datetime.fromisoformat(entry.fecha))


PROJECTIONS: Mapping[EntryType, Projection[Any]] = {
    EntryType.MESSAGE: Projection(parse_message, insert_messages),
}


@dataclass(frozen=True)
class Projected:
    """An entry ready to store: its type, its row, and its fields as read (dead-lettered
    whole if Postgres refuses the row)."""

    entry_id: bytes
    fields: dict[bytes, bytes]
    tipo: EntryType
    row: Row


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
    """The whole batch in one transaction, each type by its writer."""
    by_type: dict[EntryType, list[Row]] = {}
    for item in batch:
        by_type.setdefault(item.tipo, []).append(item.row)
    async with db.acquire() as conn, conn.transaction():
        for tipo, rows in by_type.items():
            await PROJECTIONS[tipo].write(conn, rows)
    for item in batch:
        log.debug("message stored", message_id=item.entry_id.decode(), tipo=item.tipo.value)
