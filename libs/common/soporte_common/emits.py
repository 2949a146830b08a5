"""Server → client emits published on the Socket.IO channel (`keys.SOCKETIO_CHANNEL`), in
python-socketio's pub/sub message format: the one encoder every publisher uses (realtime's
scripts, and any other service that must reach sockets).

An emit carries a `host_id` that no replica has, so every replica delivers it from the
channel, in channel order, rather than one delivering it locally first.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

# Not any replica's host_id: every replica handles the emit (soporte_realtime.manager).
CHANNEL_HOST_ID: Final = "stream"


def encode_emit(
    event: str, rooms: list[str], data: dict[str, Any], *, skip_sid: str | None = None
) -> bytes:
    """The pub/sub message that delivers `event` with `data` to the sockets in `rooms`
    (each socket once), except `skip_sid`."""
    return orjson.dumps(
        {
            "method": "emit",
            "event": event,
            "data": [data],
            "binary": False,
            "namespace": "/",
            "room": rooms,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": CHANNEL_HOST_ID,
        }
    )


def emit_template(
    event: str, rooms: list[str], *, skip_sid: str | None = None
) -> tuple[bytes, bytes]:
    """The message split where the data object goes: `head + json(data) + tail` is the
    emit (for a script that decides the data itself)."""
    encoded = encode_emit(event, rooms, {}, skip_sid=skip_sid)
    # The envelope's only data: event and room names never hold this text.
    head, tail = encoded.split(b'"data":[{}]')
    return head + b'"data":[', b"]" + tail


def published_through_the_channel(message: dict[str, Any]) -> bool:
    """An emit published with `encode_emit`: a plain event for local sockets (no
    acknowledgement callback, no binary attachments)."""
    return (
        message.get("host_id") == CHANNEL_HOST_ID
        and not message.get("callback")
        and not message.get("binary")
    )
