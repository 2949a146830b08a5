"""The auth endpoints of the contract: register, login, logout, me. What each route needs
comes from soporte_auth.deps; what it answers is a model of soporte_auth.schemas."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response, status
from redis.exceptions import RedisError

from soporte_auth.deps import (
    Codec,
    Guard,
    Hasher,
    Names,
    PerAddressRate,
    RedisClient,
    Settings,
    Throttle,
    Users,
)
from soporte_auth.limits import client_address
from soporte_auth.schemas import Account, LoginBody, RegisterBody
from soporte_common import audit
from soporte_common.contract import AuditAction, ErrorCode
from soporte_common.logging import get_logger
from soporte_common.tokens import COOKIE_NAME, InvalidTokenError
from soporte_common.web import ApiError, CurrentUser, error_responses, token_from_request

router = APIRouter(prefix="/api/auth")
log = get_logger(__name__)

INVALID = "a field is missing or not valid"
RATE = "too many registrations, logins or visitor creations from this address: Retry-After"
UNAVAILABLE = "Redis or Postgres is unreachable: retry"
RESERVED_USERNAME = "Ese usuario está reservado para el equipo de soporte; elige otro"


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[PerAddressRate],
    responses=error_responses(
        {
            409: "the username is taken, or it or the name passes for the support team's",
            422: INVALID,
            429: RATE,
            503: UNAVAILABLE,
        }
    ),
)
async def register(
    body: RegisterBody, request: Request, users: Users, hashing: Hasher, names: Names
) -> Account:
    """Create a customer account (agents are created by an operator)."""
    if names.imitated_by_username(body.usuario):
        raise ApiError(409, ErrorCode.RESERVED_NAME, RESERVED_USERNAME)
    if names.imitated_by_display_name(body.nombre):
        raise ApiError(409, ErrorCode.RESERVED_NAME)
    if await users.being_erased(body.usuario):  # the name is free once the erasure settled
        raise ApiError(409, ErrorCode.USER_EXISTS)
    password_hash = await hashing.hash(client_address(request), body.password)
    if not await users.create(body.usuario, body.nombre, "user", password_hash):
        raise ApiError(409, ErrorCode.USER_EXISTS)
    return Account(usuario=body.usuario, nombre=body.nombre, rol="user")


@router.post(
    "/login",
    dependencies=[PerAddressRate],
    responses=error_responses(
        {
            401: "unknown user or wrong password (the same answer for both)",
            422: INVALID,
            429: "too many attempts for this username from this address, or too many "
            "requests from this address: Retry-After says when to try again",
            503: UNAVAILABLE,
        }
    ),
)
async def login(
    body: LoginBody,
    request: Request,
    response: Response,
    users: Users,
    settings: Settings,
    codec: Codec,
    throttle: Throttle,
    hashing: Hasher,
    redis: RedisClient,
) -> Account:
    """Check the password and set the session cookie `token`."""
    address = client_address(request)
    verdict = await throttle.begin(body.usuario, address)  # counted before it is checked
    if not verdict.allowed:
        log.warning("login refused: locked out", usuario=body.usuario, direccion=address)
        raise ApiError(
            429,
            ErrorCode.TOO_MANY_ATTEMPTS,
            headers={"Retry-After": str(verdict.retry_after_seconds)},
        )
    user = await users.get(body.usuario)
    ok, new_hash = await hashing.verify(
        address, body.password, user.password_hash if user else None
    )
    if user is None or not ok:
        log.warning("login failed", usuario=body.usuario, direccion=address)
        raise ApiError(401, ErrorCode.BAD_CREDENTIALS)
    # Heals the directory if Redis lost it; refused while the account is being erased.
    if not await users.publish(user.usuario, user.rol):
        log.warning("login refused: the account is being erased", usuario=user.usuario)
        raise ApiError(401, ErrorCode.BAD_CREDENTIALS)
    await throttle.succeeded(user.usuario, address, now_ms=int(time.time() * 1000))
    if new_hash:
        await users.set_password_hash(user.usuario, new_hash)
    if user.rol == "admin":  # before the session exists: no agent session goes unaudited
        await audit.record(
            redis, user.usuario, AuditAction.LOGIN, user.usuario, {"direccion": address}
        )
    token, _ = codec.issue(
        user=user.usuario, nombre=user.nombre, rol=user.rol, ttl_seconds=settings.token_ttl_seconds
    )
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=settings.token_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return Account(usuario=user.usuario, nombre=user.nombre, rol=user.rol)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        {503: "the session could not be ended (Redis is unreachable): it is still open; retry"}
    ),
)
async def logout(request: Request, response: Response, settings: Settings, guard: Guard) -> None:
    """End the session everywhere (its token opens nothing any more) and drop the cookie.
    When the session cannot be ended, say so and keep the cookie: a page that sent its
    user to the login screen would leave a working token behind."""
    token = token_from_request(request)
    if token:
        try:
            await guard.revoke(await guard.verify(token))
        except InvalidTokenError:
            pass  # already unusable: nothing to revoke
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("logout failed: the session stays open", error=str(exc))
            raise ApiError(503, ErrorCode.LOGOUT_FAILED, headers={"Retry-After": "2"}) from exc
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )


@router.get(
    "/me",
    responses=error_responses(
        {401: "not signed in, or the session is over", 503: "Redis is unreachable: retry"}
    ),
)
async def me(claims: CurrentUser) -> Account:
    """Who the session cookie belongs to."""
    return Account(usuario=claims.user, nombre=claims.nombre, rol=claims.rol)
