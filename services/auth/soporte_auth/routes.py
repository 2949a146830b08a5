"""The auth endpoints of the contract: register, login, logout, me. What each route needs
comes from soporte_auth.deps; what it answers is a model of soporte_auth.schemas."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response, status

from soporte_auth.deps import Codec, Guard, Settings, Throttle, Users
from soporte_auth.passwords import hash_password, verify_password
from soporte_auth.schemas import Account, LoginBody, RegisterBody
from soporte_common.contract import SUPPORT_TEAM, ErrorCode
from soporte_common.tokens import COOKIE_NAME, InvalidTokenError
from soporte_common.web import ApiError, CurrentUser, error_responses, token_from_request

router = APIRouter(prefix="/api/auth")

# Names a customer could use to pose as the team: "admin" is where customers write.
RESERVED_USERNAMES = frozenset({SUPPORT_TEAM, "admins", "soporte", "support", "root", "system"})

INVALID = "a field is missing or not valid"


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses({409: "the username is taken or reserved", 422: INVALID}),
)
async def register(body: RegisterBody, users: Users) -> Account:
    """Create a customer account (agents are created by an operator)."""
    if body.usuario in RESERVED_USERNAMES:
        raise ApiError(409, ErrorCode.USER_EXISTS)
    password_hash = await asyncio.to_thread(hash_password, body.password)
    if not await users.create(body.usuario, body.nombre, "user", password_hash):
        raise ApiError(409, ErrorCode.USER_EXISTS)
    return Account(usuario=body.usuario, nombre=body.nombre, rol="user")


@router.post(
    "/login",
    responses=error_responses(
        {
            401: "unknown user or wrong password (the same answer for both)",
            422: INVALID,
            429: "too many failures for this username: wait a few minutes",
        }
    ),
)
async def login(
    body: LoginBody,
    response: Response,
    users: Users,
    settings: Settings,
    codec: Codec,
    throttle: Throttle,
) -> Account:
    """Check the password and set the session cookie `token`."""
    if await throttle.locked(body.usuario):
        raise ApiError(429, ErrorCode.TOO_MANY_ATTEMPTS)
    user = await users.get(body.usuario)
    ok, new_hash = await asyncio.to_thread(
        verify_password, body.password, user.password_hash if user else None
    )
    if user is None or not ok:
        await throttle.failed(body.usuario)
        raise ApiError(401, ErrorCode.BAD_CREDENTIALS)
    if new_hash:
        await users.set_password_hash(user.usuario, new_hash)
    await users.publish(user.usuario, user.rol)  # heals the directory if Redis lost it
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


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, response: Response, settings: Settings, guard: Guard) -> None:
    """End the session everywhere (its token opens nothing any more) and drop the cookie."""
    token = token_from_request(request)
    if token:
        try:
            claims = await guard.verify(token)
        except InvalidTokenError:
            pass  # already unusable: nothing to revoke
        else:
            await guard.revoke(claims)
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
