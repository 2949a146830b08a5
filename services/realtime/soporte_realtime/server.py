"""python-socketio's AsyncServer with the edge's limits (docs/operations.md, "Edge limits"):
no client holds the replica's memory or a session for nothing.

- An engine.io session that has not joined the namespace with a valid token within
  `join_timeout` seconds is closed (a refused handshake closes sooner, handlers.py).
- Binary packets are refused (the contract has none) and the session closed at once: a
  pending binary packet would otherwise gather every attachment the client sends.
- A socket whose unsent output passes `max_unsent_bytes` (a client that does not read) is
  closed; its client reconnects and catches up from the history API, as after any drop.

Each engine.io socket's outgoing queue counts the bytes it holds (`Outbox`); the replica's
manager checks it before handing a socket a message (manager.py). Closing a WebSocket
resets its TCP connection: its writer may be stuck on a peer that reads nothing.

And the message path, which every message takes (measured: docs/performance.md): a
client's event is dispatched by the replica (`_handle_event_packet`), a WebSocket session
runs websocket_session.py's loop, an emit's frame is built once for all its recipients
(`FramedPacket`) and written by the fan-out itself to a session whose writer waits
(`EngineServer.enqueue`), and a socket's frames go out together after at most 1 ms
(frames.py), an acknowledgement at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any, Final

import engineio
import socketio
from aiohttp.web import WebSocketResponse
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as engineio_aiohttp

from soporte_common.logging import get_logger
from soporte_realtime import metrics
from soporte_realtime.frames import CoalescingTransport, FrameFlusher, text_frame
from soporte_realtime.websocket_session import run_session

log = get_logger(__name__)

# Socket.IO packet types 5 and 6 (BINARY_EVENT, BINARY_ACK) announce attachments to come.
BINARY_PACKET_TYPES: Final = ("5", "6")
DISCONNECT_PACKET: Final = "1"
EVENT_PACKET: Final = "2"
ACK_PACKET: Final = "3"
_DIGITS: Final = frozenset("0123456789")
NOT_JOINED, BINARY, NOT_READING = "sin_unirse", "binario", "sin_leer"
_PACKET_OVERHEAD: Final = 16  # a queued packet's cost beyond its data, roughly


def _size(packet: Any) -> int:
    data = getattr(packet, "data", None)
    return _PACKET_OVERHEAD + (len(data) if isinstance(data, str | bytes) else 0)


class Outbox(asyncio.Queue[Any]):
    """An engine.io socket's packets not yet written to its transport, and their size."""

    unsent_bytes: int

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self.unsent_bytes = 0

    def _put(self, item: Any) -> None:
        self.unsent_bytes += _size(item)
        super()._put(item)

    def _get(self) -> Any:
        item = super()._get()
        self.unsent_bytes -= _size(item)
        return item


class FramedPacket(eio_packet.Packet):  # type: ignore[misc]
    """An engine.io MESSAGE packet that also holds its WebSocket frame, built once for all
    the recipients of an emit: a WebSocket session writes the frame as it is
    (websocket_session.py) instead of encoding and framing the packet for each socket; a
    long-polling one encodes it as any packet."""

    def __init__(self, text: str) -> None:
        super().__init__(eio_packet.MESSAGE, text)
        self.frame = text_frame(self.encode().encode())


