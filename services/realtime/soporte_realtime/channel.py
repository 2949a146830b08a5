"""The emits the accept script publishes (encoded by soporte_common.emits, the one encoder
of the channel's format), and to which replicas.

The entry's id is known only inside the script (Redis assigns it at the append), so the
payload is built here with a placeholder and split where the id goes.

An emit goes to the channel of each replica that holds a socket in one of its rooms
(room_registry.py), the sending socket aside: it is skipped (its acknowledgement has the
id), so a replica whose only socket there is the sender's is not sent the emit at all.
"""

from __future__ import annotations

import orjson

from soporte_common import keys
from soporte_common.contract import Event
from soporte_common.emits import encode_emit

ID_PLACEHOLDER = "\x00"  # refused in message text, so it occurs once in the payload
_PLACEHOLDER_JSON = orjson.dumps(ID_PLACEHOLDER)
ROOM_SEPARATOR = "\n"  # never in a room's name (user ids are checked at sign-up)

# Lua: `publish_to_rooms(payload)` with the locals `rooms` (the emit's rooms, by
# room_list()), `sender_replica` and `sender_rooms` (sender_room_list()) bound. A replica's
# channel name is keys.replica_channel's, with the Lua variable spliced in where the id goes.
PUBLISH_TO_ROOMS_LUA = f"""
local function publish_to_rooms(payload)
  local receivers, seen = {{}}, {{}}
  for room in string.gmatch(rooms, '[^\\n]+') do
    local held = redis.call('HGETALL', '{keys.ROOM_REPLICAS_PREFIX}' .. room)
    for i = 1, #held, 2 do
      local replica, sockets = held[i], tonumber(held[i + 1])
      if replica == sender_replica
          and string.find(sender_rooms, '\\n' .. room .. '\\n', 1, true) then
        sockets = sockets - 1
      end
      if sockets > 0 and not seen[replica] then
        seen[replica] = true
        table.insert(receivers, replica)
      end
    end
  end
  for _, replica in ipairs(receivers) do
    redis.call('PUBLISH', '{keys.replica_channel("' .. replica .. '")}', payload)
  end
end
"""


def room_list(rooms: list[str]) -> str:
    return ROOM_SEPARATOR.join(rooms)


def sender_room_list(rooms: list[str]) -> str:
    """The sending socket's rooms, each between separators ("" when no socket is skipped)."""
    return ROOM_SEPARATOR + ROOM_SEPARATOR.join(rooms) + ROOM_SEPARATOR if rooms else ""


def emit_payload(
    event: Event, rooms: list[str], data: dict[str, str], skip_sid: str | None = None
) -> tuple[bytes, bytes]:
    """The pub/sub message, split where the stream id goes (the script inserts it): `data`
    holds ID_PLACEHOLDER where the id belongs."""
    head, tail = encode_emit(event.value, rooms, data, skip_sid=skip_sid).split(_PLACEHOLDER_JSON)
    return head, tail
