"""What routes depend on, as typed aliases over the lifespan's state: a route names
`SettledDbDep` or `CurrentUser` in its signature and never reads `request.state` itself.

The lifespan (soporte_history.app) yields a `State`; Starlette hands each request a
shallow copy of it. `guard`, `db` and `redis` keep those names because the shared helpers
of soporte_common.web read them (the session check, the readiness checks).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, TypedDict, cast

import asyncpg
from fastapi import Depends, Request
from redis.asyncio import Redis

from soporte_common.contract import ErrorCode
from soporte_common.tokens import SessionGuard
from soporte_common.web import ApiError, CurrentAdmin, CurrentUser
from soporte_history.erasure import Eraser
from soporte_history.settings import HistorySettings
from soporte_history.stream_status import wait_until_settled

__all__ = [
    "CurrentAdmin",
    "CurrentUser",
    "DbDep",
    "EraserDep",
    "RedisDep",
    "SettingsDep",
    "SettledDbDep",
    "State",
    "app_state",
]


class State(TypedDict):
    settings: HistorySettings
    db: asyncpg.Pool
    redis: Redis
    guard: SessionGuard
    eraser: Eraser
    # The stream consumers (the conversation log's, the audit trail's) and the rest of the
    # background work: readiness fails when any of them stopped.
    tasks: list[asyncio.Task[None]]


def app_state(request: Request) -> State:
    """The lifespan's state, typed (readiness checks take the request too)."""
    return cast(State, request.scope["state"])


StateDep = Annotated[State, Depends(app_state)]


def _settings(state: StateDep) -> HistorySettings:
    return state["settings"]


def _db(state: StateDep) -> asyncpg.Pool:
    return state["db"]


def _redis(state: StateDep) -> Redis:
    return state["redis"]


def _eraser(state: StateDep) -> Eraser:
    return state["eraser"]


SettingsDep = Annotated[HistorySettings, Depends(_settings)]
DbDep = Annotated[asyncpg.Pool, Depends(_db)]
RedisDep = Annotated[Redis, Depends(_redis)]
EraserDep = Annotated[Eraser, Depends(_eraser)]


async def _settled_db(settings: SettingsDep, redis: RedisDep, db: DbDep) -> asyncpg.Pool:
    """The pool, once everything accepted before this request is stored: a client that
    reads history right after (re)connecting its socket misses nothing in between."""
    if not await wait_until_settled(redis, settings.settle_timeout_seconds):
        raise ApiError(503, ErrorCode.HISTORY_BEHIND, headers={"Retry-After": "2"})
    return db


SettledDbDep = Annotated[asyncpg.Pool, Depends(_settled_db)]
