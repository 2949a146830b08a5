"""One Redis connection per replica that pipelines every script call (an accept for every
message, the agents' workflow changes): a measured optimisation (docs/performance.md).

Calls made in one event-loop turn go out in one write; replies come back in order and
resolve each call's future as they are parsed (hiredis), with no connection checkout,
task or timer per call (one watchdog for the connection, quiet_timer.py, which a reply
does not re-arm). The connection opens on first use and again after it is lost; its
first commands are the credentials, the database and SCRIPT LOAD of every script, so a
restarted (empty) Redis knows the scripts before the first call on the new connection.

Failures, as the callers of redis-py see them (RedisError): a lost connection fails the
calls sent on it with ConnectionError, a Redis that answers nothing for `socket_timeout`
seconds fails them with TimeoutError (either way a call may have been applied). Calls not
yet sent go out on the next connection. A script Redis no longer knows (SCRIPT FLUSH) is
sent once more whole, with EVAL.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import hiredis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from soporte_common.logging import get_logger
from soporte_common.redis_client import pack
from soporte_realtime.quiet_timer import QuietTimer

log = get_logger(__name__)

ScriptArg = str | bytes | int | float
_NOSCRIPT = "NOSCRIPT"


@dataclass
class _Call:
    """A command sent or to send. `future` is None for the connection's own set-up, whose
    error ends the connection."""

    command: tuple[ScriptArg, ...]
    future: asyncio.Future[Any] | None
    script: str | None = None  # the body, for an EVALSHA that may meet NOSCRIPT
    packed: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.packed = pack(self.command)


_PIPES: weakref.WeakKeyDictionary[Redis, RedisPipe] = weakref.WeakKeyDictionary()


def pipe_for(redis: Redis) -> RedisPipe:
    """The pipe of a Redis client (same address, credentials and timeouts): one for all the
    scripts of a replica."""
    pipe = _PIPES.get(redis)
    if pipe is None:
        pipe = _PIPES[redis] = RedisPipe(redis)
    return pipe


@dataclass(frozen=True)
class RedisAddress:
    """Where a Redis is and what a new connection to it sends first (credentials, database),
    from redis-py's connection options (a pool's, or `parse_url`'s)."""

    host: str
    port: int
    setup: tuple[tuple[ScriptArg, ...], ...]

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RedisAddress:
        setup: list[tuple[ScriptArg, ...]] = []
        if options.get("password"):
            user = options.get("username")
            setup.append(("AUTH", *([user] if user else []), options["password"]))
        if options.get("db"):
            setup.append(("SELECT", options["db"]))
        return cls(options.get("host", "localhost"), int(options.get("port", 6379)), tuple(setup))

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class RedisPipe(asyncio.Protocol):
    def __init__(self, redis: Redis) -> None:
        options = redis.connection_pool.connection_kwargs
        self._redis = redis
        self._address = RedisAddress.from_options(options)
        self._timeout: float = options.get("socket_timeout") or 5.0
        self._connect_timeout: float = options.get("socket_connect_timeout") or 2.0
        self._scripts: dict[str, str] = {}  # sha1 → body
        self._transport: asyncio.Transport | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._unsent: list[_Call] = []
        self._sent: deque[_Call] = deque()
        self._flush_scheduled = False
        # The connection's silence while calls await replies: from the send that found
        # none awaited, again from each reply.
        self._watchdog = QuietTimer(self._timeout, self._stalled)
        self._failure: RedisError | None = None  # why the connection is being closed

    def register(self, script: str) -> str:
        """The script's sha1, with which `evalsha` runs it."""
        sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis's script id
        self._scripts[sha] = script
        return sha

    async def evalsha(self, sha: str, keys: list[str], args: list[ScriptArg]) -> Any:
        """The script's reply; ResponseError if the script failed, another RedisError if
        Redis cannot be reached or does not answer in time."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        command = ("EVALSHA", sha, len(keys), *keys, *args)
        self._unsent.append(_Call(command, future, script=self._scripts[sha]))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        return await future

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        if self._transport is not None:
            self._transport.close()

    # -- sending ---------------------------------------------------------------------------

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._unsent:
            return
        if self._transport is None:
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.create_task(self._connect())
            return
        calls, self._unsent = self._unsent, []
        self._send(calls)

    def _send(self, calls: list[_Call]) -> None:
        if not calls:
            return
        if self._transport is None:  # lost meanwhile: they go out on the next connection
            self._unsent[:0] = calls
            return
        self._transport.write(b"".join(call.packed for call in calls))
        if not self._sent:
            self._watchdog.start()
        self._sent.extend(calls)

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        address = self._address
        try:
            async with asyncio.timeout(self._connect_timeout):
                await loop.create_connection(lambda: self, address.host, address.port)
        except (OSError, TimeoutError) as exc:
            error = RedisConnectionError(f"cannot reach Redis at {address}: {exc}")
            calls, self._unsent = self._unsent, []
            _fail(calls, error)
            return
        self._flush_scheduled = True
        loop.call_soon(self._flush)

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a TCP connection's
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._failure = None
        loads = (("SCRIPT", "LOAD", body) for body in self._scripts.values())
        setup = [*self._address.setup, *loads]
        self._send([_Call(command, None) for command in setup])

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            if not self._sent:  # nothing asked for it: the stream is out of step
                self._close(RedisConnectionError("a Redis reply nobody asked for"))
                return
            self._answer(self._sent.popleft(), reply)
        if self._sent:  # a reply came: the clock starts again
            self._watchdog.start()
        else:
            self._watchdog.stop()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._watchdog.cancel()
        error = self._failure or RedisConnectionError(f"Redis connection lost: {exc}")
        sent, self._sent = list(self._sent), deque()
        _fail(sent, error)
        log.warning("redis pipe connection lost", error=str(error), calls_failed=len(sent))
        # The pool's idle connections are as dead as this one (Redis restarted): drop them
        # now, or each would fail one later command before being replaced.
        self._background(self._redis.connection_pool.disconnect(inuse_connections=False))
        if self._unsent and not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    # -- replies ---------------------------------------------------------------------------

    def _answer(self, call: _Call, reply: Any) -> None:
        if call.future is None:
            if isinstance(reply, ResponseError):
                self._close(RedisConnectionError(f"Redis refused {call.command[0]!r}: {reply}"))
            return
        if isinstance(reply, ResponseError) and str(reply).startswith(_NOSCRIPT) and call.script:
            # Flushed since this connection loaded it: once more with the whole script, which
            # loads it again for the calls after it.
            _, _, *rest = call.command
            self._send([_Call(("EVAL", call.script, *rest), call.future)])
            return
        if call.future.done():  # a caller that gave up (cancelled) gets nothing
            return
        if isinstance(reply, ResponseError):
            call.future.set_exception(reply)
        else:
            call.future.set_result(reply)

    def _stalled(self) -> None:
        self._close(RedisTimeoutError(f"Redis did not answer within {self._timeout} s"))

    def _close(self, error: RedisError) -> None:
        self._failure = error
        if self._transport is not None:
            self._transport.abort()

    def _background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        _TASKS.add(task)
        task.add_done_callback(_TASKS.discard)


_TASKS: set[asyncio.Future[Any]] = set()


def _fail(calls: list[_Call], error: RedisError) -> None:
    for call in calls:
        if call.future is not None and not call.future.done():
            call.future.set_exception(error)


__all__ = ["RedisAddress", "RedisPipe", "ScriptArg", "pipe_for"]
