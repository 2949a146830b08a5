"""Erasing a customer (`DELETE /api/usuarios/<usuario>`): their account, their conversation
(messages, notes, status changes, assignments, and so their search entries), read marks,
support cycles, what other parts of Soporte keep (soporte_history.personal_data), their
entries still in the Redis stream, the conversation's live state and every key of theirs;
their sockets are closed on every replica and their tokens stop working.

The rule for an erasure while the customer (or an agent) is still writing — no entry
accepted before the erasure survives it, and none is accepted after it began:
1. One atomic Redis script sets the tombstone (keys.erased), removes the user from the
   directory and removes the conversation's live state with its indexes. From then on
   realtime's scripts append nothing to that conversation (the accept script checks the
   tombstone; the status and assignment scripts need a customer in the directory; the
   snooze sweep and the queue no longer hold it), auth does not publish the user again
   (a login racing this is refused) and no token of theirs passes a check.
2. Their sockets are closed on every replica (announced on the revocations channel).
3. Their entries still in the stream (and its dead letters) are deleted (XDEL). A pending
   one that the consumer re-reads comes back empty and is only acknowledged.
4. Wait until the consumer group has stored and acknowledged everything appended before
   step 1: a batch holding their entries that was read before step 3 has committed.
5. One Postgres transaction deletes every row of theirs.
6. Their remaining Redis keys are deleted, the sockets announcement is repeated (a socket
   that was joining during step 2), agents are told the conversation is gone, the erasure
   goes to the audit trail (counts only), and the tombstone expires a minute later: a
   login or handshake still in flight cannot bring anything back, and the username is free
   again afterwards.
A failure after step 1 leaves the tombstone without expiry (the customer stays locked out,
nothing of theirs is accepted): the erasure is repeated, and picks up where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

import asyncpg
from redis.asyncio import Redis

from soporte_common import audit, keys
from soporte_common.contract import ADMINS_ROOM, AuditAction, Event
from soporte_common.conversation_state import LUA_COUNTS
from soporte_common.emits import encode_emit
from soporte_common.logging import get_logger
from soporte_common.messages import now_iso
from soporte_common.tokens import SessionGuard
from soporte_history import metrics
from soporte_history.personal_data import PERSONAL_DATA, PERSONAL_KEYS
from soporte_history.stream_status import wait_until_settled

log = get_logger(__name__)

# How long the tombstone outlives a finished erasure: longer than any login or handshake.
TOMBSTONE_AFTER_SECONDS: Final = 60
_SCAN_COUNT: Final = 1000
# Fields of a stream entry that name the customer it belongs to.
_OWNER_FIELDS: Final = (b"conversacion", b"de", b"para")

# KEYS: tombstone, directory, state, load, snoozed, queue. ARGV: usuario, when.
_BEGIN = (
    LUA_COUNTS
    + """
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
local v = redis.call('HMGET', KEYS[3], 'estado', 'asignado')
local s = {estado = v[1] or '', asignado = v[2] or ''}
if counts(s) then redis.call('HINCRBY', KEYS[4], s.asignado, -1) end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
return 1
"""
)


class NotACustomerError(Exception):
    """Only customers are erased here (an agent account is an operator's business)."""


class ErasureUnfinishedError(Exception):
    """The stream could not be stored in time: the erasure must be repeated."""


@dataclass(frozen=True)
class Erased:
    entradas: int  # entries of the conversation log
    cuenta: bool  # the account existed


async def is_agent(db: asyncpg.Pool, redis: Redis, usuario: str) -> bool:
    rol = await redis.hget(keys.USER_DIRECTORY, usuario)
    if rol is not None:
        return cast(bytes, rol) == b"admin"
    stored = await db.fetchval("SELECT rol FROM usuarios WHERE usuario = $1", usuario)
    return bool(stored == "admin")


async def anything_to_erase(db: asyncpg.Pool, redis: Redis, usuario: str) -> bool:
    """Anything of `usuario` to erase: an erasure under way (its tombstone does not expire
    yet), a directory entry, a conversation's state, a row."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.ttl(keys.erased(usuario))
        pipe.hexists(keys.USER_DIRECTORY, usuario)
        pipe.exists(keys.conversation_state(usuario))
        tombstone, *found = await pipe.execute()
    if tombstone == -1 or any(found):
        return True
    return bool(
        await db.fetchval(
            """SELECT EXISTS (SELECT 1 FROM usuarios WHERE usuario = $1)
                   OR EXISTS (SELECT 1 FROM conversaciones WHERE usuario = $1)
                   OR EXISTS (SELECT 1 FROM mensajes WHERE conversacion = $1)
                   OR EXISTS (SELECT 1 FROM lecturas WHERE lector = $1)""",
            usuario,
        )
    )


class Eraser:
    def __init__(
        self, db: asyncpg.Pool, redis: Redis, guard: SessionGuard, *, settle_seconds: float
    ) -> None:
        self.db = db
        self.redis = redis
        self.guard = guard
        self.settle_seconds = settle_seconds
        self._begin = redis.register_script(_BEGIN)

    async def erase(self, usuario: str, *, agente: str) -> Erased:
        """The whole erasure (the module's rule). NotACustomerError for an agent;
        ErasureUnfinishedError if it must be repeated (RedisError, PostgresError too)."""
        if await is_agent(self.db, self.redis, usuario):
            raise NotACustomerError(usuario)
        await self._begin(
            keys=[
                keys.erased(usuario),
                keys.USER_DIRECTORY,
                keys.conversation_state(usuario),
                keys.AGENT_LOAD,
                keys.SNOOZED,
                keys.WAITING_QUEUE,
            ],
            args=[usuario, now_iso()],
        )
        await self.guard.announce_user_revoked(usuario)
        deleted = await self._delete_stream_entries(usuario, keys.STREAM)
        deleted += await self._delete_stream_entries(usuario, keys.DEAD_LETTER_STREAM)
        if not await wait_until_settled(self.redis, self.settle_seconds):
            raise ErasureUnfinishedError(usuario)
        erased = await self._delete_rows(usuario)
        await self._delete_keys(usuario)
        await self.guard.announce_user_revoked(usuario)
        await self.redis.publish(
            keys.SOCKETIO_CHANNEL,
            encode_emit(Event.CONVERSATION_ERASED.value, [ADMINS_ROOM], {"usuario": usuario}),
        )
        await audit.record(
            self.redis,
            agente,
            AuditAction.ERASURE,
            usuario,
            {"entradas": erased.entradas, "cuenta": erased.cuenta},
        )
        await self.redis.expire(keys.erased(usuario), TOMBSTONE_AFTER_SECONDS)
        metrics.record_erasure()
        log.info(
            "customer erased",
            usuario=usuario,
            agente=agente,
            entradas=erased.entradas,
            en_el_stream=deleted,
        )
        return erased

    async def _delete_stream_entries(self, usuario: str, stream: str) -> int:
        """XDEL every entry of `stream` that belongs to `usuario`; how many."""
        owner = usuario.encode()
        deleted = 0
        start = "-"
        while True:
            page = cast(
                Sequence[tuple[bytes, dict[bytes, bytes]]],
                await self.redis.xrange(stream, min=start, count=_SCAN_COUNT),
            )
            theirs = [
                entry_id
                for entry_id, fields in page
                if any(fields.get(name) == owner for name in _OWNER_FIELDS)
            ]
            if theirs:
                deleted += int(await self.redis.xdel(stream, *theirs))
            if len(page) < _SCAN_COUNT:
                return deleted
            start = f"({page[-1][0].decode()}"

    async def _delete_rows(self, usuario: str) -> Erased:
        async with self.db.acquire() as conn, conn.transaction():
            log_status = await conn.execute("DELETE FROM mensajes WHERE conversacion = $1", usuario)
            account = False
            for data in PERSONAL_DATA:
                status = await conn.execute(data.delete, usuario)
                if data.section == "cuenta":
                    account = _count(status) > 0
        return Erased(entradas=_count(log_status), cuenta=account)

    async def _delete_keys(self, usuario: str) -> None:
        names = [key(usuario) for key in PERSONAL_KEYS]
        found = [name for name in names if "*" not in name]
        for pattern in (name for name in names if "*" in name):
            found += [k async for k in self.redis.scan_iter(match=pattern, count=_SCAN_COUNT)]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.USER_DIRECTORY, usuario)
            if found:
                pipe.delete(*found)
            await pipe.execute()


def _count(status: str) -> int:
    """The row count of a command tag such as `DELETE 3`."""
    return int(status.rsplit(" ", 1)[-1])
