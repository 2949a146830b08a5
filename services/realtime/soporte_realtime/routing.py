"""Realtime's routing rules, in one place: which rooms a socket joins, who may send what to
whom, which conversation an event belongs to, and which rooms receive it live.

Each kind of event a client sends has one function here that returns its `Route`, or
refuses with the contract's code (MessageRejectedError). What depends on the user
directory (is the recipient a customer?) is not decided here: the directory changes at any
moment, so the route names the customer to check and the accept script checks it in the
same atomic step as the append. A new event is one more function: its permission, its
conversation, its rooms (notes, status changes and assignments: agents only, to agents).
Live signals that are never stored (`escribiendo`) are routed here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from soporte_common.contract import (
    ADMINS_ROOM,
    CUSTOMERS_ROOM,
    SUPPORT_TEAM,
    RejectCode,
    user_room,
)
from soporte_common.messages import MessageRejectedError
from soporte_common.tokens import Claims

AGENTS_ONLY = "Solo el equipo de soporte puede hacer esto"


@dataclass(frozen=True)
class Route:
    conversation: str  # the customer whose conversation the event belongs to
    rooms: list[str]  # who receives it live
    # Must be a customer in the user directory at the moment the event is accepted.
    must_be_customer: str | None = None


def rooms_joined(claims: Claims) -> list[str]:
    """Every socket joins its user's room; an agent's also joins every agent's room, a
    customer's every customer's room (whether support is available goes to all of them)."""
    if claims.rol == "admin":
        return [user_room(claims.user), ADMINS_ROOM]
    return [user_room(claims.user), CUSTOMERS_ROOM]


def conversation_of(de: str, rol: str, para: str) -> str:
    """A conversation is named after its customer: the sender, unless an agent wrote."""
    return para if rol == "admin" else de


def rooms_for(sender: Claims, para: str) -> list[str]:
    """The recipient, every agent, and the sender's own other tabs (the sending socket is
    skipped: it has the acknowledgement); a socket in several of these rooms still receives
    the message once (python-socketio merges room lists)."""
    if sender.rol == "admin":
        return [user_room(para), ADMINS_ROOM]
    return [user_room(para), ADMINS_ROOM, user_room(sender.user)]


def route_message(sender: Claims, para: str) -> Route:
    """`mensaje_privado`: a customer writes to the support team; an agent to a customer."""
    if sender.rol == "admin":
        if para == SUPPORT_TEAM:
            raise MessageRejectedError(RejectCode.RECIPIENT)
    elif para != SUPPORT_TEAM:
        raise MessageRejectedError(RejectCode.NOT_ALLOWED)
    return Route(
        conversation=conversation_of(sender.user, sender.rol, para),
        rooms=rooms_for(sender, para),
        must_be_customer=para if sender.rol == "admin" else None,
    )


def require_agent(sender: Claims | None) -> Claims:
    """Agents-only events (the workflow, presence): a customer, or a session that just
    ended, is refused."""
    if sender is None or sender.rol != "admin":
        raise MessageRejectedError(RejectCode.NOT_ALLOWED, text=AGENTS_ONLY)
    return sender


def route_workflow(sender: Claims, con: str) -> Route:
    """`nota_interna`, `cambiar_estado`, `asignar`: agents only, on a customer's
    conversation; seen live by every agent and never by a customer."""
    require_agent(sender)
    return Route(conversation=con, rooms=[ADMINS_ROOM], must_be_customer=con)


@dataclass(frozen=True)
class TypingRoute:
    conversation: str
    # Each emit: the rooms, and who they are told is typing.
    emits: list[tuple[list[str], str]]
    must_be_customer: str | None = None


def route_typing(sender: Claims, con: str | None) -> TypingRoute:
    """`escribiendo`: a customer types in their own conversation, and every agent sees
    who; an agent types in a customer's (`con`), and the customer sees the team typing
    (never which agent: customers are not told who answers) while the other agents see
    who (two agents about to answer the same question). Never reaches another customer."""
    if sender.rol != "admin":
        if con not in (None, sender.user):
            raise MessageRejectedError(RejectCode.NOT_ALLOWED)
        return TypingRoute(conversation=sender.user, emits=[([ADMINS_ROOM], sender.user)])
    if con is None:
        raise MessageRejectedError(RejectCode.CONVERSATION)
    return TypingRoute(
        conversation=con,
        emits=[([user_room(con)], SUPPORT_TEAM), ([ADMINS_ROOM], sender.user)],
        must_be_customer=con,
    )
