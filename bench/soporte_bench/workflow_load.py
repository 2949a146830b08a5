"""(g) Auto-assignment under load: new conversations arrive at a steady rate while a few
agents are online under round robin with a cap, each agent resolving what it is given
shortly after. Nothing may be assigned twice or dropped from the waiting queue.

Driven from Python with python-socketio clients through the gateway: customers open a
socket each beforehand, then write their first message at the rate; agents resolve each
conversation round robin hands them (which gives them room, so the queue is served). At the
end every conversation of the run must have been auto-assigned exactly once (the log in
Postgres says), the queue must be empty and the agents' loads back to zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import asyncpg
import socketio
from redis.asyncio import Redis

from soporte_bench.scenarios import Scale
from soporte_bench.targets import Soporte
from soporte_common import keys
from soporte_common.settings import LOCAL_JWT_SECRET
from soporte_common.tokens import Rol, TokenCodec

CAP: Final = 5  # SOPORTE_MAX_OPEN_PER_AGENT for the run: the queue must do its job
RESOLVE_AFTER_S: Final = 0.4  # how long an agent keeps a conversation before resolving it
CONNECTS_AT_ONCE: Final = 50

ENV: Final = {"SOPORTE_AUTO_ASSIGN": "round_robin", "SOPORTE_MAX_OPEN_PER_AGENT": str(CAP)}

CODEC = TokenCodec(LOCAL_JWT_SECRET)


@dataclass
class Assignments:
    """Every automatic assignment the agents were told of; `done` once `expected` came."""

    expected: int
    seen: list[tuple[str, str, float]] = field(default_factory=list)  # (customer, agent, when)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, customer: str, agent: str) -> None:
        self.seen.append((customer, agent, time.monotonic()))
        if len(self.seen) >= self.expected:
            self.done.set()


@dataclass
class Agent:
    usuario: str
    assignments: Assignments
    sio: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(reconnection=False)
    )
    resolving: set[asyncio.Task[None]] = field(default_factory=set)

    def listen(self) -> None:
        self.sio.on("conversacion_actualizada", self._updated)

    async def _updated(self, update: dict[str, Any]) -> None:
        if update["asignado"] == self.usuario and update["por"] is None:
            self.assignments.add(update["usuario"], self.usuario)
            task = asyncio.create_task(self._resolve(update["usuario"]))
            self.resolving.add(task)
            task.add_done_callback(self.resolving.discard)

    async def _resolve(self, customer: str) -> None:
        await asyncio.sleep(RESOLVE_AFTER_S)
        ack = await self.sio.call(
            "cambiar_estado", {"con": customer, "estado": "resuelta"}, timeout=30
        )
        assert ack["ok"], ack


def _token(usuario: str, rol: Rol) -> str:
    token, _ = CODEC.issue(user=usuario, nombre=usuario, rol=rol, ttl_seconds=3600)
    return token


async def _connect(url: str, sio: socketio.AsyncClient, token: str) -> None:
    await sio.connect(url, headers={"Cookie": f"token={token}"}, transports=["websocket"])


async def _run(target: Soporte, scale: Scale) -> dict[str, Any]:
    stack = target.running
    run = uuid.uuid4().hex[:6]
    rate, seconds = scale.workflow_rate, scale.workflow_seconds
    customers = [f"wf{run}-{i}" for i in range(rate * seconds)]
    assignments = Assignments(expected=len(customers))
    agents = [Agent(f"agente{run}-{i}", assignments) for i in range(scale.admins)]
    redis = Redis.from_url(stack.redis_url)
    await redis.hset(
        keys.USER_DIRECTORY,
        mapping={**{a.usuario: "admin" for a in agents}, **{c: "user" for c in customers}},
    )
    for agent in agents:
        agent.listen()
        await _connect(stack.url, agent.sio, _token(agent.usuario, "admin"))
    sockets = [socketio.AsyncClient(reconnection=False) for _ in customers]
    for start in range(0, len(customers), CONNECTS_AT_ONCE):
        await asyncio.gather(
            *(
                _connect(stack.url, sockets[i], _token(customers[i], "user"))
                for i in range(start, min(start + CONNECTS_AT_ONCE, len(customers)))
            )
        )
    sent_at: dict[str, float] = {}
    longest_queue = 0

    async def watch_queue() -> None:
        nonlocal longest_queue
        while True:
            longest_queue = max(longest_queue, int(await redis.zcard(keys.WAITING_QUEUE)))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_queue())
    began = time.monotonic()

    async def first_message(i: int) -> None:
        await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
        sent_at[customers[i]] = time.monotonic()
        ack = await sockets[i].call("mensaje_privado", {"para": "admin", "mensaje": "hola"})
        assert ack["ok"], ack

    await asyncio.gather(*(first_message(i) for i in range(len(customers))))
    sending_took = time.monotonic() - began
    with contextlib.suppress(TimeoutError):  # what is missing then is counted below
        await asyncio.wait_for(assignments.done.wait(), 120)
    await asyncio.gather(*(t for a in agents for t in list(a.resolving)))
    watcher.cancel()
    drained_in = time.monotonic() - began
    queue_left = int(await redis.zcard(keys.WAITING_QUEUE))
    loads = {a.usuario: int(await redis.hget(keys.AGENT_LOAD, a.usuario) or 0) for a in agents}
    await redis.aclose()
    await asyncio.gather(*(s.disconnect() for s in [*sockets, *(a.sio for a in agents)]))
    stored = await _auto_assignments(stack.database_url, f"wf{run}-%")
    live = [customer for customer, _, _ in assignments.seen]
    waits = sorted(when - sent_at[customer] for customer, _, when in assignments.seen)
    return {
        "rate_per_second": rate,
        "agents": len(agents),
        "cap": CAP,
        "conversations": len(customers),
        "sending_took_s": round(sending_took, 2),
        "drained_in_s": round(drained_in, 2),
        "assigned_once": sum(1 for n in stored.values() if n == 1),
        "assigned_twice_or_more": sum(1 for n in stored.values() if n > 1),
        "never_assigned": len(customers) - len(stored),
        "live_assignments_seen": len(live),
        "live_duplicates": len(live) - len(set(live)),
        "longest_queue": longest_queue,
        "queue_left": queue_left,
        "loads_left": sum(loads.values()),
        "per_agent": {
            a.usuario: sum(1 for _, agent, _ in assignments.seen if agent == a.usuario)
            for a in agents
        },
        "wait_to_assignment_ms": {"p50": _ms(waits, 0.5), "p99": _ms(waits, 0.99)},
    }


def _ms(sorted_seconds: list[float], q: float) -> float | None:
    if not sorted_seconds:
        return None
    return round(
        sorted_seconds[min(len(sorted_seconds) - 1, int(q * len(sorted_seconds)))] * 1000, 1
    )


async def _auto_assignments(database_url: str, pattern: str) -> dict[str, int]:
    """Per conversation of the run, how many automatic assignments the log holds (once
    history-api has stored everything)."""
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(300):
            backlog = await conn.fetchval(
                "SELECT count(*) FROM conversaciones"
                " WHERE usuario LIKE $1 AND estado <> 'resuelta'",
                pattern,
            )
            if backlog == 0:
                break
            await asyncio.sleep(0.1)
        rows = await conn.fetch(
            "SELECT conversacion, count(*) AS n FROM mensajes WHERE tipo = 'asignacion'"
            " AND de_usuario IS NULL AND conversacion LIKE $1 GROUP BY conversacion",
            pattern,
        )
        return {r["conversacion"]: r["n"] for r in rows}
    finally:
        await conn.close()


def auto_assignment(target: Soporte, scale: Scale) -> dict[str, Any]:
    return asyncio.run(_run(target, scale))
