"""Accepting a message: one atomic step in Redis.

One Lua script checks the sender's rate, the recipient, a retried client id; appends the
message to the `mensajes` stream (which gives it its id); and publishes the emit on the
Socket.IO channel. Because append and publish happen in one atomic step, every replica
receives emits in exactly the order the stream holds them: all receivers see the messages
of a conversation in the order they were accepted, and the append always precedes the emit.

The emit is published in python-socketio's pub/sub message format with a `host_id` that no
replica has, so every replica (the sender's included) delivers it from the channel, in
channel order, rather than delivering locally first.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from soporte_common import keys
from soporte_common.contract import ADMINS_ROOM, SUPPORT_TEAM, Event, RejectCode, user_room
from soporte_common.messages import (
    MessageRejectedError,
    SendRequest,
    StreamEntry,
    conversation_of,
    now_iso,
)
from soporte_common.tokens import Claims

STREAM_HOST_ID = "stream"  # not any replica's host_id: every replica handles the emit

# KEYS: 1 stream, 2 sender's rate counter, 3 user directory, 4 client id key
# ARGV: 1 channel, 2 rate limit, 3 window ms, 4 check recipient (1/0), 5 recipient,
#       6 client id ttl s (0 = no client id), 7 payload head, 8 payload tail, 9 fecha,
#       10.. entry fields
ACCEPT_SCRIPT = """
if ARGV[4] == '1' and redis.call('HGET', KEYS[3], ARGV[5]) ~= 'user' then
  return {'destinatario'}
end
if ARGV[6] ~= '0' then
  local seen = redis.call('GET', KEYS[4])
  if seen then return {'repetido', seen} end
end
local sent = redis.call('INCR', KEYS[2])
if sent == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
if sent > tonumber(ARGV[2]) then return {'ritmo'} end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 10))
if ARGV[6] ~= '0' then redis.call('SET', KEYS[4], id .. ' ' .. ARGV[9], 'EX', ARGV[6]) end
redis.call('PUBLISH', ARGV[1], ARGV[7] .. '"' .. id .. '"' .. ARGV[8])
return {'ok', id}
"""

_ID_PLACEHOLDER = "\x00"  # refused in message text, so it occurs once in the payload
_PLACEHOLDER_JSON = orjson.dumps(_ID_PLACEHOLDER)


def rooms_for(sender: Claims, para: str) -> list[str]:
    """The recipient, every agent, and the sender's own other tabs (the sending socket is
    skipped: it has the acknowledgement); a socket in several of these rooms still receives
    the message once (python-socketio merges room lists)."""
    if sender.rol == "admin":
        return [user_room(para), ADMINS_ROOM]
    return [user_room(para), ADMINS_ROOM, user_room(sender.user)]


def emit_payload(
    rooms: list[str], message: dict[str, str], skip_sid: str | None = None
) -> tuple[bytes, bytes]:
    """The pub/sub message, split where the stream id goes (the script inserts it)."""
    encoded = orjson.dumps(
        {
            "method": "emit",
            "event": Event.MESSAGE_RECEIVED.value,
            "data": [message],
            "binary": False,
            "namespace": "/",
            "room": rooms,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": STREAM_HOST_ID,
        }
    )
    head, tail = encoded.split(_PLACEHOLDER_JSON)
    return head, tail


ScriptArg = str | bytes | int | float


class ScriptBatcher:
    """Runs concurrent calls of one Lua script as a single pipeline: one write and one read
    for every message that arrived in the same event-loop turn, instead of a round trip (and
    a pooled connection) each. Calls keep their order; each gets its own result or error."""

    def __init__(self, redis: Redis, script: str) -> None:
        self.redis = redis
        self.script = script
        self.sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis's script id
        self._queued: list[tuple[list[str], list[ScriptArg], asyncio.Future[Any]]] = []
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

    async def _flush(
        self, batch: list[tuple[list[str], list[ScriptArg], asyncio.Future[Any]]]
    ) -> None:
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

    async def _run(
        self, batch: list[tuple[list[str], list[ScriptArg], asyncio.Future[Any]]]
    ) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for keys, args, _ in batch:
                pipe.evalsha(self.sha, len(keys), *keys, *args)
            results: list[Any] = await pipe.execute(raise_on_error=False)
            return results


@dataclass(frozen=True)
class Accepted:
    id: str
    fecha: str


class MessageBus:
    def __init__(
        self, redis: Redis, *, rate_limit: int, rate_window_ms: int, client_id_ttl: int
    ) -> None:
        self._accept = ScriptBatcher(redis, ACCEPT_SCRIPT)
        self.rate_limit = rate_limit
        self.rate_window_ms = rate_window_ms
        self.client_id_ttl = client_id_ttl

    async def accept(
        self, sender: Claims, request: SendRequest, *, sid: str | None = None
    ) -> Accepted:
        """Append and publish, or raise MessageRejectedError (RedisError if Redis fails)."""
        if sender.rol == "user" and request.para != SUPPORT_TEAM:
            raise MessageRejectedError(RejectCode.NOT_ALLOWED)
        if sender.rol == "admin" and request.para == SUPPORT_TEAM:
            raise MessageRejectedError(RejectCode.RECIPIENT)
        fecha = now_iso()
        entry = StreamEntry(
            de=sender.user,
            nombre=sender.nombre,
            para=request.para,
            conversacion=conversation_of(sender.user, sender.rol, request.para),
            mensaje=request.mensaje,
            fecha=fecha,
        )
        head, tail = emit_payload(
            rooms_for(sender, request.para),
            {
                "id": _ID_PLACEHOLDER,
                "de": entry.de,
                "para": entry.para,
                "mensaje": entry.mensaje,
                "fecha": fecha,
            },
            # The sending socket has the acknowledgement (same id and time): no echo to it.
            skip_sid=sid,
        )
        cid_key = keys.client_message_id(sender.user, request.cid or "-")
        result = await self._accept(
            keys=[keys.STREAM, keys.send_rate(sender.user), keys.USER_DIRECTORY, cid_key],
            args=[
                keys.SOCKETIO_CHANNEL,
                self.rate_limit,
                self.rate_window_ms,
                1 if sender.rol == "admin" else 0,
                request.para,
                self.client_id_ttl if request.cid else 0,
                head,
                tail,
                fecha,
                *entry.fields(),
            ],
        )
        outcome = result[0].decode()
        if outcome == "ok":
            return Accepted(id=result[1].decode(), fecha=fecha)
        if outcome == "repetido":
            # A retry of a message already accepted: same id, nothing stored twice.
            first_id, _, first_fecha = result[1].decode().partition(" ")
            return Accepted(id=first_id, fecha=first_fecha)
        if outcome == "destinatario":
            raise MessageRejectedError(RejectCode.RECIPIENT)
        if outcome == "ritmo":
            raise MessageRejectedError(RejectCode.RATE)
        raise RuntimeError(f"unexpected outcome from the accept script: {outcome!r}")
