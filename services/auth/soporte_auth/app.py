"""The auth service's app factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from soporte_auth.deps import State
from soporte_auth.limits import AddressRate
from soporte_auth.names import TeamNames
from soporte_auth.passwords import AddressBusyError, Hashing
from soporte_auth.routes import router
from soporte_auth.settings import AuthSettings
from soporte_auth.sites import SiteStore
from soporte_auth.throttle import LoginThrottle
from soporte_auth.users import UserStore
from soporte_auth.visitor_routes import router as visitor_router
from soporte_auth.visitors import VisitorStore
from soporte_common import database
from soporte_common.contract import ErrorCode
from soporte_common.errors import error_body
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
    timeout = settings.dependency_timeout_seconds

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        db = await database.create_pool(
            settings.database_url.get_secret_value(),
            size=settings.database_pool_size,
            command_timeout=timeout,
            connect_timeout=timeout,
        )
        # A connection Redis dropped (a restart) is replaced and the command retried once; a
        # command that timed out is not: a stalled Redis costs an answer seconds, not minutes.
        redis = connect_redis(
            settings.redis_url, socket_timeout=timeout, retries=1, retry_timeouts=False
        )
        users = UserStore(db, redis)
        codec = settings.token_codec()
        hashing = Hashing(threads=settings.hash_threads, per_address=settings.hashes_per_address)
        sites = SiteStore(db, redis, settings.secret_box())
        await ensure_first_accounts(users, settings)
        await users.sync_directory()
        await sites.reseal()
        await sites.sync_copy()
        keepers = [
            asyncio.create_task(users.keep_directory_synced()),
            asyncio.create_task(sites.keep_copy_synced()),
        ]
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
                    allowed_per_user=settings.login_failures_allowed_per_user,
                    lockout_seconds=settings.login_lockout_seconds,
                ),
                rate=AddressRate(redis, per_minute=settings.auth_rate_per_minute),
                hashing=hashing,
                names=TeamNames([settings.admin_nombre]),
                sites=sites,
                visitors=VisitorStore(db, users),
            )
        finally:
            for keeper in keepers:
                keeper.cancel()
            hashing.close()
            await redis.aclose()
            await db.close()

    app = create_api(
        title="Soporte auth",
        prefix="/api/auth",
        lifespan=lifespan,
        readiness={"redis": redis_ready, "postgres": postgres_ready},
        interactive_docs=settings.env == "local",
        max_body_bytes=settings.max_body_bytes,
        deadline_seconds=settings.request_deadline_seconds,
        unavailable=database.UNAVAILABLE_ERRORS,
        bad_input=database.BAD_INPUT_ERRORS,
    )

    @app.exception_handler(AddressBusyError)
    async def _address_busy(_: Request, __: AddressBusyError) -> JSONResponse:
        """This address's password checks fill its share: it slows down, others do not."""
        body = error_body(429, None, ErrorCode.TOO_MANY_REQUESTS)
        return JSONResponse(body, status_code=429, headers={"Retry-After": "1"})

    app.include_router(router)
    app.include_router(visitor_router)
    return app
