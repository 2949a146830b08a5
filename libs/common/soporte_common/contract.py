"""The contract's words, one table each: every Socket.IO event, room, handshake refusal,
acknowledgement refusal and HTTP error text that clients match on.

Services read them from here; the browser receives the same tables as an ES module
(`/static/js/contract.js`, rendered from `browser_tables()` by the frontend), so changing a
text is one edit here. docs/contract.md describes what each one means.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Event(StrEnum):
    """Socket.IO event names (Spanish on the wire, as in the original)."""

    # client → server
    SEND_MESSAGE = "mensaje_privado"
    # server → client
    MESSAGE_RECEIVED = "mensaje_recibido"
    RESYNC = "sincronizar"
    SESSION_ENDED = "sesion_terminada"
    # both ways: an agent sets its own state; agents hear every agent's changes
    PRESENCE = "presencia"
    # server → customers: whether any agent is en_linea (on connect and on every change)
    SUPPORT_AVAILABLE = "soporte_disponible"
    # agent → server: the conversation's workflow (agents only)
    SEND_NOTE = "nota_interna"
    CHANGE_STATUS = "cambiar_estado"
    ASSIGN = "asignar"
    # server → admins: a note, and every change of a conversation's status or assignee
    NOTE_RECEIVED = "nota_recibida"
    CONVERSATION_UPDATED = "conversacion_actualizada"
    # website visitor → server: the page of the company's site the visitor is on
    PAGE = "pagina"
    # server → admins: a visitor moved to another page
    VISITOR_PAGE = "pagina_visitante"
    # server → admins: a customer was erased; their conversation is gone (history-api)
    CONVERSATION_ERASED = "conversacion_borrada"
    # both ways, never stored: someone is typing in a conversation (client → server
    # `{con?}`; server → the other side and the other agents `{de, con}`)
    TYPING = "escribiendo"
    # server → client, never stored: the other side has read up to `hasta` (history-api
    # emits it after storing a read mark)
    SEEN = "visto"


class EntryType(StrEnum):
    """`tipo` of an entry in a conversation's log (the stream, the history API)."""

    MESSAGE = "mensaje"
    NOTE = "nota"
    STATUS = "estado"
    ASSIGNMENT = "asignacion"


class ConversationStatus(StrEnum):
    """A conversation's `estado`."""

    OPEN = "abierta"  # needs an agent
    PENDING = "pendiente"  # waiting for the customer
    RESOLVED = "resuelta"
    SNOOZED = "pospuesta"  # until `hasta`


# Every socket joins its user's room; agents also join ADMINS_ROOM, customers CUSTOMERS_ROOM.
ADMINS_ROOM: Final = "admins"
CUSTOMERS_ROOM: Final = "clientes"
USER_ROOM_PREFIX: Final = "user:"

# The handshake query an agent's socket carries: the gateway sends such sockets to the
# agents' replicas, so that an emit every agent needs reaches few replicas (a routing hint
# only: the replica trusts the token, and a socket without it is served anywhere).
AGENT_SOCKET_QUERY: Final = {"rol": "admin"}


def user_room(usuario: str) -> str:
    return f"{USER_ROOM_PREFIX}{usuario}"


# What a customer writes to: the support team as a whole (as in the original).
SUPPORT_TEAM: Final = "admin"


class ConnectRefusal(StrEnum):
    """`connect_error` messages: the original's texts, exactly."""

    NO_COOKIES = "No autenticado"
    NO_TOKEN = "Token no proporcionado"
    BAD_TOKEN = "Token inválido"
    UNAVAILABLE = "Servicio no disponible; reintentando"
    TOO_MANY = "Demasiadas conexiones"


class PresenceState(StrEnum):
    """An agent's `estado` in `presencia` and `GET /api/agentes`."""

    ONLINE = "en_linea"
    AWAY = "ausente"
    OFFLINE = "desconectado"


class SessionEndReason(StrEnum):
    """`sesion_terminada {motivo}`."""

    CLOSED = "cerrada"
    EXPIRED = "expirada"


