"""A timeout on silence that costs no timer per event: the one a WebSocket session keeps on
its client (websocket_session.py) and the script pipe on Redis's replies (redis_pipe.py).

Restarting a timer at every frame or reply means a timer cancelled and another started
for every message (docs/performance.md, "Less per frame"). Here `start` only notes the
time; the one timer, when it fires, calls `on_quiet` if the clock has run `limit` seconds
since, or waits for what is left of it. Stopped, the timer lets go when it fires, and the
next `start` arms it again. Used as a context manager, it is cancelled on the way out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType


class QuietTimer:
    def __init__(self, limit: float, on_quiet: Callable[[], object]) -> None:
        self._limit = limit
        self._on_quiet = on_quiet
        self._since: float | None = None  # when the clock started; None: stopped
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the first `start`

    def start(self) -> None:
        """The clock starts (again) now."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        self._since = loop.time()
        if self._timer is None:
            self._timer = loop.call_at(self._since + self._limit, self._check)

    def stop(self) -> None:
        """No silence is counted until the next `start`."""
        self._since = None

    def cancel(self) -> None:
        """Stopped, its timer cancelled too (the next `start` arms a new one)."""
        self._since = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def __enter__(self) -> QuietTimer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cancel()

    def _check(self) -> None:
        self._timer = None
        if self._since is None:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self._since >= self._limit:
            self._since = None
            self._on_quiet()
        else:
            self._timer = loop.call_at(self._since + self._limit, self._check)
