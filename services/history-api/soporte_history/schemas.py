"""The bodies history-api answers with and accepts, as pydantic models: what
`/api/openapi.json` describes (docs/contract.md says what each field means)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from soporte_common import web
from soporte_common.messages import Message
from soporte_common.text import USERNAME_PATTERN


class MessagePage(BaseModel):
    """A page of one conversation, oldest first."""

    mensajes: list[Message]
    hay_anteriores: bool = Field(description="there are older messages (page with `before`)")
    hay_siguientes: bool = Field(description="there are newer messages (page with `after`)")


class ConversationSummary(BaseModel):
    """One customer's conversation in the agents' list."""

    usuario: str
    nombre: str = Field(description="the customer's display name (their username if unknown)")
    ultimo_id: str
    ultimo_de: str
    ultimo_mensaje: str
    fecha: str
    no_leidos: int = Field(description="messages from the customer after the caller's read mark")


class ConversationList(BaseModel):
    """Customers with messages, newest activity first."""

    conversaciones: list[ConversationSummary]
    hay_mas: bool = Field(description="there are more (page with `before` = the last ultimo_id)")


class ReadMark(BaseModel):
    hasta: str = Field(description="the id of the last message read")
    con: str | None = Field(
        None,
        pattern=USERNAME_PATTERN,
        description="the customer's conversation (agents only)",
    )


class StreamBacklog(BaseModel):
    """The persistence backlog as numbers (operators, tests): internal port only."""

    length: int
    pending: int
    last_generated: str
    last_delivered: str
    oldest_pending: str | None
    # The shape the load harness (bench/harness) reads as "messages not yet stored".
    counters: dict[str, int]


# When each error status is answered (the models are the shared ones of soporte_common.web).
_ERRORS: dict[int, str] = {
    400: "`before` and `after` together",
    401: "not signed in, or the session is over",
    403: "signed in, but not allowed to do this",
    422: "a parameter or field is not valid",
    503: "history is still storing what was sent, or Redis is unreachable: retry",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that can answer these error statuses."""
    return web.error_responses({s: text for s, text in _ERRORS.items() if s in statuses})
