"""The bodies history-api answers with and accepts, as pydantic models: what
`/api/openapi.json` describes (docs/contract.md says what each field means)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from soporte_common import web
from soporte_common.contract import AuditAction, ConversationStatus, EntryType, PresenceState
from soporte_common.text import USERNAME_PATTERN


class LoggedMessage(BaseModel):
    """A message (what customers read: the only type they are ever given)."""

    tipo: Literal[EntryType.MESSAGE] = EntryType.MESSAGE
    id: str
    de: str
    para: str
    mensaje: str
    fecha: str


class LoggedNote(BaseModel):
    """An internal note (agents only)."""

    tipo: Literal[EntryType.NOTE] = EntryType.NOTE
    id: str
    de: str
    mensaje: str
    fecha: str


class LoggedStatus(BaseModel):
    """A status change (agents only)."""

    tipo: Literal[EntryType.STATUS] = EntryType.STATUS
    id: str
    de: str | None = Field(description="the agent; null when automatic")
    estado: ConversationStatus
    hasta: str | None = Field(description="until when, for `pospuesta`")
    fecha: str


class LoggedAssignment(BaseModel):
    """A change of who holds the conversation (agents only)."""

    tipo: Literal[EntryType.ASSIGNMENT] = EntryType.ASSIGNMENT
    id: str
    de: str | None = Field(description="the agent; null when automatic")
    asignado: str | None = Field(description="null: nobody")
    fecha: str


LogEntry = Annotated[
    LoggedMessage | LoggedNote | LoggedStatus | LoggedAssignment, Field(discriminator="tipo")
]


class MessagePage(BaseModel):
    """A page of one conversation, oldest first (for a customer, its messages only)."""

    mensajes: list[LogEntry]
    hay_anteriores: bool = Field(description="there are older messages (page with `before`)")
    hay_siguientes: bool = Field(description="there are newer messages (page with `after`)")
    leido_hasta: str | None = Field(
        default=None,
        description="a customer's own conversation, newest page: the last entry they have "
        "read (their read mark; null: none yet, or an older or catch-up page), so a page "
        "loaded later shows what came after as unread",
    )


class VisitorPageInfo(BaseModel):
    url: str
    titulo: str
    fecha: str = Field(description="when the visitor's widget reported it")


class VisitorInfo(BaseModel):
    """A website visitor's conversation: where it comes from and who vouches for it."""

    sitio: str = Field(description="the site's key")
    sitio_nombre: str | None = Field(description="the site's name; null if it was deleted")
    verificado: bool = Field(description="the company's backend signed who this is")
    email: str | None = Field(description="as the company signed it (verified visitors)")
    pagina: VisitorPageInfo | None = Field(
        description="the page the visitor last reported (kept a day); null if none"
    )


class ConversationSummary(BaseModel):
    """One customer's conversation in the agents' list."""

    usuario: str
    nombre: str = Field(description="the customer's display name (their username if unknown)")
    ultimo_id: str
    ultimo_de: str
    ultimo_mensaje: str
    fecha: str
    no_leidos: int = Field(description="messages from the customer after the caller's read mark")
    estado: ConversationStatus
    asignado: str | None = Field(description="the agent who holds it; null: nobody")
    pospuesta_hasta: str | None = Field(description="while `pospuesta`: until when")
    visitante: VisitorInfo | None = Field(
        None, description="a website visitor's site, page and identity; null for accounts"
    )


class ConversationList(BaseModel):
    """Customers with messages, newest activity first."""

    conversaciones: list[ConversationSummary]
    hay_mas: bool = Field(description="there are more (page with `before` = the last ultimo_id)")


class ConversationCounts(BaseModel):
    """How many conversations each of the agents' tabs holds."""

    mias: int = Field(description="held by the caller, not resuelta")
    sin_asignar: int = Field(description="held by nobody, not resuelta")
    abierta: int
    pendiente: int
    pospuesta: int
    resuelta: int


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
    unstored: int  # entries not yet stored and acknowledged (pending + not yet delivered)
    # The shape the load harness (bench/harness) reads as "messages not yet stored".
    counters: dict[str, int]


# When each error status is answered (the models are the shared ones of soporte_common.web).
_ERRORS: dict[int, str] = {
    400: "`before` and `after` together",
    401: "not signed in, or the session is over",
    403: "signed in, but not allowed to do this",
    404: "no such canned reply, or no such customer",
    409: "another canned reply has that shortcut",
    422: "a parameter or field is not valid",
    503: "history is still storing what was sent, or Redis is unreachable: retry",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that can answer these error statuses."""
    return web.error_responses({s: text for s, text in _ERRORS.items() if s in statuses})


class SearchResult(BaseModel):
    """A message or a note that matched: plain text (the client highlights it)."""

    id: str
    tipo: Literal[EntryType.MESSAGE, EntryType.NOTE]
    conversacion: str = Field(description="the customer whose conversation it is in")
    de: str
    mensaje: str
    fecha: str


class SearchResults(BaseModel):
    resultados: list[SearchResult] = Field(description="newest first")


class CannedReplyBody(BaseModel):
    atajo: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[\w.-]+$",
        description="what the agent types after `/`: letters, digits, `.`, `-` and `_`",
    )
    texto: str = Field(min_length=1, max_length=4000)


class CannedReply(CannedReplyBody):
    id: int


class Durations(BaseModel):
    """Seconds, over the conversations measured (`n`); null when there were none."""

    n: int
    mediana_segundos: float | None
    p90_segundos: float | None


class AgentReport(BaseModel):
    agente: str
    nombre: str
    primera_respuesta: Durations = Field(description="the cycles this agent answered first")
    resolucion: Durations = Field(description="the cycles resolved while this agent held them")


class Report(BaseModel):
    """What a support lead asks for, over the last `dias` days."""

    dias: int
    desde: str
    abiertas: int = Field(description="conversations opened or reopened")
    resueltas: int
    primera_respuesta: Durations
    resolucion: Durations
    por_agente: list[AgentReport]


class ResponseTime(BaseModel):
    """The team's median first response over the last 30 days (null: none measured)."""

    mediana_segundos: float | None


class AgentStatus(BaseModel):
    usuario: str
    nombre: str
    estado: PresenceState


class AuditEvent(BaseModel):
    """One entry of the audit trail: who did what to whom, when (never what was written)."""

    id: int = Field(description="the entry's number (page with `antes`)")
    fecha: str
    agente: str | None = Field(description="the agent; null when no agent acted")
    accion: AuditAction
    objetivo: str = Field(description="whom or what it was done to")
    detalles: dict[str, Any] = Field(description="the new status, counts...: never content")


class AuditPage(BaseModel):
    """The audit trail, newest first."""

    eventos: list[AuditEvent]
    hay_mas: bool = Field(description="there are older ones (page with `antes` = the last id)")


class ExportDocument(BaseModel):
    """Everything Soporte holds about one customer. Sections other parts of Soporte keep
    (the widget's visitor and site) are added by name."""

    model_config = ConfigDict(extra="allow")

    usuario: str
    exportado: str = Field(description="when this document was made")
    cuenta: dict[str, Any] | None = Field(description="the account (never its password)")
    conversacion: dict[str, Any] | None = Field(
        None, description="agents' copy: the conversation's state now"
    )
    mensajes: list[LogEntry] = Field(
        description="the whole conversation, oldest first (the customer's copy: its messages)"
    )
    lecturas: list[dict[str, Any]] = Field(description="read marks: who read up to where")