class AuditAction(StrEnum):
    """`accion` of an entry of the audit trail (`GET /api/auditoria`): what an agent did
    (or, for `retencion`, Soporte itself)."""

    LOGIN = "inicio_sesion"  # an agent signed in
    ASSIGNMENT = "asignacion"  # an agent assigned a conversation (or unassigned it)
    STATUS = "estado"  # an agent changed a conversation's status
    NOTE = "nota"  # an agent wrote an internal note (the trail never holds its text)
    EXPORT = "exportacion"  # an agent exported a customer's data
    ERASURE = "borrado"  # an agent erased a customer (the trail keeps no erased content)
    RETENTION = "retencion"  # the retention period erased old entries (counts only)
    AGENT_CREATED = "agente_creado"  # an operator added an agent account
    SITE_CREATED = "sitio_creado"  # an operator added a website for the widget


class RejectCode(StrEnum):
    """`codigo` of a refused event's acknowledgement `{ok: false, error, codigo}`."""

    INVALID = "invalido"
    EMPTY = "vacio"
    TOO_LONG = "demasiado_largo"
    CHARACTERS = "caracteres"
    RECIPIENT = "destinatario"
    NOT_ALLOWED = "no_permitido"
    RATE = "ritmo"
    UNAVAILABLE = "no_disponible"
    CONFLICT = "conflicto"
    CONVERSATION = "conversacion"
    AGENT = "agente"
    ERASED = "cuenta_borrada"


# `{max}` is replaced by the configured limit.
REJECT_TEXTS: Final[dict[RejectCode, str]] = {
    RejectCode.INVALID: "Mensaje inválido: se esperaba {para, mensaje} con texto",
    RejectCode.EMPTY: "El mensaje está vacío",
    RejectCode.TOO_LONG: "El mensaje supera el máximo de {max} caracteres",
    RejectCode.CHARACTERS: "El mensaje contiene caracteres no permitidos",
    RejectCode.RECIPIENT: "Destinatario desconocido",
    RejectCode.NOT_ALLOWED: "Solo puedes escribir al equipo de soporte",
    RejectCode.RATE: "Estás enviando demasiados mensajes; espera unos segundos",
    RejectCode.UNAVAILABLE: "No se pudo guardar el mensaje; inténtalo de nuevo",
    RejectCode.CONFLICT: "Otro agente cambió la asignación antes",
    RejectCode.CONVERSATION: "Conversación desconocida: con debe ser un cliente",
    RejectCode.AGENT: "Agente desconocido",
    RejectCode.ERASED: "Esta cuenta se ha borrado",
}


class ErrorCode(StrEnum):
    """`codigo` of an HTTP error body `{error, codigo}` (every service, every status)."""

    NOT_AUTHENTICATED = "no_autenticado"
    INVALID_TOKEN = "token_invalido"
    ADMINS_ONLY = "solo_administradores"
    FORBIDDEN = "prohibido"
    BAD_CREDENTIALS = "credenciales"
    USER_EXISTS = "usuario_existe"
    SHORTCUT_EXISTS = "atajo_existe"
    RESERVED_NAME = "nombre_reservado"
    TOO_MANY_ATTEMPTS = "demasiados_intentos"
    TOO_MANY_REQUESTS = "demasiadas_peticiones"
    TOO_MANY_CONNECTIONS = "demasiadas_conexiones"
    INVALID_DATA = "datos_invalidos"
    BAD_REQUEST = "peticion_invalida"
    NOT_FOUND = "no_encontrado"
    METHOD_NOT_ALLOWED = "metodo_no_permitido"
    TOO_LARGE = "demasiado_grande"
    UNAVAILABLE = "no_disponible"
    LOGOUT_FAILED = "sesion_no_cerrada"
    HISTORY_BEHIND = "historial_atrasado"
    INTERNAL = "error_interno"
    # The website widget (docs/contract.md, "The website widget").
    SITE_UNKNOWN = "sitio_desconocido"
    ORIGIN_NOT_REGISTERED = "origen_no_registrado"
    IDENTITY_INVALID = "identidad_invalida"
    VISITOR_UNKNOWN = "visitante_desconocido"


