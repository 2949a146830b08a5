"""Accepting what a client sends: route it (routing.py), build the stream entry and the
emit, and run the accept script (accept_script.py), which appends and publishes in one
atomic step. The sender gets the entry's id and time, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import Event, RejectCode
from soporte_common.messages import MessageRejectedError, SendRequest, StreamEntry, now_iso
from soporte_common.tokens import Claims
from soporte_realtime.accept_script import AcceptCall, AcceptOutcome, AcceptScript
from soporte_realtime.channel import ID_PLACEHOLDER, emit_payload
from soporte_realtime.routing import Route, route_message

# The script's refusals, as the sender hears them.
REFUSALS: Final = {
    AcceptOutcome.RECIPIENT: RejectCode.RECIPIENT,
    AcceptOutcome.RATE: RejectCode.RATE,
}


@dataclass(frozen=True)
class Accepted:
    id: str
    fecha: str


class MessageBus:
    def __init__(
        self, redis: Redis, *, rate_limit: int, rate_window_ms: int, client_id_ttl: int
    ) -> None:
        self._script = AcceptScript(redis)
        self.rate_limit = rate_limit
        self.rate_window_ms = rate_window_ms
        self.client_id_ttl = client_id_ttl

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
        return await self._append(
            sender, route, entry, Event.MESSAGE_RECEIVED, live, cid=request.cid, sid=sid
        )

    async def _append(
        self,
        sender: Claims,
        route: Route,
        entry: StreamEntry,
        event: Event,
        live: dict[str, str],
        *,
        cid: str | None,
        sid: str | None,
    ) -> Accepted:
        """Append `entry` and publish `event` with `live` to the route's rooms."""
        head, tail = emit_payload(event, route.rooms, live, skip_sid=sid)
        result = await self._script(
            AcceptCall(
                stream=keys.STREAM,
                send_rate=keys.send_rate(sender.user),
                user_directory=keys.USER_DIRECTORY,
                client_id=keys.client_message_id(sender.user, cid or "-"),
                channel=keys.SOCKETIO_CHANNEL,
                rate_limit=self.rate_limit,
                rate_window_ms=self.rate_window_ms,
                must_be_customer=route.must_be_customer or "",
                client_id_ttl=self.client_id_ttl if cid else 0,
                emit_head=head,
                emit_tail=tail,
                fecha=entry.fecha,
                entry=entry,
            )
        )
        if result.outcome in REFUSALS:
            raise MessageRejectedError(REFUSALS[result.outcome])
        # OK, or REPEATED: a retry of an entry already accepted, same id, nothing stored twice.
        return Accepted(id=result.id, fecha=result.fecha)
