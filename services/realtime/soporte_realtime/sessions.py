"""The sessions open on this replica, and ending them: at token expiry, and when a
revocation is announced (once, on a Redis channel, for every replica): a logout ends one
session, an erasure every session of its user."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from soporte_common import keys
from soporte_common.contract import SessionEndReason
from soporte_common.logging import get_logger
from soporte_common.retrying import retry_forever
from soporte_common.tokens import Claims, revoked_user

log = get_logger(__name__)

EndSession = Callable[[str, str], Coroutine[Any, Any, None]]  # (sid, reason)


@dataclass
class Session:
    claims: Claims
    expiry: asyncio.TimerHandle


class Sessions:
    def __init__(self, end_session: EndSession) -> None:
        self._end_session = end_session
        self._by_sid: dict[str, Session] = {}
        self._sids_by_jti: defaultdict[str, set[str]] = defaultdict(set)
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._by_sid)

    def get(self, sid: str) -> Claims | None:
        session = self._by_sid.get(sid)
        return session.claims if session else None

    def items(self) -> list[tuple[str, Claims]]:
        return [(sid, session.claims) for sid, session in self._by_sid.items()]

    def add(self, sid: str, claims: Claims) -> None:
        delay = max(0.0, claims.exp - time.time())
        handle = asyncio.get_running_loop().call_later(
            delay, self._end, sid, SessionEndReason.EXPIRED
        )
        self._by_sid[sid] = Session(claims, handle)
        self._sids_by_jti[claims.jti].add(sid)

    def remove(self, sid: str) -> None:
        session = self._by_sid.pop(sid, None)
        if session is None:
            return
        session.expiry.cancel()
        sids = self._sids_by_jti[session.claims.jti]
        sids.discard(sid)
        if not sids:
            del self._sids_by_jti[session.claims.jti]

    def revoke(self, jti: str) -> None:
        for sid in list(self._sids_by_jti.get(jti, ())):
            self._end(sid, SessionEndReason.CLOSED)

    def revoke_user(self, usuario: str) -> None:
        for sid, claims in self.items():
            if claims.user == usuario:
                self._end(sid, SessionEndReason.CLOSED)

    def revoke_announced(self, announcement: str) -> None:
        """One session (a jti), or every session of a user."""
        usuario = revoked_user(announcement)
        if usuario is None:
            self.revoke(announcement)
        else:
            self.revoke_user(usuario)

    def _end(self, sid: str, reason: str) -> None:
        task = asyncio.create_task(self._end_session(sid, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drop_revoked(self, redis: Redis) -> None:
        """After missing announcements (no subscription), check every local session: its
        own revocation, and whether its user still exists with that role (an erasure)."""
        jtis = list(self._sids_by_jti)
        if not jtis:
            return
        sessions = self.items()
        async with redis.pipeline(transaction=False) as pipe:
            for jti in jtis:
                pipe.exists(keys.revoked_session(jti))
            for _, claims in sessions:
                pipe.hget(keys.USER_DIRECTORY, claims.user)
            answers = await pipe.execute()
        for jti, is_revoked in zip(jtis, answers[: len(jtis)], strict=True):
            if is_revoked:
                self.revoke(jti)
        for (sid, claims), rol in zip(sessions, answers[len(jtis) :], strict=True):
            if rol is None or rol.decode() != claims.rol:
                self._end(sid, SessionEndReason.CLOSED)

    async def follow_revocations(self, redis: Redis) -> None:
        """Background task: end local sessions as they are revoked, on every replica."""
        while True:
            pubsub = await retry_forever(
                "subscribing to the revocations channel", functools.partial(self._subscribe, redis)
            )
            try:
                async for message in pubsub.listen():
                    self.revoke_announced(message["data"].decode())
            except Exception as exc:  # Redis went away: subscribe again
                log.warning("lost the revocations channel; resubscribing", error=str(exc))
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _subscribe(self, redis: Redis) -> PubSub:
        """Subscribed to the revocations channel, and caught up with the ones missed."""
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(keys.REVOCATIONS_CHANNEL)
            await self.drop_revoked(redis)
        except BaseException:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        return pubsub