class _TrackedWebSocket(engineio_aiohttp.WebSocket):  # type: ignore[misc]
    """engine.io's aiohttp WebSocket without permessage-deflate (compressing every small
    chat frame costs far more CPU than the bytes it saves: docs/performance.md), writing
    through a CoalescingTransport, serving a session opened as a WebSocket with
    websocket_session.py's loop, and registered with the server for as long as it runs:
    the server reads its TCP transport's backlog, cuts the session off through it, and
    writes to it itself while `idle` (the session's writer waits on an empty queue, which
    only websocket_session.py's writer says, so a frame written then is in order)."""

    idle = False
    tcp_transport: asyncio.Transport | None = None

    async def __call__(self, environ: dict[str, Any]) -> Any:
        server: EngineServer = self.server
        sid: str = self.handler.__self__.sid  # the engine.io socket this WebSocket serves
        request = environ["aiohttp.request"]
        self.tcp_transport = request.transport
        server.websockets[sid] = self
        try:
            self._sock = WebSocketResponse(max_msg_size=server.max_http_buffer_size, compress=False)
            await self._sock.prepare(request)
            writer = self._sock._writer  # aiohttp's frame writer: frames go out through it
            if writer is not None:
                writer.transport = CoalescingTransport(writer.transport, server.flusher)
            self.environ = environ
            socket = self.handler.__self__
            if socket.connected:  # upgraded from long-polling: engine.io's own loop
                await self.handler(self)
            else:
                await run_session(socket, self)
            return self._sock
        finally:
            server.websockets.pop(sid, None)

    def write_frame(self, frame: bytes, *, at_once: bool = False) -> None:
        """Write a frame built beforehand (FramedPacket): in order with those `send`
        writes, as both go through the frame writer's transport; `at_once`, without the
        linger (an acknowledgement)."""
        writer = self._sock._writer
        if writer is None or writer._closing or writer.transport.is_closing():
            raise ConnectionResetError("the WebSocket is closing")
        transport = writer.transport
        if at_once and isinstance(transport, CoalescingTransport):
            transport.write_now(frame)
        else:
            transport.write(frame)

    async def send(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            await self._sock.send_bytes(message)
        else:
            await self._sock.send_str(message)


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    max_unsent_bytes = 1024 * 1024

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        drivers: dict[str, Any] = self._async  # type: ignore[has-type]  # engine.io sets it
        self._async = {**drivers, "websocket": _TrackedWebSocket}
        self.websockets: dict[str, _TrackedWebSocket] = {}  # by engine.io session id
        self.flusher: FrameFlusher = FrameFlusher()
        self._cutting: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event != "message" or kwargs.get("run_async"):
            return await super()._trigger_event(event, *args, **kwargs)
        return await self.receive_message(*args)

    async def receive_message(self, sid: str, data: str | bytes) -> None:
        """A client's message, straight to Socket.IO's handler: engine.io's generic
        dispatch checks the handler's kind and builds a closure for every frame. Awaited
        here, as engine.io does when python-socketio drives it (its `async_handlers` off:
        one client's events in order)."""
        try:
            await self.handlers["message"](sid, data)
        except Exception:
            self.logger.exception("message handler error")  # as engine.io's own dispatch

    def create_queue(self, *args: Any, **kwargs: Any) -> Outbox:
        return Outbox(*args, **kwargs)

    def unsent_bytes(self, sid: str) -> int:
        """Bytes queued for the socket, and those its transport has not sent yet."""
        socket = self.sockets.get(sid)
        if socket is None:
            return 0
        transport = self._tcp_transport(sid)
        buffered = transport.get_write_buffer_size() if transport is not None else 0
        unsent: int = socket.queue.unsent_bytes
        return unsent + buffered

    def enqueue(self, sid: str, pkt: Any, *, at_once: bool = False) -> None:
        """Hand a socket a packet at once; its writer sends it. engine.io's `send_packet`
        without its chain of coroutines and its ping check per packet (the server's own
        task closes silent clients): the fan-out calls this for every recipient of every
        message. The queue has no bound; `overflowing` is what limits it.

        A packet with its frame built (FramedPacket) for a WebSocket whose writer waits on
        an empty queue is written here and now: nothing queued is before it, and waking
        the writer's task for it would cost more than the write (every emit's recipients,
        every acknowledgement). `at_once`: such a frame skips the linger (FrameFlusher),
        as an acknowledgement's does: its client waits for that one frame, which the linger
        would delay by a millisecond and a wake-up of the replica for its timer."""
        socket = self.sockets.get(sid)
        if socket is None or socket.closed:
            return
        frame = getattr(pkt, "frame", None)
        if frame is not None:
            ws = self.websockets.get(sid)
            if ws is not None and ws.idle and socket.queue.empty():
                with contextlib.suppress(ConnectionResetError):  # closing: the queue's then
                    ws.write_frame(frame, at_once=at_once)
                    return
        socket.queue.put_nowait(pkt)

    def _tcp_transport(self, sid: str) -> asyncio.Transport | None:
        ws = self.websockets.get(sid)
        return ws.tcp_transport if ws is not None else None

    def overflowing(self, sid: str) -> bool:
        return self.unsent_bytes(sid) > self.max_unsent_bytes

    def is_cut_off(self, sid: str) -> bool:
        return sid in self._cutting

    def cut_off(self, sid: str, reason: str) -> None:
        """Close the session now (once, however often asked): its client reconnects."""
        socket = self.sockets.get(sid)
        if sid in self._cutting or socket is None or socket.closed:
            return
        self._cutting.add(sid)
        metrics.SOCKETS_CLOSED.labels(reason).inc()
        log.warning("closing a socket", eio_sid=sid, reason=reason)
        task = asyncio.create_task(self._cut(sid, socket))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cut(self, sid: str, socket: Any) -> None:
        try:
            transport = self._tcp_transport(sid)
            if transport is not None:
                reset(transport)
            await socket.close(wait=False, abort=True, reason=self.reason.SERVER_DISCONNECT)
            self.sockets.pop(sid, None)
        finally:
            self._cutting.discard(sid)


def reset(transport: asyncio.Transport) -> None:
    """Close a TCP connection with a reset: the kernel drops what it still holds for a peer
    that reads nothing (a plain close would keep it, megabytes, until the peer reads or
    the kernel gives up), and the connection's reader and stuck writer end at once."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


class ReplicaServer(socketio.AsyncServer):  # type: ignore[misc]
    """The Socket.IO server of a replica: python-socketio's, with the limits above."""

    def __init__(self, *, join_timeout: float, max_unsent_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.join_timeout = join_timeout
        self.eio.max_unsent_bytes = max_unsent_bytes
        # The main namespace's event methods, by event name, as clients first call them.
        self._event_methods: dict[str, Callable[..., Awaitable[Any]]] = {}

    def _engineio_server_class(self) -> type[EngineServer]:
        return EngineServer

    def joined(self, eio_sid: str) -> bool:
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        return sid is not None and bool(self.manager.is_connected(sid, "/"))

    def _expect_join(self, eio_sid: str) -> None:
        asyncio.get_running_loop().call_later(self.join_timeout, self._check_joined, eio_sid)

    def _check_joined(self, eio_sid: str) -> None:
        if eio_sid in self.eio.sockets and not self.joined(eio_sid):
            self.eio.cut_off(eio_sid, NOT_JOINED)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        await super()._handle_eio_connect(eio_sid, environ)
        self._expect_join(eio_sid)

    async def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        if self.eio.is_cut_off(eio_sid):
            return
        if isinstance(data, bytes) or data[:1] in BINARY_PACKET_TYPES:
            self.eio.cut_off(eio_sid, BINARY)
            return
        if data[:1] == EVENT_PACKET and await self._handle_event_packet(eio_sid, data):
            return
        await super()._handle_eio_message(eio_sid, data)
        if data[:1] == DISCONNECT_PACKET:  # it left the namespace: join again or be closed
            self._expect_join(eio_sid)

    async def _handle_event_packet(self, eio_sid: str, data: str) -> bool:
        """An event on the main namespace (every message a client sends): what
        python-socketio does with it, without its packet objects, its dispatch chain and its
        acknowledgement's walk for binary data. False, having done nothing, for what this
        does not handle (another namespace, a malformed packet, an event with no method):
        python-socketio's path handles those as before. Events named `connect` or
        `disconnect` are ignored."""
        end = 1  # past the acknowledgement id, if the client wants one
        while data[end : end + 1] in _DIGITS:
            end += 1
        if data[end : end + 1] != "[":
            return False
        try:
            payload = self.packet_class.json.loads(data[end:])
        except ValueError:
            return False
        if not payload or not isinstance(payload[0], str):
            return False
        if payload[0] in self.reserved_events:
            # `connect` and `disconnect` are the server's: python-socketio would call their
            # methods for a client's event of that name (and forget a session still open).
            return True
        method = self._event_method(payload[0])
        if method is None:
            return False
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        if not self.manager.is_connected(sid, "/"):
            return True  # not joined (or leaving): ignored, as python-socketio does
        result = await method(sid, *payload[1:])
        if end > 1:
            answer = (
                [] if result is None else list(result) if isinstance(result, tuple) else [result]
            )
            text = ACK_PACKET + data[1:end] + self.packet_class.json.dumps(answer)
            self.eio.enqueue(eio_sid, FramedPacket(text), at_once=True)
        return True

    def _event_method(self, event: str) -> Callable[..., Awaitable[Any]] | None:
        method = self._event_methods.get(event)
        if method is not None or self.handlers:
            return method
        namespace = self.namespace_handlers.get("/")
        found: Callable[..., Awaitable[Any]] | None = getattr(namespace, "on_" + event, None)
        if found is None or not inspect.iscoroutinefunction(found):
            return None
        self._event_methods[event] = found
        return found
