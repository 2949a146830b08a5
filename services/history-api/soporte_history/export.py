"""A customer's data as one JSON document (`GET /api/usuarios/<usuario>/exportar` for agents,
`GET /api/mensajes/mios/exportar` for the customer's own copy).

The agents' export holds everything: the account, every entry of the conversation (notes,
status changes and assignments included), read marks, the conversation's state and what
other parts of Soporte keep (soporte_history.personal_data). The customer's own copy holds
what they may see: their account, their conversation's messages, their own read marks;
never an internal note or who on the team holds or read their conversation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.messages import now_iso
from soporte_history.personal_data import PERSONAL_DATA
from soporte_history.queries import iso, whole_conversation
from soporte_history.schemas import ExportDocument


def _plain(row: asyncpg.Record) -> dict[str, Any]:
    """A row as JSON-ready data (times as the log writes them)."""
    return {k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()}


async def export(db: asyncpg.Pool, redis: Redis, usuario: str, *, own: bool) -> ExportDocument:
    """Everything held about `usuario` (`own`: the customer's copy), read in one snapshot.
    A customer being erased has nothing left to export."""
    sections: dict[str, Any] = {}
    async with db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        for data in PERSONAL_DATA:
            query = data.own if own else data.select
            if query is None:
                continue
            rows = [_plain(row) for row in await conn.fetch(query, usuario)]
            sections[data.section] = rows if data.many else (rows[0] if rows else None)
        entries = await whole_conversation(conn, usuario, messages_only=own)
    if await redis.exists(keys.erased(usuario)):
        sections, entries = {}, []
    return ExportDocument(
        usuario=usuario,
        exportado=now_iso(),
        mensajes=entries,
        **{"cuenta": None, "lecturas": [], **sections},
    )


def holds_anything(document: ExportDocument) -> bool:
    """Whether Soporte holds anything about the customer at all."""
    sections = document.model_dump(exclude={"usuario", "exportado"})
    return any(value for value in sections.values())
