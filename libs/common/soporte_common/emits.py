"""Server → client emits published on the Socket.IO channel (`keys.SOCKETIO_CHANNEL`): the
one encoder every publisher uses (realtime's scripts, and any other service that must
reach sockets), and the decoder the replicas use.

An emit is `EMIT_MARK`, a JSON header (the rooms, the socket to skip, the event), a
newline, then the Socket.IO packet exactly as the clients receive it. Every replica reads
every emit, so the packet is encoded once, by the publisher: a replica parses only the
header and hands the packet's text to its sockets in those rooms. python-socketio's own
messages on the channel (a room change, an `sio.emit`) are JSON objects, so the mark
tells the two apart; every replica delivers both in channel order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson

# Not "{", which starts python-socketio's own channel messages (ASCII record separator).
EMIT_MARK: Final = b"\x1e"
_HEADER_END: Final = b"\n"  # JSON without indentation holds no raw newline
# A Socket.IO EVENT packet on the main namespace: the type, then the JSON array.
_EVENT_PACKET: Final = b"2"
_HEADER_KEYS: Final = frozenset({"room", "skip_sid", "event"})


@dataclass(frozen=True)
class ChannelEmit:
    """An emit as a replica reads it."""

    rooms: list[str]
    skip_sid: str | None
    event: str
    packet: str  # the Socket.IO packet's text, for every recipient


def encode_emit(
    event: str, rooms: list[str], data: dict[str, Any], *, skip_sid: str | None = None
) -> bytes:
    """The channel message that delivers `event` with `data` to the sockets in `rooms`
    (each socket once), except `skip_sid`."""
    header = orjson.dumps({"room": rooms, "skip_sid": skip_sid, "event": event})
    return EMIT_MARK + header + _HEADER_END + _EVENT_PACKET + orjson.dumps([event, data])


def emit_template(
    event: str, rooms: list[str], *, skip_sid: str | None = None
) -> tuple[bytes, bytes]:
    """The message split where the data object goes: `head + json(data) + tail` is the
    emit (for a script that decides the data itself)."""
    encoded = encode_emit(event, rooms, {}, skip_sid=skip_sid)
    assert encoded.endswith(b",{}]")  # the packet's last element is the data
    return encoded[:-3], b"]"


def decode_emit(message: bytes) -> ChannelEmit | None:
    """The emit in a channel message; None if it is not one (python-socketio's own).
    ValueError if it is one but malformed."""
    if not message.startswith(EMIT_MARK):
        return None
    header, separator, packet = message[1:].partition(_HEADER_END)
    fields = orjson.loads(header)
    if (
        not separator
        or not packet.startswith(_EVENT_PACKET)
        or not isinstance(fields, dict)
        or not fields.keys() >= _HEADER_KEYS
    ):
        raise ValueError("not an emit: a header, a newline and a Socket.IO event packet")
    return ChannelEmit(
        rooms=fields["room"],
        skip_sid=fields["skip_sid"],
        event=fields["event"],
        packet=packet.decode(),
    )


def emit_data(emit: ChannelEmit) -> Any:
    """The data an emit carries (what its packet's event is emitted with): for tests and
    tools, not the replicas, which never decode it."""
    _, data = orjson.loads(emit.packet[1:])
    return data
