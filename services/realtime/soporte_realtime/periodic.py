"""A replica's periodic work (heartbeats, sweeps, the conversations' upkeep): each job runs
forever at its interval; an error (Redis away) is logged and the next round retries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from soporte_common.logging import get_logger

log = get_logger(__name__)

Job = Callable[[], Awaitable[None]]


class PeriodicJobs:
    def __init__(self, what: str) -> None:
        self.what = what  # names the jobs' owner in the logs
        self._tasks: list[asyncio.Task[None]] = []

    def every(self, seconds: float, job: Job, *, at_once: bool = False) -> None:
        """`at_once`: the first round runs now, not after `seconds`."""
        task = asyncio.create_task(self._forever(seconds, job, at_once), name=job.__name__)
        self._tasks.append(task)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _forever(self, seconds: float, job: Job, at_once: bool) -> None:
        if not at_once:
            await asyncio.sleep(seconds)
        while True:
            try:
                await job()
            except Exception as exc:
                log.warning(
                    f"{self.what} upkeep failed; retrying", job=job.__name__, error=str(exc)
                )
            await asyncio.sleep(seconds)
