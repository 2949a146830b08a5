"""The history-api's app factory: the endpoints, and in the background the stream consumers
(the conversation log, the audit trail), the keeper of the conversations' state in Redis
(soporte_history.state_seed), the backlog gauges and retention (when it is on)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request

from soporte_common import database
from soporte_common.redis_client import connect_redis
from soporte_common.tokens import SessionGuard
from soporte_common.web import create_api, postgres_ready, redis_ready
from soporte_history import metrics
from soporte_history.audit_log import AUDIT_TRAIL
from soporte_history.consumer import Sink, StreamConsumer
from soporte_history.deps import State, app_state
from soporte_history.erasure import Eraser
from soporte_history.privacy_routes import router as privacy_router
from soporte_history.projections import MESSAGE_LOG
from soporte_history.retention import Retention
from soporte_history.routes import internal, router
from soporte_history.settings import HistorySettings
from soporte_history.state_seed import keep_states_seeded
from soporte_history.workflow_routes import router as workflow_router


async def consumer_alive(request: Request) -> None:
    stopped = [task.get_name() for task in app_state(request)["tasks"] if task.done()]
    if stopped:
        raise RuntimeError(f"background work stopped: {', '.join(stopped)}")


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
        guard = SessionGuard(settings.token_codec(), redis)

        def consume(sink: Sink[Any], task_name: str) -> asyncio.Task[None]:
            consumer = StreamConsumer(
                redis,
                db,
                sink=sink,
                name=settings.consumer(port),
                batch=settings.consumer_batch,
                claim_idle_ms=settings.claim_idle_ms,
                linger_ms=settings.consumer_linger_ms,
            )
            return asyncio.create_task(consumer.run(), name=task_name)

        tasks = [
            consume(MESSAGE_LOG, "stream-consumer"),
            consume(AUDIT_TRAIL, "audit-consumer"),
            asyncio.create_task(keep_states_seeded(db, redis), name="state-seeder"),
            asyncio.create_task(
                metrics.refresh_backlog_gauges_forever(redis), name="stream-gauges"
            ),
        ]
        if settings.retention_days > 0:
            retention = Retention(
                db,
                redis,
                days=settings.retention_days,
                every_seconds=settings.retention_sweep_seconds,
            )
            tasks.append(asyncio.create_task(retention.keep(), name="retention"))
        # An erasure waits for what was appended before it to be stored; a dead consumer's
        # entries are claimed after `claim_idle_ms`.
        settle = settings.settle_timeout_seconds + settings.claim_idle_ms / 1000
        try:
            yield State(
                settings=settings,
                db=db,
                redis=redis,
                guard=guard,
                eraser=Eraser(db, redis, guard, settle_seconds=settle),
                tasks=tasks,
            )
        finally:
            for task in reversed(tasks):
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
    app.include_router(privacy_router)
    app.include_router(internal)
    return app
