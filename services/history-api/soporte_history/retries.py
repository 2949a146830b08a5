"""How history-api tries again, every policy in one place (tenacity): Redis or Postgres
briefly gone, and waiting for a condition with a deadline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from redis.exceptions import RedisError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry,
    retry_if_exception_type,
    retry_if_result,
    stop_after_delay,
    wait_exponential,
)

from soporte_common.logging import get_logger

log = get_logger(__name__)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "retrying after an error",
        call=getattr(state.fn, "__name__", "?"),
        attempt=state.attempt_number,
        error=str(error),
    )


# Redis briefly gone (restart, failover): wait and try again, for as long as it takes.
redis_retry = retry(
    retry=retry_if_exception_type((RedisError, OSError)),
    wait=wait_exponential(multiplier=0.05, max=2),
    before_sleep=_log_retry,
)
# Postgres down or restarting: keep the batch (nothing is acked), try again.
postgres_retry = retry(
    retry=retry_if_exception_type(
        (
            asyncpg.PostgresConnectionError,
            asyncpg.OperatorInterventionError,
            asyncpg.InterfaceError,
            OSError,
            TimeoutError,
        )
    ),
    wait=wait_exponential(multiplier=0.1, max=2),
    before_sleep=_log_retry,
)


def _not_yet(answer: bool) -> bool:
    return not answer


def _gave_up(_: RetryCallState) -> bool:
    return False


async def poll_until(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float,  # noqa: ASYNC109 - a deadline for the answer, not a cancellation
    first_delay: float,
    max_delay: float,
) -> bool:
    """Ask `check` until it answers True, waiting `first_delay`, then twice as long each
    time up to `max_delay`; False once `timeout` seconds have passed without a True."""
    polling = AsyncRetrying(
        retry=retry_if_result(_not_yet),
        wait=wait_exponential(multiplier=first_delay, max=max_delay),
        stop=stop_after_delay(timeout),
        retry_error_callback=_gave_up,
    )
    answer: bool = await polling(check)
    return answer
