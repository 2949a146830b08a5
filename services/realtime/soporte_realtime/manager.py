"""python-socketio's AsyncRedisManager, with two changes.

- It notices when it lost its subscription. Redis pub/sub is at-most-once: while a replica
  is not subscribed (Redis restarting), emits published meanwhile never reach it. The stock
  manager resubscribes silently; this one calls `on_resubscribed` so the replica can tell
  its clients to catch up from the history API, retries with a short capped backoff
  (soporte_common.retrying), and exposes whether it is subscribed (readiness).
- It delivers what the conversation scripts published to its local sockets without waiting for
  them. The stock manager starts a task per recipient and awaits them all before reading
  the next pub/sub message, so the single listener handled at most one message per
  event-loop turn: under load the channel backed up and latency grew while CPU sat idle.
  Handing each socket its packet (an in-memory queue put; each socket's writer sends it)
  keeps the listener moving, and every socket still gets the messages in channel order.
  A socket whose queue has grown past the unsent-output limit gets nothing more: it is
  closed instead (server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as socketio_packet

from soporte_common.contract import Event
from soporte_common.emits import published_through_the_channel
from soporte_common.logging import get_logger
from soporte_common.retrying import retry_forever
from soporte_realtime import metrics
from soporte_realtime.server import NOT_READING

log = get_logger(__name__)

# Emits that are not entries of a conversation's log: left out of the delivered count, which
# operators compare with the accepted one (docs/operations.md, "a replica deaf to pub/sub").
_SIGNALS = frozenset({Event.TYPING.value, Event.SEEN.value})


class ReplicaManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    def __init__(
        self, url: str, *, channel: str, on_resubscribed: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": 2})
        self._on_resubscribed = on_resubscribed
        self.subscribed = asyncio.Event()

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if not published_through_the_channel(message):
            await super()._handle_emit(message)
            return
        namespace = message.get("namespace") or "/"
        if message["event"] not in _SIGNALS:
            metrics.DELIVERED.inc()
        skip = message.get("skip_sid")
        recipients = [
            eio_sid
            for sid, eio_sid in self.get_participants(namespace, message["room"])
            if sid != skip
        ]
        if not recipients:  # none of its rooms has a socket here: nothing to encode
            return
        pkt = self.server.packet_class(
            socketio_packet.EVENT, namespace=namespace, data=[message["event"], *message["data"]]
        )
        encoded = pkt.encode()  # once for every recipient
        frames = [
            eio_packet.Packet(eio_packet.MESSAGE, p)
            for p in (encoded if isinstance(encoded, list) else [encoded])
        ]
        engine = self.server.eio
        for eio_sid in recipients:
            if engine.overflowing(eio_sid):  # a client that does not read: it reconnects
                engine.cut_off(eio_sid, NOT_READING)
                continue
            for frame in frames:
                engine.enqueue(eio_sid, frame)

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        resubscribed = False
        while True:
            await retry_forever("subscribing to the socketio channel", self._subscribe)
            log.info("subscribed to the socketio channel", resubscribe=resubscribed)
            try:
                if resubscribed:
                    await self._on_resubscribed()
                resubscribed = True
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:  # Redis went away: subscribe again
                self.subscribed.clear()
                log.warning("lost the socketio channel; resubscribing", error=str(exc))

    async def _subscribe(self) -> None:
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.aclose()
        self._redis_connect()
        await self.pubsub.subscribe(self.channel)
        self.subscribed.set()
