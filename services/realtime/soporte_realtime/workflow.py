"""The agents' workflow on a conversation: status changes and assignments (each one atomic
script, soporte_realtime.workflow_scripts), and the upkeep every replica runs: snoozes end
at their time, and the waiting queue is served when an agent comes online.

The upkeep runs on every replica; the scripts make each wake and each assignment happen
exactly once however many replicas race, and a snooze whose time passed while Soporte was
down ends at the first sweep after it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from redis.asyncio import Redis

from soporte_common.contract import ConversationStatus, RejectCode
from soporte_common.logging import get_logger
from soporte_common.messages import MessageRejectedError, now_iso
from soporte_common.tokens import Claims
from soporte_realtime.conversation_lua import WorkflowConfig
from soporte_realtime.periodic import PeriodicJobs
from soporte_realtime.routing import route_workflow
from soporte_realtime.script_call import BatchedScript
from soporte_realtime.workflow_scripts import (
    ASSIGN_SCRIPT,
    STATUS_SCRIPT,
    UPKEEP_SCRIPT,
    AssignCall,
    ChangeOutcome,
    ChangeResult,
    StatusCall,
    Upkeep,
    UpkeepCall,
)

log = get_logger(__name__)

# Wakes and assignments per upkeep call (the script runs again while there are more).
UPKEEP_BATCH: Final = 100


@dataclass(frozen=True)
class StatusRequest:
    """A validated `cambiar_estado` payload."""

    con: str
    estado: ConversationStatus
    hasta: datetime | None = None  # aware, UTC; for `pospuesta` only


@dataclass(frozen=True)
class AssignRequest:
    """A validated `asignar` payload."""

    con: str
    agente: str | None  # None: nobody
    anterior: str | None = None  # who the client believes holds it (None: nobody)
    check_anterior: bool = False  # `anterior` was given: compare-and-set


@dataclass(frozen=True)
class Changed:
    """The entry a change appended: None when the conversation already was so."""

    id: str | None
    fecha: str | None


class ConflictError(MessageRejectedError):
    """Someone else holds the conversation (the assignment was a compare-and-set)."""

    def __init__(self, holder: str | None) -> None:
        text = f"La conversación ya la tiene {holder}" if holder else "Nadie tiene la conversación"
        super().__init__(RejectCode.CONFLICT, text=text)
        self.holder = holder

    def ack(self) -> dict[str, object]:
        return {**super().ack(), "asignado": self.holder}


_REFUSALS: Final = {
    ChangeOutcome.CONVERSATION: RejectCode.CONVERSATION,
    ChangeOutcome.AGENT: RejectCode.AGENT,
}


def iso_ms(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Workflow:
    def __init__(self, redis: Redis, *, config: WorkflowConfig, sweep_seconds: float) -> None:
        self.config = config
        self.sweep_seconds = sweep_seconds
        self._status = BatchedScript(redis, STATUS_SCRIPT)
        self._assign = BatchedScript(redis, ASSIGN_SCRIPT)
        self._upkeep = BatchedScript(redis, UPKEEP_SCRIPT)
        self._periodic = PeriodicJobs("conversation")

    async def change_status(self, agent: Claims, request: StatusRequest) -> Changed:
        """MessageRejectedError if not allowed; RedisError if Redis fails."""
        route = route_workflow(agent, request.con)
        fecha = now_iso()
        hasta = request.hasta
        result = ChangeResult.from_script(
            await self._status(
                StatusCall(
                    context=self.config.context(fecha),
                    por=agent.user,
                    con=route.conversation,
                    estado=request.estado.value,
                    hasta=iso_ms(hasta) if hasta else "",
                    hasta_ms=str(int(hasta.timestamp() * 1000)) if hasta else "",
                )
            )
        )
        return self._changed(result, fecha)

    async def assign(self, agent: Claims, request: AssignRequest) -> Changed:
        """MessageRejectedError (ConflictError) if not allowed; RedisError if Redis fails."""
        route = route_workflow(agent, request.con)
        fecha = now_iso()
        result = ChangeResult.from_script(
            await self._assign(
                AssignCall(
                    context=self.config.context(fecha),
                    por=agent.user,
                    con=route.conversation,
                    agente=request.agente or "",
                    anterior=request.anterior or "",
                    check_anterior=int(request.check_anterior),
                )
            )
        )
        if result.outcome is ChangeOutcome.CONFLICT:
            raise ConflictError(result.value or None)
        return self._changed(result, fecha)

    @staticmethod
    def _changed(result: ChangeResult, fecha: str) -> Changed:
        if result.outcome in _REFUSALS:
            raise MessageRejectedError(_REFUSALS[result.outcome])
        if result.outcome is ChangeOutcome.SAME:
            return Changed(id=None, fecha=None)
        return Changed(id=result.value, fecha=fecha)

    async def upkeep(self) -> None:
        """End the snoozes whose time came and serve the waiting queue, until done."""
        while True:
            done = Upkeep.from_script(
                await self._upkeep(
                    UpkeepCall(context=self.config.context(now_iso()), limit=UPKEEP_BATCH)
                )
            )
            if done.woken or done.served:
                log.info("conversation upkeep", woken=done.woken, assigned=done.served)
            if not done.more:
                return

    def start(self) -> None:
        # The first round runs at once: snoozes that ended while Soporte was down end now.
        self._periodic.every(self.sweep_seconds, self.upkeep, at_once=True)

    async def stop(self) -> None:
        await self._periodic.stop()
