"""The history-api's app factory: the endpoints, and in the background the stream consumer
and the keeper of the conversations' state in Redis (soporte_history.state_seed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request

from soporte_common import database
from soporte_common.redis_client import connect_redis
from soporte_common.tokens import SessionGuard
from soporte_common.web import create_api, postgres_ready, redis_ready
from soporte_history.consumer import StreamConsumer
from soporte_history.deps import State, app_state
from soporte_history.routes import internal, router
from soporte_history.seen import router as seen_router
from soporte_history.settings import HistorySettings
from soporte_history.state_seed import keep_states_seeded
from soporte_history.workflow_routes import router as workflow_router


async def consumer_alive(request: Request) -> None:
    if app_state(request)["consumer_task"].done():
        raise RuntimeError("the stream consumer stopped")


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel the consumer and wait until it has stopped. On Python 3.11, asyncio.wait_for
    (which redis-py sends commands with) loses a cancellation that lands just as the send
    completes, and the consumer would loop on forever: cancel again until it is done."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=0.1)
    with suppress(asyncio.CancelledError):
        await task


def create_app(settings: HistorySettings | None = None, *, port: int = 8083) -> FastAPI:
    settings = settings or HistorySettings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        db = await database.create_pool(
            settings.database_url.get_secret_value(), size=settings.database_pool_size
        )
        redis = connect_redis(settings.redis_url)
        codec = settings.token_codec()
        consumer = StreamConsumer(
            redis,
            db,
            name=settings.consumer(port),
            batch=settings.consumer_batch,
            claim_idle_ms=settings.claim_idle_ms,
            linger_ms=settings.consumer_linger_ms,
        )
        task = asyncio.create_task(consumer.run(), name="stream-consumer")
        seeder = asyncio.create_task(keep_states_seeded(db, redis), name="state-seeder")
        try:
            yield State(
                settings=settings,
                db=db,
                redis=redis,
                guard=SessionGuard(codec, redis),
                consumer_task=task,
            )
        finally:
            await stop(seeder)
            await stop(task)
            await redis.aclose()
            await db.close()

    app = create_api(
        title="Soporte history-api",
        prefix="/api",
        lifespan=lifespan,
        readiness={"redis": redis_ready, "postgres": postgres_ready, "consumer": consumer_alive},
        interactive_docs=settings.env == "local",
        max_body_bytes=settings.max_body_bytes,
        unavailable=database.UNAVAILABLE_ERRORS,
        bad_input=database.BAD_INPUT_ERRORS,
    )
    app.include_router(router)
    app.include_router(workflow_router)
    app.include_router(seen_router)
    app.include_router(internal)
    return app
