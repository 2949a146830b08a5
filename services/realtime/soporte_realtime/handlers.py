"""The Socket.IO events of the contract: connect (authenticate, count the socket, join
rooms and register them: room_registry.py), disconnect, `mensaje_privado` (validate,
accept, acknowledge) and `presencia`; the agents' workflow events are in
soporte_realtime.workflow_handlers, `escribiendo` in soporte_realtime.signals."""

from __future__ import annotations

import asyncio
import time
from http.cookies import CookieError, SimpleCookie
from typing import Any, NoReturn

import socketio
from redis.exceptions import RedisError

from soporte_common.contract import ConnectRefusal, PresenceState, RejectCode
from soporte_common.logging import get_logger
from soporte_common.messages import MessageRejectedError, parse_send_request
from soporte_common.tokens import COOKIE_NAME, Claims, InvalidTokenError, SessionGuard
from soporte_realtime import metrics
from soporte_realtime.bus import MessageBus
from soporte_realtime.presence import TooManySocketsError
from soporte_realtime.presence_keeper import PresenceKeeper
from soporte_realtime.room_registry import RoomRegistry
from soporte_realtime.routing import AGENTS_ONLY, rooms_joined
from soporte_realtime.sessions import Sessions
from soporte_realtime.signals import SignalEvents, TypingRelay
from soporte_realtime.visitor_pages import VisitorEvents, VisitorPages
from soporte_realtime.workflow import Workflow
from soporte_realtime.workflow_handlers import WorkflowEvents

log = get_logger(__name__)

REFUSED_LINGER_SECONDS = 1.0
UNAVAILABLE = "No se pudo guardar; inténtalo de nuevo"
_PRESENCE_STATES = {PresenceState.ONLINE.value: False, PresenceState.AWAY.value: True}


def parse_presence(data: object) -> tuple[bool, bool]:
    """`presencia` payload → (away, idle_tab), or MessageRejectedError. `{inactiva: bool}`
    says this tab went idle or came back; `{estado}` alone is the agent's own switch."""
    if isinstance(data, dict) and "inactiva" in data:
        if not isinstance(data["inactiva"], bool):
            raise MessageRejectedError(RejectCode.INVALID, text="inactiva debe ser true o false")
        return data["inactiva"], True
    if not isinstance(data, dict) or data.get("estado") not in _PRESENCE_STATES:
        raise MessageRejectedError(
            RejectCode.INVALID, text="Presencia inválida: se esperaba {estado: en_linea|ausente}"
        )
    return _PRESENCE_STATES[data["estado"]], False


class HandshakeRefusedError(Exception):
    pass


