"""The emits the accept script publishes on the Socket.IO channel (encoded by
soporte_common.emits, the one encoder of the channel's format).

The entry's id is known only inside the script (Redis assigns it at the append), so the
payload is built here with a placeholder and split where the id goes.
"""

from __future__ import annotations

import orjson

from soporte_common.contract import Event
from soporte_common.emits import encode_emit

ID_PLACEHOLDER = "\x00"  # refused in message text, so it occurs once in the payload
_PLACEHOLDER_JSON = orjson.dumps(ID_PLACEHOLDER)


def emit_payload(
    event: Event, rooms: list[str], data: dict[str, str], skip_sid: str | None = None
) -> tuple[bytes, bytes]:
    """The pub/sub message, split where the stream id goes (the script inserts it): `data`
    holds ID_PLACEHOLDER where the id belongs."""
    head, tail = encode_emit(event.value, rooms, data, skip_sid=skip_sid).split(_PLACEHOLDER_JSON)
    return head, tail
