"""python-socketio's AsyncRedisManager, with three changes.

- It reads the channels through its own subscriber (subscriber.py): each message is handled
  as the bytes are parsed, without redis-py's PubSub machinery. Two channels: the one
  every replica reads (python-socketio's own messages, the workflow's and other services'
  emits) and this replica's own, which carries the messages and notes for the rooms its
  sockets are in (room_registry.py).
- It notices when it lost its subscription. Redis pub/sub is at-most-once: while a replica
  is not subscribed (Redis restarting), emits published meanwhile never reach it. The stock
  manager resubscribes silently; this one calls `on_resubscribed` so the replica can tell
  its clients to catch up from the history API, retries with a short capped backoff
  (soporte_common.retrying), and exposes whether it is subscribed (readiness).
- It delivers the emits published on the channel (soporte_common.emits: the conversation
  scripts', the other services') to its local sockets at once, as the message is read:
  each socket in the emit's rooms is handed the packet the publisher encoded (written to
  its connection at once when nothing is queued before it, else put in its queue for its
  writer), so the listener never waits for a socket, and every socket gets the messages in
  channel order. A socket whose unsent output has grown past its limit gets nothing more:
  it is closed instead (server.py). Python-socketio's own messages (an emit from
  `sio.emit`, a room change, a callback) are handled by a task, in channel order with the
  rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from soporte_common import keys
from soporte_common.contract import Event
from soporte_common.emits import ChannelEmit, decode_emit
from soporte_common.logging import get_logger
from soporte_common.retrying import retry_forever
from soporte_realtime import metrics
from soporte_realtime.server import NOT_READING, FramedPacket
from soporte_realtime.subscriber import ChannelSubscriber

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
        # python-socketio's id of this process names the replica's own channel too.
        own_channel = keys.replica_channel(self.host_id)
        self._subscriber = ChannelSubscriber(url, [channel, own_channel], self._received)
        self.subscribed = asyncio.Event()
        # Messages waiting for the task that handles python-socketio's own ones; while any
        # waits, the channel's emits wait behind it, so that channel order holds.
        self._waiting: deque[dict[str, Any] | ChannelEmit] = deque()
        self._wake = asyncio.Event()

    async def _thread(self) -> None:
        """The listener (python-socketio starts it): subscribe, and again whenever the
        subscription is lost, telling the clients to catch up."""
        waiting = asyncio.create_task(self._handle_waiting())
        resubscribed = False
        try:
            while True:
                lost = await retry_forever(
                    "subscribing to the socketio channels", self._subscriber.subscribe
                )
                self.subscribed.set()
                metrics.SUBSCRIBED.set(1)
                log.info("subscribed to the socketio channels", resubscribe=resubscribed)
                if resubscribed:
                    try:
                        await self._on_resubscribed()
                    except Exception:  # the clients then catch up at their next reconnect
                        log.exception("could not ask the clients to catch up")
                resubscribed = True
                error = await lost
                self.subscribed.clear()
                metrics.SUBSCRIBED.set(0)
                log.warning("lost the socketio channel; resubscribing", error=str(error))
        finally:
            self._subscriber.close()
            waiting.cancel()

    async def stop(self) -> None:
        """Unsubscribe: the listener ends."""
        listener = getattr(self, "thread", None)  # python-socketio's name for it
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    def _received(self, data: bytes) -> None:
        """A channel message, as the subscriber reads it."""
        message: dict[str, Any] | ChannelEmit | None
        try:
            message = decode_emit(data)
            if message is None:  # python-socketio's own
                message = self.json.loads(data)
        except ValueError:  # decode_emit's and the JSON decoder's (UnicodeDecodeError too)
            log.warning("an undecodable channel message; dropped", size=len(data))
            return
        if isinstance(message, ChannelEmit):
            if not self._waiting:
                self._deliver(message)
                return
        elif not isinstance(message, dict) or "method" not in message:
            return
        self._waiting.append(message)
        self._wake.set()

    async def _handle_waiting(self) -> None:
        while True:
            await self._wake.wait()
            while self._waiting:
                message = self._waiting[0]  # left in place: later ones queue behind it
                try:
                    if isinstance(message, ChannelEmit):
                        self._deliver(message)
                    else:
                        await self._dispatch(message)
                except Exception:
                    log.exception("could not handle a channel message")
                self._waiting.popleft()
            self._wake.clear()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        """What python-socketio's listener does with a message."""
        method = message["method"]
        if method == "callback":
            await self._handle_callback(message)
        elif message.get("host_id") != self.host_id:
            handlers = {
                "emit": self._handle_emit,
                "disconnect": self._handle_disconnect,
                "enter_room": self._handle_enter_room,
                "leave_room": self._handle_leave_room,
                "close_room": self._handle_close_room,
            }
            if method in handlers:
                await handlers[method](message)

    def _deliver(self, emit: ChannelEmit) -> None:
        """An emit from the channel to this replica's sockets in its rooms."""
        if emit.event not in _SIGNALS:
            metrics.DELIVERED.inc()
        skip = emit.skip_sid
        recipients = [
            eio_sid for sid, eio_sid in self.get_participants("/", emit.rooms) if sid != skip
        ]
        if not recipients:
            return
        frame = FramedPacket(emit.packet)  # encoded and framed once for every recipient
        engine = self.server.eio
        for eio_sid in recipients:
            if engine.overflowing(eio_sid):  # a client that does not read: it reconnects
                engine.cut_off(eio_sid, NOT_READING)
                continue
            engine.enqueue(eio_sid, frame)
