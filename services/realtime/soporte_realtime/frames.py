"""Writing a WebSocket's frames: built once (`text_frame`), and gathered so that the frames
a socket is written within a millisecond go out in one write (`CoalescingTransport`,
`FrameFlusher`); a frame its client waits for goes out at once (`write_now`). Measured:
docs/performance.md, "What each optimisation bought".
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any, Final


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked WebSocket text frame (RFC 6455 §5.2): what a server sends."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


# How long a socket's first frame waits for others before they go out together: under load
# an agent's socket is handed a message every millisecond or so, and one write (and one
# read in the gateway) per frame is the larger cost; alone, a frame waits this long.
FRAME_LINGER_SECONDS: Final = 0.001


class FrameFlusher:
    """Sends, every FRAME_LINGER_SECONDS at most, what the sockets' transports gathered
    since: one timer for the whole replica, however many sockets wrote."""

    def __init__(self, linger: float = FRAME_LINGER_SECONDS) -> None:
        self._linger = linger
        self._waiting: list[CoalescingTransport] = []

    def waiting(self, transport: CoalescingTransport) -> None:
        if not self._waiting:
            asyncio.get_running_loop().call_later(self._linger, self._flush)
        self._waiting.append(transport)

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        for transport in waiting:
            transport.flush()


class CoalescingTransport(asyncio.Transport):
    """What a WebSocket's frame writer writes to (write, is_closing, get_extra_info): the
    frames written within FRAME_LINGER_SECONDS go out as one write. engine.io writes one
    frame per packet, and a socket handed a message at a time (an agent under load) would
    otherwise pay a send() system call, and the gateway a read, for each. Closing and
    cutting off use the TCP transport."""

    def __init__(self, transport: asyncio.Transport, flusher: FrameFlusher) -> None:
        super().__init__()
        self._transport = transport
        self._flusher = flusher
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._flusher.waiting(self)
        self._pending.append(bytes(data))

    def write_now(self, data: bytes) -> None:
        """Write `data` at once, after what waits (in order): a frame its client awaits."""
        if self._pending:
            self._pending.append(data)
            self.flush()
        elif not self._transport.is_closing():
            self._transport.write(data)

    def flush(self) -> None:
        if not self._pending:  # written at once since it waited (write_now)
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)
