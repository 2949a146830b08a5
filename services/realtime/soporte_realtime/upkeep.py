"""A replica's periodic work (heartbeats, sweeps): each job runs forever at its interval; an
error (Redis away) is logged and the next round retries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from soporte_common.logging import get_logger

log = get_logger(__name__)

Job = Callable[[], Awaitable[None]]


class Upkeep:
    def __init__(self, what: str) -> None:
        self.what = what  # names the jobs' owner in the logs
        self._tasks: list[asyncio.Task[None]] = []

    def every(self, seconds: float, job: Job) -> None:
        self._tasks.append(asyncio.create_task(self._forever(seconds, job), name=job.__name__))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _forever(self, seconds: float, job: Job) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception as exc:
                log.warning(
                    f"{self.what} upkeep failed; retrying", job=job.__name__, error=str(exc)
                )
