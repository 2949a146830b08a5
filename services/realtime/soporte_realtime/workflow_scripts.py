"""The scripts that change a conversation without anybody writing in it: an agent's status
change or assignment, the end of snoozes, serving the waiting queue. Each is one atomic
step built on the shared functions of soporte_realtime.conversation_lua, so each change is
appended, published and indexed together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from soporte_realtime.conversation_lua import ConversationContext, conversation_script
from soporte_realtime.script_call import ARG, PART, ScriptCall


class ChangeOutcome(StrEnum):
    """What a status change or an assignment did (the values are what the scripts return)."""

    OK = "ok"  # appended and published: the entry's id follows
    SAME = "igual"  # the conversation already was so: nothing appended
    CONVERSATION = "conversacion"  # `con` is not a customer
    AGENT = "agente"  # the agent to assign is not an agent
    CONFLICT = "conflicto"  # `anterior` is not who holds it: the holder follows


@dataclass(frozen=True)
class ChangeResult:
    outcome: ChangeOutcome
    value: str = ""  # OK: the entry's id; CONFLICT: who holds the conversation ("": nobody)

    @classmethod
    def from_script(cls, result: list[Any]) -> ChangeResult:
        outcome = ChangeOutcome(result[0].decode())
        return cls(outcome, result[1].decode() if len(result) > 1 else "")


@dataclass(frozen=True)
class StatusCall(ScriptCall):
    context: ConversationContext = field(metadata=PART)
    por: str = field(metadata=ARG)  # the agent
    con: str = field(metadata=ARG)
    estado: str = field(metadata=ARG)
    hasta: str = field(metadata=ARG)  # ISO UTC, for `pospuesta`; else ""
    hasta_ms: str = field(metadata=ARG)  # the same, in ms; else ""


# A conversation nobody changed yet is `abierta` to an agent (its messages' default).
STATUS_SCRIPT: Final = conversation_script(
    StatusCall,
    f"""
if redis.call('HGET', user_directory, con) ~= 'user' then
  return {{'{ChangeOutcome.CONVERSATION}'}}
end
local s = get_state(con)
if s.estado == '' then s.estado = 'abierta' end
if s.estado == estado and s.hasta == hasta then return {{'{ChangeOutcome.SAME}'}} end
local had_room = counts(s)
local id, new = change_status(con, s, estado, hasta, hasta_ms ~= '' and hasta_ms or nil, por)
if had_room and not counts(new) then serve_queue(@QUEUE_STEP@) end
return {{'{ChangeOutcome.OK}', id}}
""",
)


@dataclass(frozen=True)
class AssignCall(ScriptCall):
    context: ConversationContext = field(metadata=PART)
    por: str = field(metadata=ARG)  # the agent
    con: str = field(metadata=ARG)
    agente: str = field(metadata=ARG)  # "": nobody
    anterior: str = field(metadata=ARG)  # who the client believes holds it ("": nobody)
    check_anterior: int = field(
        metadata=ARG
    )  # 1: refuse unless `anterior` holds it (compare-and-set)


ASSIGN_SCRIPT: Final = conversation_script(
    AssignCall,
    f"""
if redis.call('HGET', user_directory, con) ~= 'user' then
  return {{'{ChangeOutcome.CONVERSATION}'}}
end
if agente ~= '' and redis.call('HGET', user_directory, agente) ~= 'admin' then
  return {{'{ChangeOutcome.AGENT}'}}
end
local s = get_state(con)
if check_anterior == '1' and s.asignado ~= anterior then
  return {{'{ChangeOutcome.CONFLICT}', s.asignado}}
end
if s.asignado == agente then return {{'{ChangeOutcome.SAME}'}} end
local freed = counts(s)
local id = change_assignee(con, s, agente, por)
if freed then serve_queue(@QUEUE_STEP@) end
return {{'{ChangeOutcome.OK}', id}}
""",
)


@dataclass(frozen=True)
class UpkeepCall(ScriptCall):
    context: ConversationContext = field(metadata=PART)
    limit: int = field(metadata=ARG)  # at most this many wakes, and this many assignments


# Snoozes whose time came (Redis's clock) become `abierta`, each exactly once however many
# replicas sweep; then the queue is served. Answers {woken, served, more}.
UPKEEP_SCRIPT: Final = conversation_script(
    UpkeepCall,
    """
local due = redis.call('ZRANGEBYSCORE', snoozed, '-inf', now_ms(), 'LIMIT', 0, tonumber(limit))
local woken = 0
for _, u in ipairs(due) do
  local s = get_state(u)
  if s.estado == 'pospuesta' then
    local id, new = change_status(u, s, 'abierta', '', nil, '')
    if new.asignado == '' then enqueue(u, id) end
    woken = woken + 1
  else
    redis.call('ZREM', snoozed, u)  -- its state is gone (the customer was erased)
  end
end
local served = serve_queue(tonumber(limit))
local more = (#due == tonumber(limit) or served == tonumber(limit)) and 1 or 0
return {woken, served, more}
""",
)


@dataclass(frozen=True)
class Upkeep:
    woken: int
    served: int
    more: bool  # it stopped at the limit: call again

    @classmethod
    def from_script(cls, result: list[Any]) -> Upkeep:
        return cls(int(result[0]), int(result[1]), bool(result[2]))
