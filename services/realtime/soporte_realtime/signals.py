"""Live signals that are never stored: `escribiendo {con?}` (someone is typing).

A signal is published on the Socket.IO channel with the one encoder (soporte_common.emits),
as the conversation scripts publish: every replica hands it to its sockets in the rooms
routing.py names through the manager's fast path. Not through `sio.emit`: python-socketio's
own path awaits a task per recipient before its listener reads the next message, so each
signal held up the messages behind it (bench (i), docs/performance.md). It touches neither
the stream nor Postgres. Clients send at most one every 2 s while typing; the server
relays at most one per socket per `min_interval` and drops the rest without a word (a
typing indicator that is a second late is still right; an error would only make clients
retry). Presence, the other signal of this kind, is presence_keeper.py's; `visto` comes
from history-api.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from soporte_common import keys
from soporte_common.contract import Event, RejectCode
from soporte_common.emits import encode_emit
from soporte_common.logging import get_logger
from soporte_common.messages import MessageRejectedError
from soporte_common.text import is_valid_username
from soporte_common.tokens import Claims
from soporte_realtime import metrics
from soporte_realtime.routing import route_typing
from soporte_realtime.sessions import Sessions

log = get_logger(__name__)


def parse_typing(data: object) -> str | None:
    """`escribiendo` payload → its `con` (None: a customer's, bare), or MessageRejectedError."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise MessageRejectedError(RejectCode.INVALID, text="escribiendo: se esperaba {con?}")
    con = data.get("con")
    if con is None:
        return None
    if not isinstance(con, str) or not is_valid_username(con):
        raise MessageRejectedError(RejectCode.CONVERSATION)
    return con


class TypingLimiter:
    """At most one signal per socket every `interval` seconds; forget a socket when it
    closes or sends a message."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}

    def allow(self, sid: str) -> bool:
        now = self.clock()
        last = self._last.get(sid)
        if last is not None and now - last < self.interval:
            return False
        self._last[sid] = now
        return True

    def forget(self, sid: str) -> None:
        self._last.pop(sid, None)


class TypingRelay:
    def __init__(self, redis: Redis, *, min_interval: float) -> None:
        self.redis = redis
        self.limiter = TypingLimiter(min_interval)

    async def relay(self, sid: str, claims: Claims, con: str | None) -> None:
        """Tell the other side and the other agents that `claims.user` is typing; a signal
        past the socket's allowance is dropped."""
        route = route_typing(claims, con)
        if route.must_be_customer is not None:  # an agent's: one lookup (agents are few)
            rol = await self.redis.hget(keys.USER_DIRECTORY, route.must_be_customer)
            if rol != b"user":
                raise MessageRejectedError(RejectCode.CONVERSATION)
        if not self.limiter.allow(sid):
            metrics.TYPING.labels("descartada").inc()
            return
        for rooms, de in route.emits:
            signal = {"de": de, "con": route.conversation}
            await self.redis.publish(
                keys.SOCKETIO_CHANNEL, encode_emit(Event.TYPING.value, rooms, signal, skip_sid=sid)
            )
        metrics.TYPING.labels("enviada").inc()

    def forget(self, sid: str) -> None:
        self.limiter.forget(sid)


class SignalEvents:
    """The handler, mixed into the Socket.IO namespace (soporte_realtime.handlers)."""

    sessions: Sessions
    typing: TypingRelay

    async def on_escribiendo(self, sid: str, data: object = None) -> dict[str, object]:
        """Anyone signed in: `{con?}` (a customer bare, an agent with the customer's
        username). Answers `{ok: true}` when relayed or dropped by the limit (clients need
        not ask for an answer), or the refusal."""
        claims = self.sessions.get(sid)
        try:
            if claims is None:  # the session ended while this event was in flight
                raise MessageRejectedError(RejectCode.NOT_ALLOWED)
            await self.typing.relay(sid, claims, parse_typing(data))
        except MessageRejectedError as exc:
            metrics.TYPING.labels("rechazada").inc()
            return exc.ack()
        except RedisError as exc:  # a lost typing signal is harmless: the next one comes
            log.warning("typing signal not relayed: Redis failed", error=str(exc))
            return MessageRejectedError(RejectCode.UNAVAILABLE).ack()
        return {"ok": True}
