"""Accepting an entry: one atomic step in Redis.

One Lua script checks the recipient (when the route names a customer to check), a retried
client id, the sender's rate; appends the entry to the `mensajes` stream (which gives it
its id); and publishes the emit on the Socket.IO channel. Because append and publish happen
in one atomic step, every replica receives emits in exactly the order the stream holds
them: all receivers see the entries of a conversation in the order they were accepted, and
the append always precedes the emit (docs/architecture.md, "A message's path").

The script is called with an `AcceptCall`, whose named fields are the script's KEYS and
ARGV: the script's first lines bind each to a Lua local of the same name, generated from
the dataclass, so a position is never written twice. Its result is an `AcceptResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Final

from redis.asyncio import Redis

from soporte_common.messages import StreamEntry
from soporte_realtime.batcher import ScriptArg, ScriptBatcher


class AcceptOutcome(StrEnum):
    """What the script did (the values are what it returns)."""

    OK = "ok"  # appended and published
    REPEATED = "repetido"  # a retried client id: nothing new, the first id and time
    RECIPIENT = "destinatario"  # the customer to check is not one
    RATE = "ritmo"  # the sender is over the rate limit


_KEY: Final = {"lua": "KEYS"}
_ARG: Final = {"lua": "ARGV"}


@dataclass(frozen=True)
class AcceptCall:
    """One call of the script. KEYS are the keys it touches (declared, as Redis requires);
    ARGV the rest; the entry's field/value pairs follow as the last ARGV."""

    stream: str = field(metadata=_KEY)
    send_rate: str = field(metadata=_KEY)  # the sender's counter in the current window
    user_directory: str = field(metadata=_KEY)
    client_id: str = field(metadata=_KEY)  # remembers `client_id_ttl` s: "<id> <fecha>"
    channel: str = field(metadata=_ARG)
    rate_limit: int = field(metadata=_ARG)
    rate_window_ms: int = field(metadata=_ARG)
    must_be_customer: str = field(metadata=_ARG)  # "" = no check
    client_id_ttl: int = field(metadata=_ARG)  # 0 = no client id
    emit_head: bytes = field(metadata=_ARG)  # the emit, split where the id goes
    emit_tail: bytes = field(metadata=_ARG)
    fecha: str = field(metadata=_ARG)
    entry: StreamEntry

    def keys(self) -> list[str]:
        return [getattr(self, name) for name in _names("KEYS")]

    def args(self) -> list[ScriptArg]:
        named: list[ScriptArg] = [getattr(self, name) for name in _names("ARGV")]
        return [*named, *self.entry.fields()]


def _names(table: str) -> list[str]:
    return [f.name for f in fields(AcceptCall) if f.metadata.get("lua") == table]


def _bindings() -> str:
    """`local stream = KEYS[1]` ... for every named field, in the order `AcceptCall` sends."""
    return "\n".join(
        f"local {name} = {table}[{position}]"
        for table in ("KEYS", "ARGV")
        for position, name in enumerate(_names(table), start=1)
    )


ACCEPT_SCRIPT: Final = f"""
{_bindings()}
if must_be_customer ~= '' and redis.call('HGET', user_directory, must_be_customer) ~= 'user' then
  return {{'{AcceptOutcome.RECIPIENT}'}}
end
if client_id_ttl ~= '0' then
  local seen = redis.call('GET', client_id)
  if seen then return {{'{AcceptOutcome.REPEATED}', seen}} end
end
local sent = redis.call('INCR', send_rate)
if sent == 1 then redis.call('PEXPIRE', send_rate, rate_window_ms) end
if sent > tonumber(rate_limit) then return {{'{AcceptOutcome.RATE}'}} end
local id = redis.call('XADD', stream, '*', unpack(ARGV, {len(_names("ARGV")) + 1}))
local accepted = id .. ' ' .. fecha
if client_id_ttl ~= '0' then redis.call('SET', client_id, accepted, 'EX', client_id_ttl) end
redis.call('PUBLISH', channel, emit_head .. '"' .. id .. '"' .. emit_tail)
return {{'{AcceptOutcome.OK}', accepted}}
"""


@dataclass(frozen=True)
class AcceptResult:
    outcome: AcceptOutcome
    id: str = ""  # OK: the new entry's id; REPEATED: the first one's
    fecha: str = ""  # the time the entry carries (REPEATED: the first one's)

    @classmethod
    def from_script(cls, result: list[Any]) -> AcceptResult:
        outcome = AcceptOutcome(result[0].decode())
        if len(result) == 1:
            return cls(outcome)
        entry_id, _, fecha = result[1].decode().partition(" ")
        return cls(outcome, entry_id, fecha)


class AcceptScript:
    """The script, callable with named fields; concurrent calls share one pipeline."""

    def __init__(self, redis: Redis) -> None:
        self._batcher = ScriptBatcher(redis, ACCEPT_SCRIPT)

    async def __call__(self, call: AcceptCall) -> AcceptResult:
        """Raises RedisError if Redis fails (a timed-out call may have been applied)."""
        return AcceptResult.from_script(await self._batcher(call.keys(), call.args()))
