"""An engine.io session over a WebSocket opened as one (no polling first): engine.io's own
loop, without a task and a `wait_for` per frame.

engine.io reads each frame by starting a task and awaiting it under `wait_for`, and its
writer waits for each batch of outgoing packets the same way: a task, a timer and their
callbacks for every message a client sends and for every batch it is sent, on a path
every message takes (docs/performance.md). Here the reader awaits frames under one
timeout for the whole session (quiet_timer.py), hands a message to the server's handler
without building engine.io's packet, the writer waits only when its queue is empty (and
with no timer: the reader ends a silent session; meanwhile the replica may write frames
itself, `ws.idle`), and a packet that comes with its frame built (an emit's, the same
bytes for all its recipients) is written as it is. What a session does is engine.io's:
the same packets, the same limits (a silent client is closed after `ping_interval +
ping_timeout`, an oversized frame ends the session), the same ending.
A session upgraded from long-polling keeps engine.io's own loop (server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

from engineio import exceptions
from engineio import packet as eio_packet

from soporte_realtime.quiet_timer import QuietTimer

MESSAGE_FRAME: Final = "4"  # engine.io's MESSAGE packet type, as a text frame starts


async def run_session(socket: Any, ws: Any) -> None:
    """Serve engine.io socket `socket` on WebSocket `ws` until either side ends it."""
    server = socket.server
    socket.connected = True
    socket.upgraded = True
    writer = asyncio.ensure_future(write_queued(socket, ws))
    try:
        with contextlib.suppress(TimeoutError):  # silent too long
            await read_frames(socket, ws, server.ping_interval + server.ping_timeout)
    finally:
        await socket.queue.put(None)  # the writer's signal to end
        await writer
        await socket.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


async def read_frames(socket: Any, ws: Any, silence_limit: float) -> None:
    """Hand the socket its client's frames (`hand_over_frames`) until the session ends,
    or raise TimeoutError once it has waited `silence_limit` seconds for a frame."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(None) as deadline:
        with QuietTimer(silence_limit, lambda: deadline.reschedule(loop.time())) as silence:
            await hand_over_frames(socket, ws, silence)


async def hand_over_frames(socket: Any, ws: Any, silence: QuietTimer) -> None:
    """Until the client closes or breaks the connection or sends what ends the session;
    silence counts while the session waits for a frame. A message goes straight to the
    server's handler (`EngineServer.receive_message`): engine.io's packet object, and the
    exception its decoding raises and catches for every Socket.IO packet, cost more than
    the dispatch."""
    server = socket.server
    while True:
        silence.start()
        try:
            data = await ws.wait()
        except Exception:  # a close frame, a broken connection
            return
        finally:
            silence.stop()
        if data is None:  # closed by the client
            return
        if len(data) > server.max_http_buffer_size:
            return  # engine.io's reader raises, which ends the session the same way
        if type(data) is str and data[:1] == MESSAGE_FRAME:
            await server.receive_message(socket.sid, data[1:])
            continue
        try:
            await socket.receive(eio_packet.Packet(encoded_packet=data))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            return
        except Exception:  # as engine.io: logged, and the session goes on
            server.logger.exception("Unknown receive error")


async def write_queued(socket: Any, ws: Any) -> None:
    """Send what is queued for the socket, a batch at a time, until told to end (None)."""
    queue: asyncio.Queue[Any] = socket.queue
    try:
        while True:
            # No timeout of its own: a silent client is the reader's to end, which then
            # queues the None that ends this. While it waits on an empty queue, the replica
            # may write an emit's frame itself (EngineServer.enqueue): nothing is before it.
            if queue.empty():
                ws.idle = True
                try:
                    first = await queue.get()
                finally:
                    ws.idle = False
            else:
                first = queue.get_nowait()
            queue.task_done()  # engine.io's close(wait=True) joins the queue
            if first is None:
                return
            batch = [first]
            while not queue.empty():
                packet = queue.get_nowait()
                queue.task_done()
                if packet is None:
                    queue.put_nowait(None)  # seen after this batch is sent
                    break
                batch.append(packet)
            try:
                for packet in batch:
                    frame = getattr(packet, "frame", None)  # a FramedPacket's (server.py)
                    if frame is None:
                        await ws.send(packet.encode())
                    else:
                        ws.write_frame(frame)
            except Exception:
                return
    finally:
        await ws.close()
