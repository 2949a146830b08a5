"""Background work that must outlive an outage (Redis restarting, Postgres away): one retry
policy, built on tenacity, for every service.

A task that subscribes to a channel, or keeps a copy in sync, calls the step that can fail
(subscribing, syncing) through `retry_forever`: the step is tried again and again, after
0.1 s, 0.2 s, 0.4 s... at most 2 s apart, each retry logged, until it works. The caller
then does its long-running part (listening), and when that breaks, calls `retry_forever`
again: a fresh start, so a channel that held for an hour is retried quickly after it drops.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from soporte_common.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")

FIRST_WAIT_SECONDS = 0.1
MAX_WAIT_SECONDS = 2.0


async def retry_forever(
    what: str,
    step: Callable[[], Awaitable[T]],
    *,
    errors: tuple[type[Exception], ...] = (Exception,),
) -> T:
    """`step()`'s result, once it succeeds; it is retried on `errors` (by default on any
    error: a background task that died silently would stop its job for every client)."""

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "failed; retrying",
            what=what,
            attempt=state.attempt_number,
            error=f"{type(error).__name__}: {error}",
            retry_in=state.upcoming_sleep,
        )

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(errors),
        wait=wait_exponential(multiplier=FIRST_WAIT_SECONDS, max=MAX_WAIT_SECONDS),
        before_sleep=log_retry,
    )
    return await retrying.wraps(step)()
