"""A TCP proxy in front of a real server that a test can stall: it keeps accepting and
keeps every connection open, but forwards nothing while stalled (a Redis or Postgres that
hangs, as a SIGSTOPped one does, rather than one that refuses)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit


class StallableProxy:
    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self._parts = parts
        self.target = (parts.hostname or "127.0.0.1", parts.port or 0)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The target's URL, pointed at the proxy."""
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        netloc = self._parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{port}"
        return urlunsplit(
            self._parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host)
        )

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task

    def stall(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                await self.flowing.wait()
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()


@contextlib.asynccontextmanager
async def stallable(target_url: str) -> AsyncIterator[StallableProxy]:
    proxy = StallableProxy(target_url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
