"""What every conversation script shares: the keys and settings it is called with
(`ConversationContext`) and the Lua functions that change a conversation's state.

A conversation's state (soporte_common.conversation_state) changes only here, in the same
atomic step that appends the change to the stream and publishes `conversacion_actualizada`
to the agents: every agent, on every replica, receives the changes in stream order with
the messages. Each change also keeps the indexes that follow from the state: the agents'
loads (open conversations assigned to each), the snoozed set (by wake time) and the
waiting queue of auto-assignment (arrival order).

Rules (docs/architecture.md, "Conversation state"):
- a conversation with no state is new; a customer's message to a new, `resuelta` or
  `pospuesta` conversation makes it `abierta` (after the message, in the same script);
- a conversation that becomes `abierta` that way, or when its snooze ends, while nobody
  holds it, joins the waiting queue; agents' own actions never queue a conversation;
- round robin (when on) serves the queue, oldest first, each to the `en_linea` agent with
  the fewest open conversations under the cap (ties: the least recently assigned);
- a support cycle opens when a conversation becomes `abierta` from nothing or `resuelta`
  (`ciclo`: that entry's id); an agent's first message in it carries `ciclo` (first
  response), the `resuelta` entry that closes it too (resolution).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from soporte_common import keys
from soporte_common.contract import ADMINS_ROOM, Event
from soporte_common.conversation_state import LUA_COUNTS
from soporte_common.emits import emit_template
from soporte_realtime.script_call import ARG, KEY, ScriptCall

# `conversacion_actualizada` to every agent, split where its data goes.
UPDATE_HEAD, UPDATE_TAIL = emit_template(Event.CONVERSATION_UPDATED.value, [ADMINS_ROOM])

# How many waiting conversations one change serves at most (the sweep serves the rest).
QUEUE_STEP: Final = 20


class AutoAssign(StrEnum):
    OFF = "off"
    ROUND_ROBIN = "round_robin"


@dataclass(frozen=True)
class ConversationContext(ScriptCall):
    """The keys and settings every conversation script is called with."""

    stream: str = field(metadata=KEY)
    user_directory: str = field(metadata=KEY)
    snoozed: str = field(metadata=KEY)
    queue: str = field(metadata=KEY)
    load: str = field(metadata=KEY)
    presence: str = field(metadata=KEY)
    last_assigned: str = field(metadata=KEY)
    channel: str = field(metadata=ARG)
    update_head: bytes = field(metadata=ARG)
    update_tail: bytes = field(metadata=ARG)
    auto_assign: int = field(metadata=ARG)  # 1: round robin serves the queue
    max_open: int = field(metadata=ARG)  # 0: no cap
    fecha: str = field(metadata=ARG)  # the time entries appended now carry


@dataclass(frozen=True)
class WorkflowConfig:
    auto_assign: AutoAssign
    max_open_per_agent: int

    def context(self, fecha: str) -> ConversationContext:
        return ConversationContext(
            stream=keys.STREAM,
            user_directory=keys.USER_DIRECTORY,
            snoozed=keys.SNOOZED,
            queue=keys.WAITING_QUEUE,
            load=keys.AGENT_LOAD,
            presence=keys.PRESENCE,
            last_assigned=keys.LAST_AUTO_ASSIGNED,
            channel=keys.SOCKETIO_CHANNEL,
            update_head=UPDATE_HEAD,
            update_tail=UPDATE_TAIL,
            auto_assign=int(self.auto_assign is AutoAssign.ROUND_ROBIN),
            max_open=self.max_open_per_agent,
            fecha=fecha,
        )


# Lua numbers print with 14 significant digits: times and scores travel as strings.
_LIBRARY = """
local function state_key(u) return '@STATE@' .. u end

local function get_state(u)
  local v = redis.call('HMGET', state_key(u), 'estado', 'asignado', 'hasta', 'ciclo', 'respondida')
  return {estado = v[1] or '', asignado = v[2] or '', hasta = v[3] or '',
          ciclo = v[4] or '', respondida = v[5] or ''}
end

local function copy(s)
  return {estado = s.estado, asignado = s.asignado, hasta = s.hasta, ciclo = s.ciclo,
          respondida = s.respondida}
end

@COUNTS@
local function now_ms()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end

-- Store the state and the indexes that follow from it. hasta_ms: a new snooze's wake time.
local function put_state(u, old, new, hasta_ms)
  redis.call('HSET', state_key(u), 'estado', new.estado, 'asignado', new.asignado,
             'hasta', new.hasta, 'ciclo', new.ciclo, 'respondida', new.respondida)
  if counts(old) then redis.call('HINCRBY', load, old.asignado, -1) end
  if counts(new) then redis.call('HINCRBY', load, new.asignado, 1) end
  if new.estado ~= 'pospuesta' then
    redis.call('ZREM', snoozed, u)
  elseif hasta_ms then
    redis.call('ZADD', snoozed, hasta_ms, u)
  end
  if new.estado ~= 'abierta' or new.asignado ~= '' then redis.call('ZREM', queue, u) end
