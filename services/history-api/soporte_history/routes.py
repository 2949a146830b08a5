"""The history endpoints of the contract (cookie-authenticated JSON), and the internal
backlog route. What each route needs comes from soporte_history.deps; what it answers is a
model of soporte_history.schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel

from soporte_common.contract import ConversationStatus, ErrorCode
from soporte_common.messages import stream_id_to_db
from soporte_common.sites import SITE_KEY_PATTERN
from soporte_common.text import PRINTABLE_PATTERN, USERNAME_PATTERN
from soporte_common.web import ApiError
from soporte_history import queries, seen
from soporte_history.deps import CurrentAdmin, CurrentUser, RedisDep, SettledDbDep
from soporte_history.schemas import (
    ConversationList,
    MessagePage,
    ReadMark,
    StreamBacklog,
    error_responses,
)
from soporte_history.stream_status import stream_status

router = APIRouter(prefix="/api")
# Not routed by the gateway: the service's own port only.
internal = APIRouter(include_in_schema=False)

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


@router.get("/mensajes/mios", responses=error_responses(400, 401, 422, 503))
async def own_conversation(claims: CurrentUser, paging: Paging, db: SettledDbDep) -> MessagePage:
    """The caller's conversation with support, oldest first: its messages only, and how
    far the caller has read it."""
    page = await queries.conversation_page(
        db,
        claims.user,
        limit=paging.limit,
        before=paging.before,
        after=paging.after,
        messages_only=True,
    )
    if paging.before is None and paging.after is None:  # the newest page: what a load shows
        page.leido_hasta = await queries.read_mark(db, claims.user, claims.user)
    return page


@router.get("/mensajes", responses=error_responses(400, 401, 403, 422, 503))
async def customer_conversation(
    _: CurrentAdmin,
    con: Annotated[str, Query(pattern=USERNAME_PATTERN)],
    paging: Paging,
    db: SettledDbDep,
) -> MessagePage:
    """Agents only: one customer's conversation, oldest first: every entry, by `tipo`."""
    return await queries.conversation_page(
        db, con, limit=paging.limit, before=paging.before, after=paging.after, messages_only=False
    )


@router.get("/usuarios-conversaciones", responses=error_responses(401, 403, 422, 503))
async def conversation_list(
    claims: CurrentAdmin,
    db: SettledDbDep,
    redis: RedisDep,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    before: Annotated[str | None, MessageIdParam] = None,
    q: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE_PATTERN)] = None,
    estado: ConversationStatus | None = None,
    asignado: Annotated[
        str | None,
        Query(
            pattern=USERNAME_PATTERN,
            description="an agent's username, `yo` (the caller) or `nadie` (nobody)",
        ),
    ] = None,
    sitio: Annotated[
        str | None,
        Query(pattern=SITE_KEY_PATTERN, description="a site's key: its website visitors"),
    ] = None,
) -> ConversationList:
    """Agents only: customers with messages, newest activity first, with unread counts and
    state (and a website visitor's site, identity and page); filtered by status, by who
    holds them and by site."""
    holder = claims.user if asignado == "yo" else asignado
    where = queries.ListFilter(
        prefix=queries.like_escape(q) if q else None,
        estado=estado,
        asignado=None if holder == "nadie" else holder,
        unassigned=holder == "nadie",
        sitio=sitio,
    )
    return await queries.conversation_list(
        db, redis, claims.user, limit=limit, before=_id(before, "before"), where=where
    )


@router.post(
    "/mensajes/leidos",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 422, 503),
)
async def mark_read(body: ReadMark, claims: CurrentUser, db: SettledDbDep, redis: RedisDep) -> None:
    """Remember that the caller has read a conversation up to `hasta` (for unread counts),
    and tell the other side what it newly read of theirs (`visto`)."""
    hasta = _key(body.hasta, "hasta")
    if claims.rol == "admin":
        if body.con is None:
            raise ApiError(422, ErrorCode.INVALID_DATA, "Indica la conversación (con)")
        conversacion = body.con
    elif body.con not in (None, claims.user):
        raise ApiError(403, ErrorCode.FORBIDDEN, "Solo puedes marcar tu propia conversación")
    else:
        conversacion = claims.user
    await seen.mark_read(db, redis, claims, conversacion, hasta)


@internal.get("/stream")
async def stream(redis: RedisDep) -> StreamBacklog:
    """The persistence backlog as numbers (operators, tests)."""
    backlog = await stream_status(redis)
    return StreamBacklog(
        length=backlog.length,
        pending=backlog.pending,
        last_generated=backlog.last_generated,
        last_delivered=backlog.last_delivered,
        oldest_pending=backlog.oldest_pending,
        unstored=backlog.unstored,
        counters={"insertsPending": backlog.unstored},
    )
