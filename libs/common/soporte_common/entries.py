"""The entries of a conversation's log besides messages (soporte_common.messages has
those): internal notes, status changes and assignments, as the `mensajes` stream holds
them.

A note is built by realtime in Python. Status changes and assignments are appended by
realtime's conversation scripts (Lua), because the automatic ones (a customer's message
reopens, a snooze ends, auto-assignment) are decided inside them: the field names here are
the ones those scripts write, and history-api parses every entry with these models.
(The conversation's live state in Redis: soporte_common.conversation_state.)
"""

from __future__ import annotations

from typing import Literal

from soporte_common.contract import ConversationStatus, EntryType
from soporte_common.messages import EntryFields


class NoteEntry(EntryFields):
    """An internal note: agents only, never a customer."""

    tipo: Literal[EntryType.NOTE] = EntryType.NOTE
    de: str  # the agent
    nombre: str
    conversacion: str
    mensaje: str
    fecha: str


class StatusEntry(EntryFields):
    """A change of a conversation's `estado`."""

    tipo: Literal[EntryType.STATUS] = EntryType.STATUS
    de: str  # the agent; "" when automatic
    conversacion: str
    estado: ConversationStatus
    anterior: str  # the status before ("" for a new conversation)
    asignado: str  # who holds the conversation at this moment ("": nobody)
    hasta: str = ""  # ISO UTC time, for `pospuesta` only
    # For `resuelta`: the id of the entry that opened the cycle it closes ("" if unknown).
    ciclo: str = ""
    fecha: str


class AssignmentEntry(EntryFields):
    """A change of who holds a conversation."""

    tipo: Literal[EntryType.ASSIGNMENT] = EntryType.ASSIGNMENT
    de: str  # the agent; "" when automatic
    conversacion: str
    asignado: str  # "": nobody
    anterior: str  # who held it before ("": nobody)
    fecha: str


def opens_a_cycle(estado: str, anterior: str) -> bool:
    """A support cycle (first response time, resolution time) starts when a conversation
    becomes `abierta` from nothing (a new conversation) or from `resuelta`."""
    return estado == ConversationStatus.OPEN and anterior in ("", ConversationStatus.RESOLVED)
