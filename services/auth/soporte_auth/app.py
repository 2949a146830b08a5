"""The auth service's app factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from soporte_auth.deps import State
from soporte_auth.routes import router
from soporte_auth.settings import AuthSettings
from soporte_auth.throttle import LoginThrottle
from soporte_auth.users import UserStore
from soporte_common.database import create_pool
from soporte_common.redis_client import connect_redis
from soporte_common.tokens import SessionGuard
from soporte_common.web import create_api, postgres_ready, redis_ready


async def ensure_first_accounts(users: UserStore, settings: AuthSettings) -> None:
    """The first agent; locally, also a customer to try things with."""
    await users.ensure(
        settings.admin_user,
        settings.admin_nombre,
        "admin",
        settings.admin_password.get_secret_value(),
    )
    if settings.env == "local":
        await users.ensure(
            settings.demo_user,
            "Cliente de prueba",
            "user",
            settings.demo_password.get_secret_value(),
        )


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
        await ensure_first_accounts(users, settings)
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

    app = create_api(
        title="Soporte auth",
        prefix="/api/auth",
        lifespan=lifespan,
        readiness={"redis": redis_ready, "postgres": postgres_ready},
        interactive_docs=settings.env == "local",
    )
    app.include_router(router)
    return app
