"""An engine.io session over a WebSocket opened as one (no polling first): engine.io's own
loop, without a task and a `wait_for` per frame.

engine.io reads each frame by starting a task and awaiting it under `wait_for`, and its
writer waits for each batch of outgoing packets the same way: a task, a timer and their
callbacks for every message a client sends and for every batch it is sent, on a path
every message takes (docs/performance.md). Here the reader awaits the frame under one
`asyncio.timeout`, the writer waits only when its queue is empty (and with no timer: the
reader ends a silent session; meanwhile the replica may write frames itself, `ws.idle`),
and a packet that comes with its frame built (an emit's, the same bytes for all its
recipients) is written as it is. What a session does is engine.io's: the same packets,
the same limits (a silent client is closed after `ping_interval + ping_timeout`, an
oversized frame ends the session), the same ending.
A session upgraded from long-polling keeps engine.io's own loop (server.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from engineio import exceptions
from engineio import packet as eio_packet


async def run_session(socket: Any, ws: Any) -> None:
    """Serve engine.io socket `socket` on WebSocket `ws` until either side ends it."""
    server = socket.server
    silence_limit = server.ping_interval + server.ping_timeout
    socket.connected = True
    socket.upgraded = True
    writer = asyncio.ensure_future(write_queued(socket, ws))
    try:
        while True:
            try:
                async with asyncio.timeout(silence_limit):
                    data = await ws.wait()
            except Exception:  # silent too long, a close frame, a broken connection
                break
            if data is None:  # closed by the client
                break
            if len(data) > server.max_http_buffer_size:
                break  # engine.io's reader raises, which ends the session the same way
            try:
                await socket.receive(eio_packet.Packet(encoded_packet=data))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:  # as engine.io: logged, and the session goes on
                server.logger.exception("Unknown receive error")
    finally:
        await socket.queue.put(None)  # the writer's signal to end
        await writer
        await socket.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


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
