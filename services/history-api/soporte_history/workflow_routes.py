"""The endpoints of the agents' workflow (agents only unless said): the tabs' counts, canned
replies, search, the report, who the agents are; and the team's median first response,
which customers may read too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from soporte_common.contract import ErrorCode
from soporte_common.text import PRINTABLE_PATTERN, USERNAME_PATTERN
from soporte_common.web import ApiError
from soporte_history import agents, canned, queries, reports
from soporte_history.deps import CurrentAdmin, CurrentUser, DbDep, RedisDep, SettledDbDep
from soporte_history.schemas import (
    AgentStatus,
    CannedReply,
    CannedReplyBody,
    ConversationCounts,
    Report,
    ResponseTime,
    SearchResults,
    error_responses,
)
from soporte_history.search import search

router = APIRouter(prefix="/api")

SEARCH_DEFAULT = 20
SEARCH_MAX = 100
REPORT_DAYS = (7, 30)


@router.get("/usuarios-conversaciones/recuento", responses=error_responses(401, 403, 503))
async def conversation_counts(claims: CurrentAdmin, db: SettledDbDep) -> ConversationCounts:
    """How many conversations each tab holds (`mias`, `sin_asignar`: not resolved)."""
    return await queries.conversation_counts(db, claims.user)


@router.get("/respuestas", responses=error_responses(401, 403))
async def list_replies(_: CurrentAdmin, db: DbDep) -> list[CannedReply]:
    """The team's canned replies, by shortcut."""
    return await canned.all_replies(db)


@router.post(
    "/respuestas",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409, 422),
)
async def create_reply(body: CannedReplyBody, claims: CurrentAdmin, db: DbDep) -> CannedReply:
    return await canned.create(db, body, claims.user)


@router.put("/respuestas/{reply_id}", responses=error_responses(401, 403, 404, 409, 422))
async def update_reply(
    reply_id: int, body: CannedReplyBody, _: CurrentAdmin, db: DbDep
) -> CannedReply:
    return await canned.update(db, reply_id, body)


@router.delete(
    "/respuestas/{reply_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
)
async def delete_reply(reply_id: int, _: CurrentAdmin, db: DbDep) -> None:
    await canned.delete(db, reply_id)


@router.get("/buscar", responses=error_responses(401, 403, 422, 503))
async def search_log(
    _: CurrentAdmin,
    db: SettledDbDep,
    q: Annotated[str, Query(min_length=1, max_length=200, pattern=PRINTABLE_PATTERN)],
    con: Annotated[str | None, Query(pattern=USERNAME_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=SEARCH_MAX)] = SEARCH_DEFAULT,
) -> SearchResults:
    """Messages and notes with every word of `q` (any case, any accents), newest first,
    over all of history; `con` keeps to one conversation."""
    return await search(db, q, con=con, limit=limit)


@router.get("/informes", responses=error_responses(401, 403, 422, 503))
async def report(
    _: CurrentAdmin,
    db: SettledDbDep,
    redis: RedisDep,
    dias: Annotated[int, Query(description="7 or 30")] = 7,
) -> Report:
    """Conversations opened and resolved, first response and resolution times (median, 90th
    percentile), overall and per agent, over the last 7 or 30 days."""
    if dias not in REPORT_DAYS:
        raise ApiError(422, ErrorCode.INVALID_DATA, "dias: 7 o 30")
    return await reports.report(db, dias, await agents.agent_names(redis))


@router.get("/soporte/tiempo-respuesta", responses=error_responses(401))
async def response_time(_: CurrentUser, db: DbDep) -> ResponseTime:
    """Anyone signed in (customers too): the team's median first response over 30 days."""
    return await reports.response_time(db)


@router.get("/agentes", responses=error_responses(401, 403))
async def agent_list(_: CurrentAdmin, redis: RedisDep) -> list[AgentStatus]:
    """Every agent who ever connected, with its presence: en_linea, ausente, desconectado."""
    return await agents.agents(redis)
