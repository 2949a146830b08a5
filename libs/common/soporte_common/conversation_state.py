"""A conversation's live state in Redis, as realtime's conversation scripts keep it
(soporte_realtime.conversation_lua), and re-seeding it from Postgres when Redis lost it
(history-api does, as auth does for the user directory).

The state of customer `u` is the hash keys.conversation_state(u): `estado`, `asignado`
("": nobody), `hasta` (ISO, while `pospuesta`), `ciclo` (the id of the entry that opened
the current support cycle, "" when none is open), `respondida` ("1" once an agent answered
in that cycle). Three indexes follow from the states, and every script that changes a
state keeps them: keys.AGENT_LOAD (per agent, the conversations it holds that are open,
`OPEN_STATUSES`), keys.SNOOZED (by wake time, ms) and keys.WAITING_QUEUE (conversations
waiting for auto-assignment, by arrival: `queue_score`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Final

from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import ConversationStatus
from soporte_common.messages import stream_id_to_db

# A conversation counts towards its agent's load while it is in one of these.
OPEN_STATUSES: Final = (ConversationStatus.OPEN, ConversationStatus.PENDING)

# The load rule, for every script that changes or seeds a state (`s` holds the fields).
LUA_COUNTS: Final = (
    "local function counts(s)\n  return s.asignado ~= '' and ("
    + " or ".join(f"s.estado == '{status}'" for status in OPEN_STATUSES)
    + ")\nend\n"
)

_SEQ_FACTOR = 1_000_000


def queue_score(entry_id: str) -> str:
    """A waiting conversation's place in the queue: the id of the entry that made it wait,
    as one number that a double holds exactly (its ms, then its sequence, capped at 999).
    The conversation scripts compute the same in Lua."""
    ms, seq = divmod(stream_id_to_db(entry_id), _SEQ_FACTOR)
    return f"{ms}{min(seq, 999):03d}"


@dataclass(frozen=True)
class SeededState:
    usuario: str
    estado: str
    asignado: str  # "": nobody
    hasta: str  # ISO, while pospuesta; else ""
    hasta_ms: str  # the same in ms; else ""
    ciclo: str
    respondida: str  # "1" or ""
    cola: str  # its queue_score while it waits for auto-assignment; else ""


_SEED = (
    LUA_COUNTS
    + """
local seeded = 0
for i = 1, #ARGV, 8 do
  local u = ARGV[i]
  local s = {estado = ARGV[i + 1], asignado = ARGV[i + 2]}
  local state = '@STATE@' .. u
  if redis.call('EXISTS', state) == 0 then  -- a live change since Redis came back wins
    redis.call('HSET', state, 'estado', s.estado, 'asignado', s.asignado, 'hasta', ARGV[i + 3],
               'ciclo', ARGV[i + 5], 'respondida', ARGV[i + 6])
    if counts(s) then redis.call('HINCRBY', KEYS[3], s.asignado, 1) end
    if ARGV[i + 4] ~= '' then redis.call('ZADD', KEYS[1], ARGV[i + 4], u) end
    if ARGV[i + 7] ~= '' then redis.call('ZADD', KEYS[2], 'NX', ARGV[i + 7], u) end
    seeded = seeded + 1
  end
end
return seeded
"""
).replace("@STATE@", keys.CONVERSATION_STATE_PREFIX)


async def seed(redis: Redis, states: Sequence[SeededState], *, batch: int = 500) -> int:
    """Write the states Redis does not have (with their indexes); returns how many."""
    script = redis.register_script(_SEED)
    seeded = 0
    for start in range(0, len(states), batch):
        args = [value for state in states[start : start + batch] for value in astuple(state)]
        seeded += int(
            await script(keys=[keys.SNOOZED, keys.WAITING_QUEUE, keys.AGENT_LOAD], args=args)
        )
    return seeded
