"""This replica's side of presence: it counts its sockets in the cluster-wide registry
(join, leave, a heartbeat that renews them), sweeps away the sockets of replicas that died,
and announces every change the registry reports: `presencia` to the agents, and
`soporte_disponible` to the customers when support as a whole comes or goes.

The registry hands each change to exactly one caller, so each is announced once however
many replicas race; the announcement goes through the Socket.IO channel to every replica.
An agent coming online is also handed to `on_agent_online` (the waiting queue of
auto-assignment is served then).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import socketio

from soporte_common.contract import ADMINS_ROOM, CUSTOMERS_ROOM, Event, PresenceState
from soporte_common.logging import get_logger
from soporte_common.tokens import Claims
from soporte_realtime.periodic import PeriodicJobs
from soporte_realtime.presence import PresenceChanges, SocketRegistry, TooManySocketsError

log = get_logger(__name__)

# Sockets this replica holds: (sid, claims), read at each heartbeat.
LocalSockets = Callable[[], Iterable[tuple[str, Claims]]]


class PresenceKeeper:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        registry: SocketRegistry,
        *,
        local_sockets: LocalSockets,
        sweep_seconds: float,
        on_agent_online: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.sio = sio
        self.registry = registry
        self.local_sockets = local_sockets
        self.renew_seconds = registry.ttl_ms / 1000 / 3  # two renewals may fail in a row
        self.sweep_seconds = sweep_seconds
        self._upkeep = PeriodicJobs("presence")
        self.on_agent_online = on_agent_online
        self._reactions: set[asyncio.Task[None]] = set()

    async def join(self, sid: str, claims: Claims) -> None:
        """Count the socket (TooManySocketsError past the per-user cap). A customer is told
        at once whether support is there."""
        await self.announce(await self.registry.join(sid, claims))
        if claims.rol == "user":
            available = await self.registry.support_available()
            await self.sio.emit(
                Event.SUPPORT_AVAILABLE.value, {"en_linea": available}, to=sid, ignore_queue=True
            )

    async def leave(self, sid: str, claims: Claims) -> None:
        await self.announce(await self.registry.leave(sid, claims.user, claims.rol))

    async def set_state(self, sid: str, claims: Claims, *, away: bool, idle_tab: bool) -> None:
        if idle_tab:
            changes = await self.registry.set_idle(sid, claims.user, idle=away)
        else:
            changes = await self.registry.set_away(claims.user, away=away)
        await self.announce(changes)

    async def announce(self, changes: PresenceChanges) -> None:
        for usuario, agent in changes.agents.items():
            log.info("agent presence changed", usuario=usuario, estado=agent.estado.value)
            await self.sio.emit(
                Event.PRESENCE.value,
                {"usuario": usuario, "nombre": agent.nombre, "estado": agent.estado.value},
                room=ADMINS_ROOM,
            )
        if changes.support_available is not None:
            await self.sio.emit(
                Event.SUPPORT_AVAILABLE.value,
                {"en_linea": changes.support_available},
                room=CUSTOMERS_ROOM,
            )
        online = any(a.estado is PresenceState.ONLINE for a in changes.agents.values())
        if online and self.on_agent_online is not None:
            # Not awaited: a socket's connect does not wait for the queue to be served.
            task = asyncio.create_task(self._react(self.on_agent_online))
            self._reactions.add(task)
            task.add_done_callback(self._reactions.discard)

    @staticmethod
    async def _react(reaction: Callable[[], Awaitable[None]]) -> None:
        try:
            await reaction()
        except Exception as exc:  # the next sweep serves the queue instead
            log.warning("reacting to an agent online failed", error=str(exc))

    def start(self) -> None:
        self._upkeep.every(self.renew_seconds, self.renew)
        self._upkeep.every(self.sweep_seconds, self.sweep)

    async def stop(self) -> None:
        await self._upkeep.stop()

    async def renew(self) -> None:
        """The heartbeat. A socket the registry dropped meanwhile (this replica stalled past
        the TTL) is counted again if it is still open; if its user is over the cap by now,
        it is closed (its client reconnects)."""
        held = dict(self.local_sockets())
        missing = await self.registry.renew((claims.user, sid) for sid, claims in held.items())
        for _, sid in missing:
            claims = dict(self.local_sockets()).get(sid)
            if claims is None:  # it closed meanwhile
                continue
            try:
                await self.join(sid, claims)
            except TooManySocketsError:
                await self.sio.disconnect(sid)

    async def sweep(self) -> None:
        await self.announce(await self.registry.sweep())