ERROR_TEXTS: Final[dict[ErrorCode, str]] = {
    ErrorCode.NOT_AUTHENTICATED: "No autenticado",
    ErrorCode.INVALID_TOKEN: "Token inválido",
    ErrorCode.ADMINS_ONLY: "Solo administradores",
    ErrorCode.FORBIDDEN: "No tienes permiso para esto",
    ErrorCode.BAD_CREDENTIALS: "Usuario o contraseña incorrectos",
    ErrorCode.USER_EXISTS: "Ese usuario ya existe",
    ErrorCode.SHORTCUT_EXISTS: "Ya hay una respuesta con ese atajo",
    ErrorCode.RESERVED_NAME: "Ese nombre está reservado para el equipo de soporte; elige otro",
    ErrorCode.TOO_MANY_ATTEMPTS: "Demasiados intentos fallidos; espera unos minutos",
    ErrorCode.TOO_MANY_REQUESTS: "Demasiadas peticiones desde tu conexión; espera un minuto",
    ErrorCode.TOO_MANY_CONNECTIONS: (
        "Demasiadas conexiones abiertas desde tu dirección; cierra alguna e inténtalo de nuevo"
    ),
    ErrorCode.INVALID_DATA: "Datos inválidos",
    ErrorCode.BAD_REQUEST: "Petición inválida",
    ErrorCode.NOT_FOUND: "No encontrado",
    ErrorCode.METHOD_NOT_ALLOWED: "Método no permitido",
    ErrorCode.TOO_LARGE: "La petición es demasiado grande",
    ErrorCode.UNAVAILABLE: "Servicio no disponible; inténtalo de nuevo",
    ErrorCode.LOGOUT_FAILED: (
        "No se pudo cerrar la sesión: sigue abierta. Inténtalo de nuevo en unos segundos"
    ),
    ErrorCode.HISTORY_BEHIND: "El historial se está poniendo al día; inténtalo en unos segundos",
    ErrorCode.INTERNAL: "Error interno; inténtalo de nuevo",
    ErrorCode.SITE_UNKNOWN: "Sitio desconocido: revisa data-site en el fragmento del widget",
    ErrorCode.ORIGIN_NOT_REGISTERED: (
        "Esta página no está registrada para el sitio: añade su origen con "
        "soporte-auth create-site --origin"
    ),
    ErrorCode.IDENTITY_INVALID: "La identidad del visitante no es válida",
    ErrorCode.VISITOR_UNKNOWN: "Visitante desconocido: aún no ha escrito",
}


def reject_text(code: RejectCode, *, max_length: int) -> str:
    return REJECT_TEXTS[code].replace("{max}", str(max_length))


def browser_tables() -> dict[str, object]:
    """The tables the browser needs, as JSON-ready data (served as an ES module)."""
    return {
        "EVENTS": {e.name: e.value for e in Event},
        "ENTRY_TYPES": {t.name: t.value for t in EntryType},
        "CONVERSATION_STATES": {s.name: s.value for s in ConversationStatus},
        "ROOMS": {
            "ADMINS": ADMINS_ROOM,
            "CUSTOMERS": CUSTOMERS_ROOM,
            "USER_PREFIX": USER_ROOM_PREFIX,
        },
        "SUPPORT_TEAM": SUPPORT_TEAM,
        "AGENT_SOCKET_QUERY": AGENT_SOCKET_QUERY,
        "CONNECT_REFUSALS": {r.name: r.value for r in ConnectRefusal},
        "SESSION_END_REASONS": {r.name: r.value for r in SessionEndReason},
        "PRESENCE_STATES": {p.name: p.value for p in PresenceState},
        "AUDIT_ACTIONS": {a.name: a.value for a in AuditAction},
        "REJECT_CODES": {c.name: c.value for c in RejectCode},
        "REJECT_TEXTS": {c.value: t for c, t in REJECT_TEXTS.items()},
        "ERROR_CODES": {c.name: c.value for c in ErrorCode},
        "ERROR_TEXTS": {c.value: t for c, t in ERROR_TEXTS.items()},
    }
