"""Accepting an entry a person wrote (a message, a note): one atomic step in Redis.

One Lua script checks that the conversation's customer is not being erased, the customer
(when the route names one to check), a retried client id, the sender's rate; appends the
entry to the `mensajes` stream (which gives it its id); publishes the emit to the replicas
whose sockets are in its rooms (channel.py); and applies what the entry means for the conversation
(soporte_realtime.conversation_lua): a customer's message reopens a resolved or snoozed
conversation, an agent's first message of a cycle is marked as its first response. Because
append and publish happen in one atomic step, every replica receives emits in exactly the
order the stream holds them: all receivers see the entries of a conversation in the order
they were accepted, and the append always precedes the emit (docs/architecture.md, "A
message's path").

The script is called with an `AcceptCall` (soporte_realtime.script_call binds its named
fields to KEYS and ARGV); its result is an `AcceptResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from redis.asyncio import Redis

from soporte_common.messages import EntryFields
from soporte_realtime.channel import PUBLISH_TO_ROOMS_LUA
from soporte_realtime.conversation_lua import ConversationContext, conversation_script
from soporte_realtime.redis_pipe import ScriptArg
from soporte_realtime.script_call import ARG, KEY, PART, BatchedScript, ScriptCall


class AcceptOutcome(StrEnum):
    """What the script did (the values are what it returns)."""

    OK = "ok"  # appended and published
    REPEATED = "repetido"  # a retried client id: nothing new, the first id and time
    RECIPIENT = "destinatario"  # the customer to check is not one
    RATE = "ritmo"  # the sender is over the rate limit
    ERASED = "borrada"  # the conversation's customer is being (or was just) erased


class Writer(StrEnum):
    """Who wrote the entry, which decides what it means for the conversation."""

    CUSTOMER = "cliente"  # a customer's message: may reopen the conversation
    AGENT = "agente"  # an agent's message: may be the cycle's first response
    NOTE = "nota"  # an internal note: changes nothing


@dataclass(frozen=True)
class AcceptCall(ScriptCall):
    """One call of the script. The entry's field/value pairs follow as the last ARGV."""

    context: ConversationContext = field(metadata=PART)
    # The conversation's erasure tombstone (keys.erased): nothing is appended while it is
    # there, so no entry accepted after an erasure began can outlive it.
    erased: str = field(metadata=KEY)
    send_rate: str = field(metadata=KEY)  # the sender's counter in the current window
    client_id: str = field(metadata=KEY)  # remembers `client_id_ttl` s: "<id> <fecha>"
    rate_limit: int = field(metadata=ARG)
    rate_window_ms: int = field(metadata=ARG)
    must_be_customer: str = field(metadata=ARG)  # "" = no check
    client_id_ttl: int = field(metadata=ARG)  # 0 = no client id
    emit_head: bytes = field(metadata=ARG)  # the emit, split where the id goes
    emit_tail: bytes = field(metadata=ARG)
    rooms: str = field(metadata=ARG)  # the emit's rooms (channel.room_list)
    sender_replica: str = field(metadata=ARG)  # the replica the sending socket is on
    sender_rooms: str = field(metadata=ARG)  # its rooms (channel.sender_room_list)
    conversation: str = field(metadata=ARG)  # the customer whose conversation this is
    writer: str = field(metadata=ARG)  # a Writer
    entry: EntryFields

    def trailing_args(self) -> list[ScriptArg]:
        return list(self.entry.fields())


ACCEPT_SCRIPT: Final = conversation_script(
    AcceptCall,
    PUBLISH_TO_ROOMS_LUA
    + f"""
if redis.call('EXISTS', erased) == 1 then return {{'{AcceptOutcome.ERASED}'}} end
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
local fields = {{unpack(ARGV, {AcceptCall.first_trailing_arg()})}}
if writer == '{Writer.AGENT}' then
  local cycle = first_response(conversation)
  if cycle then
    table.insert(fields, 'ciclo')
    table.insert(fields, cycle)
  end
end
local id = redis.call('XADD', stream, '*', unpack(fields))
local accepted = id .. ' ' .. fecha
if client_id_ttl ~= '0' then redis.call('SET', client_id, accepted, 'EX', client_id_ttl) end
publish_to_rooms(emit_head .. '"' .. id .. '"' .. emit_tail)
if writer == '{Writer.CUSTOMER}' then customer_wrote(conversation) end
return {{'{AcceptOutcome.OK}', accepted}}
""",
)


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
        self._script = BatchedScript(redis, ACCEPT_SCRIPT)

    async def __call__(self, call: AcceptCall) -> AcceptResult:
        """Raises RedisError if Redis fails (a timed-out call may have been applied)."""
        return AcceptResult.from_script(await self._script(call))