end

local function nullable(v)
  if v == '' then return cjson.null end
  return v
end

local function announce(u, s, id, por)
  redis.call('PUBLISH', channel, update_head .. cjson.encode({
    usuario = u, estado = s.estado, asignado = nullable(s.asignado),
    pospuesta_hasta = nullable(s.hasta), id = id, por = nullable(por)}) .. update_tail)
end

-- por: the agent, or '' when automatic. Returns the entry's id and the new state.
local function change_status(u, old, estado, hasta, hasta_ms, por)
  local new = copy(old)
  new.estado, new.hasta = estado, hasta
  local closes = ''
  if estado == 'resuelta' then
    closes, new.ciclo, new.respondida = old.ciclo, '', ''
  end
  local id = redis.call('XADD', stream, '*', 'tipo', 'estado', 'de', por, 'conversacion', u,
    'estado', estado, 'anterior', old.estado, 'asignado', new.asignado, 'hasta', hasta,
    'ciclo', closes, 'fecha', fecha)
  if estado == 'abierta' and (old.estado == '' or old.estado == 'resuelta') then
    new.ciclo, new.respondida = id, ''
  end
  put_state(u, old, new, hasta_ms)
  announce(u, new, id, por)
  return id, new
end

local function change_assignee(u, old, agente, por)
  local new = copy(old)
  new.asignado = agente
  if new.estado == '' then new.estado = 'abierta' end
  local id = redis.call('XADD', stream, '*', 'tipo', 'asignacion', 'de', por,
    'conversacion', u, 'asignado', agente, 'anterior', old.asignado, 'fecha', fecha)
  put_state(u, old, new, nil)
  if agente ~= '' then
    local t = redis.call('TIME')
    redis.call('HSET', last_assigned, agente, t[1] .. string.format('%06d', tonumber(t[2])))
  end
  announce(u, new, id, por)
  return id, new
end

-- Arrival order: soporte_common.conversation_state.queue_score of the entry's id.
local function enqueue(u, id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  redis.call('ZADD', queue, 'NX', ms .. string.format('%03d', math.min(tonumber(seq), 999)), u)
end

local function pick_agent()
  local cap = tonumber(max_open)
  local best, best_load, best_last
  local p = redis.call('HGETALL', presence)
  for i = 1, #p, 2 do
    local a = p[i]
    if p[i + 1] == 'en_linea' and redis.call('HGET', user_directory, a) == 'admin' then
      local l = tonumber(redis.call('HGET', load, a) or '0')
      if cap == 0 or l < cap then
        local last = tonumber(redis.call('HGET', last_assigned, a) or '0')
        if best == nil or l < best_load or (l == best_load and (last < best_last
            or (last == best_last and a < best))) then
          best, best_load, best_last = a, l, last
        end
      end
    end
  end
  return best
end

-- Hands waiting conversations, oldest first, to agents with room. Returns how many.
local function serve_queue(limit)
  if auto_assign ~= '1' then return 0 end
  local served = 0
  for _ = 1, limit do
    local head = redis.call('ZRANGE', queue, 0, 0)[1]
    if not head then break end
    local s = get_state(head)
    if s.estado ~= 'abierta' or s.asignado ~= '' then
      -- Its state is gone (the customer was erased): nothing waits any more.
      redis.call('ZREM', queue, head)
    else
      local agent = pick_agent()
      if not agent then break end
      change_assignee(head, s, agent, '')
      served = served + 1
    end
  end
  return served
end

-- A customer's message was appended: a new, resolved or snoozed conversation reopens.
local function customer_wrote(u)
  local s = get_state(u)
  if s.estado ~= '' and s.estado ~= 'resuelta' and s.estado ~= 'pospuesta' then return end
  local id, new = change_status(u, s, 'abierta', '', nil, '')
  if new.asignado == '' then
    enqueue(u, id)
    serve_queue(@QUEUE_STEP@)
  end
end

-- An agent's message is about to be appended: the open cycle's id if it is the first
-- response of that cycle, else nil.
local function first_response(u)
  local s = get_state(u)
  if s.ciclo == '' or s.respondida == '1' then return nil end
  redis.call('HSET', state_key(u), 'respondida', '1')
  return s.ciclo
end
"""


def conversation_script(call: type[ScriptCall], body: str) -> str:
    """A script's text: its bindings, the shared functions, then its own body."""
    text = f"{call.bindings()}\n{_LIBRARY}\n{body}"
    return (
        text.replace("@COUNTS@", LUA_COUNTS)
        .replace("@STATE@", keys.CONVERSATION_STATE_PREFIX)
        .replace("@QUEUE_STEP@", str(QUEUE_STEP))
    )
