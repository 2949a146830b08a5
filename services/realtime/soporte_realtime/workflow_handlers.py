"""The agents' workflow events (agents only; a customer gets `no_permitido`):
`nota_interna {con, mensaje, cid?}`, `cambiar_estado {con, estado, hasta?}` and
`asignar {con, agente, anterior?}`, each answered with an acknowledgement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from redis.exceptions import RedisError

from soporte_common.contract import ConversationStatus, RejectCode
from soporte_common.logging import get_logger
from soporte_common.messages import MessageRejectedError, check_client_id, check_text
from soporte_common.text import is_valid_username
from soporte_common.tokens import Claims
from soporte_realtime import metrics
from soporte_realtime.bus import MessageBus, NoteRequest
from soporte_realtime.routing import require_agent
from soporte_realtime.sessions import Sessions
from soporte_realtime.workflow import AssignRequest, Changed, StatusRequest, Workflow

log = get_logger(__name__)

# How far ahead a snooze may end.
MAX_SNOOZE: Final = timedelta(days=366)
_STATUSES: Final = {s.value: s for s in ConversationStatus}

# What an event does for an agent, once its sender is known to be one.
_Act = Callable[[Claims], Awaitable[Changed]]


def _invalid(text: str) -> MessageRejectedError:
    return MessageRejectedError(RejectCode.INVALID, text=text)


def _customer(data: object, event: str) -> tuple[dict[str, object], str]:
    """The payload as a dict, and its `con`: a customer's username."""
    if not isinstance(data, dict):
        raise _invalid(f"{event} inválido: se esperaba un objeto con con")
    con = data.get("con")
    if not isinstance(con, str) or not is_valid_username(con):
        raise MessageRejectedError(RejectCode.CONVERSATION)
    return data, con


def parse_note(data: object, *, max_length: int) -> NoteRequest:
    payload, con = _customer(data, "nota_interna")
    mensaje = payload.get("mensaje")
    if not isinstance(mensaje, str):
        raise _invalid("Nota inválida: se esperaba {con, mensaje} con texto")
    cid = payload.get("cid")
    check_client_id(cid)
    check_text(mensaje, max_length=max_length)
    return NoteRequest(con=con, mensaje=mensaje, cid=cid if isinstance(cid, str) else None)


def parse_status(data: object, *, now: datetime) -> StatusRequest:
    payload, con = _customer(data, "cambiar_estado")
    asked = payload.get("estado")
    estado = _STATUSES.get(asked) if isinstance(asked, str) else None
    if estado is None:
        raise _invalid("Estado inválido: abierta, pendiente, resuelta o pospuesta")
    hasta = payload.get("hasta")
    if estado is not ConversationStatus.SNOOZED:
        if hasta is not None:
            raise _invalid("hasta solo se indica para pospuesta")
        return StatusRequest(con=con, estado=estado)
    when = _time(hasta)
    if when is None or not now < when <= now + MAX_SNOOZE:
        raise _invalid("hasta: una fecha ISO futura (como mucho dentro de un año)")
    return StatusRequest(con=con, estado=estado, hasta=when)


def _time(value: object) -> datetime | None:
    """An ISO time with its zone, in UTC; None if it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else None


def parse_assign(data: object) -> AssignRequest:
    payload, con = _customer(data, "asignar")
    if "agente" not in payload:
        raise _invalid("Asignación inválida: se esperaba {con, agente} (agente null: nadie)")
    agente = _agent_or_nobody(payload["agente"])
    if "anterior" not in payload:
        return AssignRequest(con=con, agente=agente)
    return AssignRequest(
        con=con, agente=agente, anterior=_agent_or_nobody(payload["anterior"]), check_anterior=True
    )


def _agent_or_nobody(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_valid_username(value):
        raise MessageRejectedError(RejectCode.AGENT)
    return value


class WorkflowEvents:
    """The handlers, mixed into the Socket.IO namespace (soporte_realtime.handlers)."""

    sessions: Sessions
    bus: MessageBus
    workflow: Workflow
    max_message_length: int

    async def on_nota_interna(self, sid: str, data: object = None) -> dict[str, object]:
        claims = self.sessions.get(sid)

        async def note(agent: Claims) -> Changed:
            request = parse_note(data, max_length=self.max_message_length)
            accepted = await self.bus.note(agent, request, sid=sid)
            return Changed(id=accepted.id, fecha=accepted.fecha)

        return await _acknowledge("nota_interna", claims, note)

    async def on_cambiar_estado(self, sid: str, data: object = None) -> dict[str, object]:
        claims = self.sessions.get(sid)

        async def change(agent: Claims) -> Changed:
            return await self.workflow.change_status(
                agent, parse_status(data, now=datetime.now(UTC))
            )

        return await _acknowledge("cambiar_estado", claims, change)

    async def on_asignar(self, sid: str, data: object = None) -> dict[str, object]:
        claims = self.sessions.get(sid)

        async def assign(agent: Claims) -> Changed:
            return await self.workflow.assign(agent, parse_assign(data))

        return await _acknowledge("asignar", claims, assign)


async def _acknowledge(event: str, claims: Claims | None, act: _Act) -> dict[str, object]:
    """{ok: true, id, fecha} (id and fecha null when nothing changed), or the refusal."""
    try:
        changed = await act(require_agent(claims))  # a customer is refused before parsing
    except MessageRejectedError as exc:
        metrics.REFUSED.labels(exc.code).inc()
        return exc.ack()
    except Exception as exc:
        if not isinstance(exc, RedisError):
            log.exception("workflow event failed", name=event)
        else:
            log.warning("workflow event not applied: Redis failed", name=event, error=str(exc))
        metrics.REFUSED.labels(RejectCode.UNAVAILABLE).inc()
        return MessageRejectedError(RejectCode.UNAVAILABLE).ack()
    return {"ok": True, "id": changed.id, "fecha": changed.fecha}
