"""Pipelining concurrent calls of one Lua script: a measured optimisation (under load it
took the accept path from refusing messages, pools exhausted, to keeping up; see
docs/performance.md)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

ScriptArg = str | bytes | int | float
# One queued call: its KEYS, its ARGV, and where its result goes.
_Call = tuple[list[str], list[ScriptArg], "asyncio.Future[Any]"]


class ScriptBatcher:
    """Runs concurrent calls of one Lua script as a single pipeline: one write and one read
    for every message that arrived in the same event-loop turn, instead of a round trip (and
    a pooled connection) each. Calls keep their order; each gets its own result or error."""

    def __init__(self, redis: Redis, script: str) -> None:
        self.redis = redis
        self.script = script
        self.sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis's script id
        self._queued: list[_Call] = []
        self._flushes: set[asyncio.Task[None]] = set()

    async def __call__(self, keys: list[str], args: list[ScriptArg]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self._queued:
            asyncio.get_running_loop().call_soon(self._flush_soon)
        self._queued.append((keys, args, future))
        return await future

    def _flush_soon(self) -> None:
        batch, self._queued = self._queued, []
        task = asyncio.create_task(self._flush(batch))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self, batch: list[_Call]) -> None:
        try:
            results = await self._run(batch)
            missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
            if missing:  # Redis restarted empty; a call refused with NOSCRIPT did nothing
                await self.redis.script_load(self.script)
                retried = await self._run([batch[i] for i in missing])
                for i, result in zip(missing, retried, strict=True):
                    results[i] = result
        except Exception as exc:  # every caller gets the error
            results = [exc] * len(batch)
            if isinstance(exc, RedisConnectionError):
                # Redis went away (a restart): drop every idle pooled connection now, or each
                # would fail one later send on its dead socket before being replaced.
                await self.redis.connection_pool.disconnect(inuse_connections=False)
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _run(self, batch: list[_Call]) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for keys, args, _ in batch:
                pipe.evalsha(self.sha, len(keys), *keys, *args)
            results: list[Any] = await pipe.execute(raise_on_error=False)
            return results
