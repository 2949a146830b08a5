"""(i) The typing tax: the highest sustained message rate, measured as (a) measures it
(with the looser latency ceiling P99_MS), twice on stacks of their own: with 100 customers
connected and quiet, then with the same customers typing (each sends `escribiendo` every
2 s, as a browser does while its user types). Live signals must not tax messages: the
second figure stays within 5% of the first.

The customers are python-socketio clients through the gateway, connected before the load;
in the second run they type for all of it, staggered so the signals arrive evenly (50 a
second). An agent socket of their own counts the signals that reach the agents, so the
report shows the tax was really paid (the harness's agents receive them too). It is
connected in both runs: it receives every message, as every agent does, and decoding
thousands a second costs this host a share of a core that must not count as the tax.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from pathlib import Path
from typing import Any, Final

import socketio
from redis.asyncio import Redis

from soporte_bench import scenarios
from soporte_bench.scenarios import Scale
from soporte_bench.targets import Soporte
from soporte_common import keys
from soporte_common.contract import Event
from soporte_common.settings import LOCAL_JWT_SECRET
from soporte_common.tokens import Rol, TokenCodec

SIGNAL_EVERY_S: Final = 2.0  # the browser's own throttle (frontend data/typing.js)
CONNECTS_AT_ONCE: Final = 50
# The search starts lower than (a)'s and allows a higher p99 (no loss and storage keeping
# up still required): on a shared host (a)'s 50 ms may fail at its first step, leaving
# nothing to compare. Both runs use the same criteria, so the ratio is what counts.
RATE_START_SHARE: Final = 4
P99_MS: Final = 250

CODEC = TokenCodec(LOCAL_JWT_SECRET)


def _token(usuario: str, rol: Rol) -> str:
    token, _ = CODEC.issue(user=usuario, nombre=usuario, rol=rol, ttl_seconds=3600)
    return token


async def _connect(url: str, usuario: str, rol: Rol) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(
        url, headers={"Cookie": f"token={_token(usuario, rol)}"}, transports=["websocket"]
    )
    return sio


async def _type(sio: socketio.AsyncClient, offset: float, stop: asyncio.Event) -> int:
    """Signal every SIGNAL_EVERY_S until stopped; how many were sent."""
    sent = 0
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), offset)
    while not stop.is_set():
        await sio.emit(Event.TYPING.value, {})
        sent += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SIGNAL_EVERY_S)
    return sent


async def _with_customers(
    target: Soporte, scale: Scale, out: Path, customers_typing: bool
) -> dict[str, Any]:
    """The find-max with `scale.typists` customers and the counting agent connected; the
    customers type throughout when `customers_typing`."""
    typists = scale.typists
    stack = target.running
    run = uuid.uuid4().hex[:6]
    customers = [f"tecleo{run}-{i}" for i in range(typists)]
    watcher = f"agente{run}"
    redis = Redis.from_url(stack.redis_url)
    try:
        await redis.hset(
            keys.USER_DIRECTORY, mapping={watcher: "admin", **{c: "user" for c in customers}}
        )
    finally:
        await redis.aclose()
    agent = await _connect(stack.url, watcher, "admin")
    seen = 0

    def count(_: object) -> None:
        nonlocal seen
        seen += 1

    agent.on(Event.TYPING.value, count)
    sockets: list[socketio.AsyncClient] = []
    for start in range(0, len(customers), CONNECTS_AT_ONCE):
        batch = customers[start : start + CONNECTS_AT_ONCE]
        sockets += await asyncio.gather(*(_connect(stack.url, c, "user") for c in batch))
    stop = asyncio.Event()
    typing = [
        asyncio.create_task(_type(sio, i * SIGNAL_EVERY_S / typists, stop))
        for i, sio in enumerate(sockets if customers_typing else [])
    ]
    try:
        load = await asyncio.to_thread(_find_max, target, scale, out)
    finally:
        stop.set()
        sent = sum(await asyncio.gather(*typing))
        for _ in range(50):  # the last signals are still on their way to the agent
            if seen >= sent:
                break
            await asyncio.sleep(0.1)
        await asyncio.gather(*(sio.disconnect() for sio in [*sockets, agent]))
    return {
        "typists": typists,
        "signal_every_s": SIGNAL_EVERY_S,
        "signals_sent": sent,
        "signals_seen_by_an_agent": seen,
        "findmax": load,
    }


def _find_max(target: Soporte, scale: Scale, out: Path) -> dict[str, Any]:
    lower = dataclasses.replace(scale, rate_start=scale.rate_start // RATE_START_SHARE)
    return scenarios.find_max(target, lower, out, p99_ms=P99_MS)


def quiet(target: Soporte, scale: Scale, out: Path) -> dict[str, Any]:
    """The find-max with the customers connected and nobody typing."""
    quiet_run = asyncio.run(_with_customers(target, scale, out, customers_typing=False))
    findmax: dict[str, Any] = quiet_run["findmax"]
    return findmax


def typing(target: Soporte, scale: Scale, out: Path) -> dict[str, Any]:
    """The find-max while `scale.typists` customers type."""
    return asyncio.run(_with_customers(target, scale, out, customers_typing=True))
