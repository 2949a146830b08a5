"""What the auth routes depend on, as typed aliases over the lifespan's state: a route names
`Users` or `Throttle` in its signature and never reads `request.state` itself.

The lifespan (soporte_auth.app) yields a `State`; Starlette hands each request a shallow
copy of it. `guard`, `db` and `redis` keep those names because the shared helpers of
soporte_common.web read them (the session check, the readiness checks).
"""

from __future__ import annotations

from typing import Annotated, TypedDict, cast

import asyncpg
from fastapi import Depends, Request
from redis.asyncio import Redis

from soporte_auth.limits import AddressRate, client_address
from soporte_auth.names import TeamNames
from soporte_auth.passwords import Hashing
from soporte_auth.settings import AuthSettings
from soporte_auth.sites import SiteStore
from soporte_auth.throttle import LoginThrottle
from soporte_auth.users import UserStore
from soporte_auth.visitors import VisitorStore
from soporte_common.tokens import SessionGuard, TokenCodec


class State(TypedDict):
    settings: AuthSettings
    db: asyncpg.Pool
    redis: Redis
    users: UserStore
    codec: TokenCodec
    guard: SessionGuard
    throttle: LoginThrottle
    rate: AddressRate
    hashing: Hashing
    names: TeamNames
    sites: SiteStore
    visitors: VisitorStore


def _state(request: Request) -> State:
    return cast(State, request.scope["state"])


def _settings(request: Request) -> AuthSettings:
    return _state(request)["settings"]


def _redis(request: Request) -> Redis:
    return _state(request)["redis"]


def _users(request: Request) -> UserStore:
    return _state(request)["users"]


def _codec(request: Request) -> TokenCodec:
    return _state(request)["codec"]


def _guard(request: Request) -> SessionGuard:
    return _state(request)["guard"]


def _throttle(request: Request) -> LoginThrottle:
    return _state(request)["throttle"]


def _hashing(request: Request) -> Hashing:
    return _state(request)["hashing"]


def _names(request: Request) -> TeamNames:
    return _state(request)["names"]


def _sites(request: Request) -> SiteStore:
    return _state(request)["sites"]


def _visitors(request: Request) -> VisitorStore:
    return _state(request)["visitors"]


async def _per_address_rate(request: Request) -> None:
    await _state(request)["rate"].check(client_address(request), request.url.path)


Settings = Annotated[AuthSettings, Depends(_settings)]
RedisClient = Annotated[Redis, Depends(_redis)]
Users = Annotated[UserStore, Depends(_users)]
Codec = Annotated[TokenCodec, Depends(_codec)]
Guard = Annotated[SessionGuard, Depends(_guard)]
Throttle = Annotated[LoginThrottle, Depends(_throttle)]
Hasher = Annotated[Hashing, Depends(_hashing)]
Names = Annotated[TeamNames, Depends(_names)]
Sites = Annotated[SiteStore, Depends(_sites)]
Visitors = Annotated[VisitorStore, Depends(_visitors)]
# A route counted against SOPORTE_AUTH_RATE_PER_MINUTE: `dependencies=[PerAddressRate]`.
PerAddressRate = Depends(_per_address_rate)
