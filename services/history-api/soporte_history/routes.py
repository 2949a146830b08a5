"""The history endpoints of the contract (cookie-authenticated JSON)."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel

from soporte_common.contract import ErrorCode
from soporte_common.messages import stream_id_to_db
from soporte_common.text import USERNAME_PATTERN
from soporte_common.web import ApiError, CurrentAdmin, CurrentUser
from soporte_history import queries
from soporte_history.consumer import wait_until_settled
from soporte_history.settings import HistorySettings

router = APIRouter(prefix="/api")

PAGE_DEFAULT = 50
PAGE_MAX = 200
MessageIdParam = Query(
    pattern=r"^\d{1,15}-\d{1,6}$", description="a message id, e.g. 1764120000000-0"
)


def _key(value: str, name: str) -> int:
    """A message id as its key in Postgres; 422 if it is not one."""
    try:
        return stream_id_to_db(value)
    except ValueError as exc:
        raise ApiError(422, ErrorCode.INVALID_DATA, f"{name} no es un id de mensaje") from exc


def _id(value: str | None, name: str) -> int | None:
    return _key(value, name) if value is not None else None


async def settled_db(request: Request) -> asyncpg.Pool:
    """The pool, once everything accepted before this request is stored: a client that
    reads history right after (re)connecting its socket misses nothing in between."""
    settings: HistorySettings = request.state.settings
    if not await wait_until_settled(request.state.redis, settings.settle_timeout_seconds):
        raise ApiError(503, ErrorCode.HISTORY_BEHIND, headers={"Retry-After": "2"})
    db: asyncpg.Pool = request.state.db
    return db


SettledDb = Annotated[asyncpg.Pool, Depends(settled_db)]


class PageQuery(BaseModel):
    limit: int = PAGE_DEFAULT
    before: int | None = None
    after: int | None = None


def page_query(
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    before: Annotated[str | None, MessageIdParam] = None,
    after: Annotated[str | None, MessageIdParam] = None,
) -> PageQuery:
    if before is not None and after is not None:
        raise ApiError(400, ErrorCode.BAD_REQUEST, "Usa before o after, no los dos")
    return PageQuery(limit=limit, before=_id(before, "before"), after=_id(after, "after"))


Paging = Annotated[PageQuery, Depends(page_query)]


async def _page(db: asyncpg.Pool, conversacion: str, paging: PageQuery) -> dict[str, object]:
    page = await queries.conversation_page(
        db,
        conversacion,
        limit=paging.limit,
        before=paging.before,
        after=paging.after,
    )
    return page.body()


@router.get("/mensajes/mios")
async def own_conversation(claims: CurrentUser, paging: Paging, db: SettledDb) -> dict[str, object]:
    """The caller's conversation with support, oldest first."""
    return await _page(db, claims.user, paging)


@router.get("/mensajes")
async def customer_conversation(
    _: CurrentAdmin,
    con: Annotated[str, Query(pattern=USERNAME_PATTERN)],
    paging: Paging,
    db: SettledDb,
) -> dict[str, object]:
    """Agents only: one customer's conversation, oldest first."""
    return await _page(db, con, paging)


@router.get("/usuarios-conversaciones")
async def conversation_list(
    claims: CurrentAdmin,
    db: SettledDb,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    before: Annotated[str | None, MessageIdParam] = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, object]:
    """Agents only: customers with messages, newest activity first, with unread counts."""
    items, more = await queries.conversation_list(
        db,
        claims.user,
        limit=limit,
        before=_id(before, "before"),
        prefix=queries.like_escape(q) if q else None,
    )
    return {"conversaciones": items, "hay_mas": more}


class ReadMark(BaseModel):
    hasta: str
    con: str | None = None


@router.post("/mensajes/leidos", status_code=status.HTTP_204_NO_CONTENT)
async def mark_read(body: ReadMark, claims: CurrentUser, request: Request) -> Response:
    """Remember that the caller has read a conversation up to `hasta` (for unread counts)."""
    hasta = _key(body.hasta, "hasta")
    if claims.rol == "admin":
        if body.con is None:
            raise ApiError(422, ErrorCode.INVALID_DATA, "Indica la conversación (con)")
        conversacion = body.con
    elif body.con not in (None, claims.user):
        raise ApiError(403, ErrorCode.FORBIDDEN, "Solo puedes marcar tu propia conversación")
    else:
        conversacion = claims.user
    await queries.mark_read(request.state.db, claims.user, conversacion, hasta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
