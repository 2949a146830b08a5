"""The replica's subscription to the Socket.IO channels (the one every replica reads, and its
own: room_registry.py), read straight from its connection, one connection for both so
that their messages arrive in the order they were published. Every message they carry
is parsed by hiredis as the bytes arrive and handed to `on_message` at once, without
redis-py's PubSub (its retry wrapper, timeouts, response callbacks and dict per message
cost a loaded replica several percent of a core; docs/performance.md).

`subscribe()` connects, subscribes and returns a future that completes, with the reason,
when the subscription is lost; the manager (manager.py) subscribes again and tells the
clients to catch up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

import hiredis
from redis.asyncio.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from soporte_common.logging import get_logger
from soporte_common.redis_client import pack
from soporte_realtime.redis_pipe import RedisAddress

log = get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 2.0
SUBSCRIBE_TIMEOUT_SECONDS = 5.0


class ChannelSubscriber(asyncio.Protocol):
    def __init__(self, url: str, channels: list[str], on_message: Callable[[bytes], None]) -> None:
        self._address = RedisAddress.from_options(parse_url(url))
        self._channels = channels
        self._on_message = on_message
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._transport: asyncio.Transport | None = None
        self._setup_replies = 0  # replies still due to the connection's first commands
        self._unconfirmed = 0  # channels whose subscription Redis has not confirmed yet
        self._subscribed: asyncio.Future[None] | None = None
        self._lost: asyncio.Future[Exception] | None = None
        self._failure: Exception | None = None

    async def subscribe(self) -> asyncio.Future[Exception]:
        """Connected and subscribed; the returned future completes when that ends. Raises
        RedisConnectionError (or TimeoutError) if Redis cannot be reached."""
        loop = asyncio.get_running_loop()
        self._subscribed = loop.create_future()
        self._lost = lost = loop.create_future()
        address = self._address
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
                await loop.create_connection(lambda: self, address.host, address.port)
        except OSError as exc:
            raise RedisConnectionError(f"cannot reach Redis at {address}: {exc}") from exc
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT_SECONDS):
                await self._subscribed
        except BaseException:
            self.close()
            raise
        return lost

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a TCP connection's
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._failure = None
        commands = [*self._address.setup, ("SUBSCRIBE", *self._channels)]
        self._setup_replies = len(self._address.setup)
        self._unconfirmed = len(self._channels)
        self._transport.write(b"".join(pack(command) for command in commands))

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            if isinstance(reply, ResponseError):
                self._fail(RedisConnectionError(f"Redis refused the subscription: {reply}"))
                return
            if self._setup_replies:
                self._setup_replies -= 1
            elif reply[0] == b"message":
                self._deliver(reply[2])
            elif reply[0] == b"subscribe":
                self._unconfirmed -= 1
                if not self._unconfirmed and self._subscribed and not self._subscribed.done():
                    self._subscribed.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        error = self._failure or RedisConnectionError(f"channel connection lost: {exc}")
        if self._subscribed is not None and not self._subscribed.done():
            self._subscribed.set_exception(error)
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(error)

    def _deliver(self, data: bytes) -> None:
        try:
            self._on_message(data)
        except Exception:  # one bad message must not end the subscription
            log.exception("could not handle a channel message")

    def _fail(self, error: Exception) -> None:
        self._failure = error
        self.close()
