"""Canned replies: the team's shared library of answers (table `respuestas`)."""

from __future__ import annotations

import asyncpg

from soporte_common.contract import ErrorCode
from soporte_common.web import ApiError
from soporte_history.schemas import CannedReply, CannedReplyBody

_TAKEN = ApiError(409, ErrorCode.SHORTCUT_EXISTS)
_MISSING_TEXT = "No hay una respuesta con ese id"


async def all_replies(db: asyncpg.Pool) -> list[CannedReply]:
    rows = await db.fetch("SELECT id, atajo, texto FROM respuestas ORDER BY lower(atajo)")
    return [CannedReply(**dict(r)) for r in rows]


async def create(db: asyncpg.Pool, body: CannedReplyBody, autor: str) -> CannedReply:
    try:
        row = await db.fetchrow(
            "INSERT INTO respuestas (atajo, texto, autor) VALUES ($1, $2, $3)"
            " RETURNING id, atajo, texto",
            body.atajo,
            body.texto,
            autor,
        )
    except asyncpg.UniqueViolationError:
        raise _TAKEN from None
    assert row is not None  # INSERT ... RETURNING answers the row
    return CannedReply(**dict(row))


async def update(db: asyncpg.Pool, reply_id: int, body: CannedReplyBody) -> CannedReply:
    try:
        row = await db.fetchrow(
            "UPDATE respuestas SET atajo = $2, texto = $3 WHERE id = $1 RETURNING id, atajo, texto",
            reply_id,
            body.atajo,
            body.texto,
        )
    except asyncpg.UniqueViolationError:
        raise _TAKEN from None
    if row is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, _MISSING_TEXT)
    return CannedReply(**dict(row))


async def delete(db: asyncpg.Pool, reply_id: int) -> None:
    if await db.fetchval("DELETE FROM respuestas WHERE id = $1 RETURNING id", reply_id) is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, _MISSING_TEXT)
