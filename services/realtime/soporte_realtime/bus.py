"""Accepting what people write (a message, an internal note): route it (routing.py), build
the stream entry and the emit, and run the accept script (accept_script.py), which appends
and publishes in one atomic step. The sender gets the entry's id and time, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import Event, RejectCode
from soporte_common.entries import NoteEntry
from soporte_common.messages import (
    EntryFields,
    MessageRejectedError,
    SendRequest,
    StreamEntry,
    now_iso,
)
from soporte_common.tokens import Claims
from soporte_realtime.accept_script import AcceptCall, AcceptOutcome, AcceptScript, Writer
from soporte_realtime.channel import ID_PLACEHOLDER, emit_payload, room_list, sender_room_list
from soporte_realtime.conversation_lua import WorkflowConfig
from soporte_realtime.routing import Route, rooms_joined, route_message, route_workflow

# The script's refusals, as each writer hears them: a note names a conversation, not a
# recipient; an agent writing to a customer being erased is told the customer does not
# exist (as after the erasure), the customer that their account is being erased.
_REFUSALS: Final = {
    AcceptOutcome.RECIPIENT: RejectCode.RECIPIENT,
    AcceptOutcome.RATE: RejectCode.RATE,
    AcceptOutcome.ERASED: RejectCode.RECIPIENT,
}
REFUSALS: Final = {
    Writer.AGENT: _REFUSALS,
    Writer.CUSTOMER: _REFUSALS | {AcceptOutcome.ERASED: RejectCode.ERASED},
    Writer.NOTE: _REFUSALS
    | {
        AcceptOutcome.RECIPIENT: RejectCode.CONVERSATION,
        AcceptOutcome.ERASED: RejectCode.CONVERSATION,
    },
}


@dataclass(frozen=True)
class Accepted:
    id: str
    fecha: str


@dataclass(frozen=True)
class NoteRequest:
    """A validated `nota_interna` payload."""

    con: str
    mensaje: str
    cid: str | None = None


class MessageBus:
    def __init__(
        self,
        redis: Redis,
        *,
        replica: str,
        rate_limit: int,
        rate_window_ms: int,
        client_id_ttl: int,
        workflow: WorkflowConfig,
    ) -> None:
        self._script = AcceptScript(redis)
        self.replica = replica
        self.rate_limit = rate_limit
        self.rate_window_ms = rate_window_ms
        self.client_id_ttl = client_id_ttl
        self.workflow = workflow

    async def accept(
        self, sender: Claims, request: SendRequest, *, sid: str | None = None
    ) -> Accepted:
        """Append and publish, or raise MessageRejectedError (RedisError if Redis fails).
        `sid`, the sending socket, gets no echo: its acknowledgement has the id and time."""
        route = route_message(sender, request.para)
        fecha = now_iso()
        entry = StreamEntry(
            de=sender.user,
            nombre=sender.nombre,
            para=request.para,
            conversacion=route.conversation,
            mensaje=request.mensaje,
            fecha=fecha,
        )
        live = {
            "id": ID_PLACEHOLDER,
            "de": entry.de,
            "para": entry.para,
            "mensaje": entry.mensaje,
            "fecha": fecha,
        }
        writer = Writer.AGENT if sender.rol == "admin" else Writer.CUSTOMER
        return await self._append(
            sender, route, entry, Event.MESSAGE_RECEIVED, live, writer, cid=request.cid, sid=sid
        )

    async def note(
        self, sender: Claims, request: NoteRequest, *, sid: str | None = None
    ) -> Accepted:
        """An internal note: agents only, delivered to every agent (but `sid`), never to a
        customer."""
        route = route_workflow(sender, request.con)
        fecha = now_iso()
        entry = NoteEntry(
            de=sender.user,
            nombre=sender.nombre,
            conversacion=route.conversation,
            mensaje=request.mensaje,
            fecha=fecha,
        )
        live = {
            "id": ID_PLACEHOLDER,
            "de": entry.de,
            "con": entry.conversacion,
            "mensaje": entry.mensaje,
            "fecha": fecha,
        }
        return await self._append(
            sender, route, entry, Event.NOTE_RECEIVED, live, Writer.NOTE, cid=request.cid, sid=sid
        )

    async def _append(
        self,
        sender: Claims,
        route: Route,
        entry: EntryFields,
        event: Event,
        live: dict[str, str],
        writer: Writer,
        *,
        cid: str | None,
        sid: str | None,
    ) -> Accepted:
        """Append `entry` and publish `event` with `live` to the route's rooms."""
        head, tail = emit_payload(event, route.rooms, live, skip_sid=sid)
        fecha = live["fecha"]
        result = await self._script(
            AcceptCall(
                context=self.workflow.context(fecha),
                erased=keys.erased(route.conversation),
                send_rate=keys.send_rate(sender.user),
                client_id=keys.client_message_id(sender.user, cid or "-"),
                rate_limit=self.rate_limit,
                rate_window_ms=self.rate_window_ms,
                must_be_customer=route.must_be_customer or "",
                client_id_ttl=self.client_id_ttl if cid else 0,
                emit_head=head,
                emit_tail=tail,
                rooms=room_list(route.rooms),
                sender_replica=self.replica,
                sender_rooms=sender_room_list(rooms_joined(sender) if sid else []),
                conversation=route.conversation,
                writer=writer,
                entry=entry,
            )
        )
        refusals = REFUSALS[writer]
        if result.outcome in refusals:
            raise MessageRejectedError(refusals[result.outcome])
        # OK, or REPEATED: a retry of an entry already accepted, same id, nothing stored twice.
        return Accepted(id=result.id, fecha=result.fecha)
