"""The emits the accept script publishes on the Socket.IO channel, in python-socketio's
pub/sub message format.

They carry a `host_id` that no replica has, so every replica (the sender's included)
delivers them from the channel, in channel order, rather than delivering locally first.
The entry's id is known only inside the script (Redis assigns it at the append), so the
payload is built here with a placeholder and split where the id goes.
"""

from __future__ import annotations

from typing import Any

import orjson

from soporte_common.contract import Event

STREAM_HOST_ID = "stream"  # not any replica's host_id: every replica handles the emit

ID_PLACEHOLDER = "\x00"  # refused in message text, so it occurs once in the payload
_PLACEHOLDER_JSON = orjson.dumps(ID_PLACEHOLDER)


def emit_payload(
    event: Event, rooms: list[str], data: dict[str, str], skip_sid: str | None = None
) -> tuple[bytes, bytes]:
    """The pub/sub message, split where the stream id goes (the script inserts it): `data`
    holds ID_PLACEHOLDER where the id belongs."""
    encoded = orjson.dumps(
        {
            "method": "emit",
            "event": event.value,
            "data": [data],
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


def published_by_the_stream(message: dict[str, Any]) -> bool:
    """An emit the accept script published: a plain event for local sockets (no
    acknowledgement callback, no binary attachments)."""
    return (
        message.get("host_id") == STREAM_HOST_ID
        and not message.get("callback")
        and not message.get("binary")
    )
