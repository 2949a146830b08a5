"""The auth endpoints of the contract: register, login, logout, me."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field, field_validator

from soporte_auth.passwords import hash_password, verify_password
from soporte_auth.settings import AuthSettings
from soporte_auth.throttle import LoginThrottle
from soporte_auth.users import UserStore
from soporte_common.contract import SUPPORT_TEAM, ErrorCode
from soporte_common.text import USERNAME_PATTERN, clean_display_name
from soporte_common.tokens import COOKIE_NAME, Claims, InvalidTokenError, TokenCodec
from soporte_common.web import ApiError, CurrentUser, token_from_request

router = APIRouter(prefix="/api/auth")

# Names a customer could use to pose as the team: "admin" is where customers write.
RESERVED_USERNAMES = frozenset({SUPPORT_TEAM, "admins", "soporte", "support", "root", "system"})


class RegisterBody(BaseModel):
    usuario: str = Field(pattern=USERNAME_PATTERN, description="2-32 of a-z 0-9 . _ -")
    nombre: str
    password: str = Field(min_length=8, max_length=256)

    @field_validator("nombre")
    @classmethod
    def _nombre(cls, value: str) -> str:
        return clean_display_name(value)


class LoginBody(BaseModel):
    usuario: str = Field(max_length=64)
    password: str = Field(max_length=256)


class Account(BaseModel):
    usuario: str
    nombre: str
    rol: str


def _users(request: Request) -> UserStore:
    store: UserStore = request.state.users
    return store


def _settings(request: Request) -> AuthSettings:
    settings: AuthSettings = request.state.settings
    return settings


Users = Annotated[UserStore, Depends(_users)]
Settings = Annotated[AuthSettings, Depends(_settings)]


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterBody, users: Users) -> Account:
    if body.usuario in RESERVED_USERNAMES:
        raise ApiError(409, ErrorCode.USER_EXISTS)
    password_hash = await asyncio.to_thread(hash_password, body.password)
    if not await users.create(body.usuario, body.nombre, "user", password_hash):
        raise ApiError(409, ErrorCode.USER_EXISTS)
    return Account(usuario=body.usuario, nombre=body.nombre, rol="user")


@router.post("/login")
async def login(
    body: LoginBody, request: Request, response: Response, users: Users, settings: Settings
) -> Account:
    throttle: LoginThrottle = request.state.throttle
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
    codec: TokenCodec = request.state.codec
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
    return Account(**user.public())


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, response: Response, settings: Settings) -> None:
    token = token_from_request(request)
    if token:
        try:
            claims: Claims = await request.state.guard.verify(token)
        except InvalidTokenError:
            pass  # already unusable: nothing to revoke
        else:
            await request.state.guard.revoke(claims)
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure
    )


@router.get("/me")
async def me(claims: CurrentUser) -> Account:
    return Account(usuario=claims.user, nombre=claims.nombre, rol=claims.rol)
