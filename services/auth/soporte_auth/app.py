"""The auth service's app factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

import asyncpg
from fastapi import FastAPI
from redis.asyncio import Redis

from soporte_auth.passwords import hash_password
from soporte_auth.routes import router
from soporte_auth.settings import AuthSettings
from soporte_auth.throttle import LoginThrottle
from soporte_auth.users import UserStore
from soporte_common.database import create_pool
from soporte_common.logging import get_logger
from soporte_common.redis_client import connect_redis
from soporte_common.tokens import SessionGuard, TokenCodec
from soporte_common.web import install_common, postgres_ready, redis_ready

log = get_logger(__name__)


class State(TypedDict):
    settings: AuthSettings
    db: asyncpg.Pool
    redis: Redis
    users: UserStore
    codec: TokenCodec
    guard: SessionGuard
    throttle: LoginThrottle


async def ensure_account(
    users: UserStore, usuario: str, nombre: str, rol: str, password: str
) -> None:
    if await users.get(usuario) is None:
        password_hash = await asyncio.to_thread(hash_password, password)
        if await users.create(usuario, nombre, rol, password_hash):  # type: ignore[arg-type]
            log.info("account created", usuario=usuario, rol=rol)


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    settings = settings or AuthSettings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        db = await create_pool(
            settings.database_url.get_secret_value(), size=settings.database_pool_size
        )
        redis = connect_redis(settings.redis_url)
        users = UserStore(db, redis)
        codec = settings.token_codec()
        await ensure_account(
            users,
            settings.admin_user,
            settings.admin_nombre,
            "admin",
            settings.admin_password.get_secret_value(),
        )
        if settings.env == "local":
            await ensure_account(
                users,
                settings.demo_user,
                "Cliente de prueba",
                "user",
                settings.demo_password.get_secret_value(),
            )
        await users.sync_directory()
        keeper = asyncio.create_task(users.keep_directory_synced())
        try:
            yield State(
                settings=settings,
                db=db,
                redis=redis,
                users=users,
                codec=codec,
                guard=SessionGuard(codec, redis),
                throttle=LoginThrottle(
                    redis,
                    allowed=settings.login_failures_allowed,
                    lockout_seconds=settings.login_lockout_seconds,
                ),
            )
        finally:
            keeper.cancel()
            await redis.aclose()
            await db.close()

    app = FastAPI(
        title="Soporte auth",
        lifespan=lifespan,
        docs_url="/api/auth/docs",
        openapi_url="/api/auth/openapi.json",
        redoc_url=None,
    )
    install_common(app, readiness={"redis": redis_ready, "postgres": postgres_ready})
    app.include_router(router)
    return app