def handshake_token(environ: dict[str, Any], auth: object) -> str:
    """The token from the `auth` payload (scripts) or else the `token` cookie (browsers)."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return str(auth["token"])
    header = environ.get("HTTP_COOKIE")
    if not header:
        raise HandshakeRefusedError(ConnectRefusal.NO_COOKIES)
    cookies = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:
        raise HandshakeRefusedError(ConnectRefusal.NO_TOKEN) from None
    morsel = cookies.get(COOKIE_NAME)
    if morsel is None or not morsel.value:
        raise HandshakeRefusedError(ConnectRefusal.NO_TOKEN)
    return morsel.value


class ChatNamespace(SignalEvents, WorkflowEvents, VisitorEvents, socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        *,
        guard: SessionGuard,
        bus: MessageBus,
        workflow: Workflow,
        sessions: Sessions,
        presence: PresenceKeeper,
        rooms: RoomRegistry,
        typing: TypingRelay,
        pages: VisitorPages,
        max_message_length: int,
    ) -> None:
        super().__init__("/")
        self.guard = guard
        self.bus = bus
        self.workflow = workflow
        self.sessions = sessions
        self.presence = presence
        self.rooms = rooms
        self.typing = typing
        self.pages = pages
        self.max_message_length = max_message_length
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: object = None) -> None:
        try:
            claims = await self.guard.verify(handshake_token(environ, auth))
        except HandshakeRefusedError as exc:
            self._refuse(sid, str(exc), reason=str(exc))
        except InvalidTokenError:
            self._refuse(sid, ConnectRefusal.BAD_TOKEN, reason=ConnectRefusal.BAD_TOKEN)
        except RedisError:
            self._refuse(sid, ConnectRefusal.UNAVAILABLE, reason="redis")
        try:
            await self.presence.join(sid, claims)
        except TooManySocketsError:
            log.warning("too many sockets; refused", usuario=claims.user)
            self._refuse(sid, ConnectRefusal.TOO_MANY, reason="demasiadas")
        except RedisError:
            self._refuse(sid, ConnectRefusal.UNAVAILABLE, reason="redis")
        rooms = rooms_joined(claims)
        for room in rooms:
            await self.enter_room(sid, room)
        try:  # before the client is connected: every emit from now on reaches it
            await self.rooms.joined(rooms)
        except RedisError:
            await self._uncount(sid, claims)  # presence counted it just above
            self._refuse(sid, ConnectRefusal.UNAVAILABLE, reason="redis")
        self.sessions.add(sid, claims)
        log.info("socket connected", sid=sid, usuario=claims.user, rol=claims.rol)

    def _refuse(self, sid: str, message: str, *, reason: str) -> NoReturn:
        """Refuse with the contract's text, then close the engine.io session shortly after
        (once the refusal is delivered): a refused client holds no resources."""
        metrics.CONNECTIONS_REFUSED.labels(reason).inc()
        eio_sid = self.server.manager.eio_sid_from_sid(sid, self.namespace)
        if eio_sid is not None:
            asyncio.get_running_loop().call_later(
                REFUSED_LINGER_SECONDS, self._close_engine, eio_sid
            )
        raise socketio.exceptions.ConnectionRefusedError(message)

    def _close_engine(self, eio_sid: str) -> None:
        task = asyncio.create_task(self.server.eio.disconnect(eio_sid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def on_disconnect(self, sid: str, reason: object = None) -> None:
        claims = self.sessions.get(sid)
        if claims is None:
            return
        self.sessions.remove(sid)
        self.typing.forget(sid)
        log.info("socket disconnected", sid=sid, usuario=claims.user, reason=str(reason))
        await self.rooms.left(rooms_joined(claims))
        await self._uncount(sid, claims)

    async def _uncount(self, sid: str, claims: Claims) -> None:
        try:
            await self.presence.leave(sid, claims)
        except RedisError as exc:  # it stops counting at its TTL instead
            log.warning("could not uncount a closed socket", sid=sid, error=str(exc))

    async def on_presencia(self, sid: str, data: object = None) -> dict[str, object]:
        """Agents only: `{estado: "ausente" | "en_linea", inactiva?: bool}`: the agent's own
        Away switch, or (`inactiva`) this tab went idle or came back."""
        claims = self.sessions.get(sid)
        try:
            if claims is None or claims.rol != "admin":
                raise MessageRejectedError(RejectCode.NOT_ALLOWED, text=AGENTS_ONLY)
            away, idle_tab = parse_presence(data)
            await self.presence.set_state(sid, claims, away=away, idle_tab=idle_tab)
        except MessageRejectedError as exc:
            return exc.ack()
        except RedisError:
            return MessageRejectedError(RejectCode.UNAVAILABLE, text=UNAVAILABLE).ack()
        return {"ok": True}

    async def on_mensaje_privado(self, sid: str, data: object = None) -> dict[str, object]:
        """Returns the acknowledgement: {ok: true, id, fecha} or {ok: false, error, codigo}."""
        started = time.perf_counter()
        claims = self.sessions.get(sid)
        try:
            if claims is None:  # the session ended while this event was in flight
                raise MessageRejectedError(RejectCode.NOT_ALLOWED)
            request = parse_send_request(data, max_length=self.max_message_length)
            accepted = await self.bus.accept(claims, request, sid=sid)
        except MessageRejectedError as exc:
            metrics.REFUSED.labels(exc.code).inc()
            return exc.ack()
        except Exception:
            log.exception("message not accepted", usuario=claims.user if claims else None)
            metrics.REFUSED.labels(RejectCode.UNAVAILABLE).inc()
            return MessageRejectedError(RejectCode.UNAVAILABLE).ack()
        # The message went: the sender's next keystroke is a new "typing", relayed at once
        # (its page signals at once too; a drop here would leave the other side unaware).
        self.typing.forget(sid)
        metrics.ACCEPTED.inc()
        metrics.ACCEPT_LATENCY.observe(time.perf_counter() - started)
        log.debug("message accepted", message_id=accepted.id, de=claims.user, para=request.para)
        return {"ok": True, "id": accepted.id, "fecha": accepted.fecha}
