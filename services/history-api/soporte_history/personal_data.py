"""Where Soporte keeps a customer's data besides the conversation log, in one place: what an
export reads and what an erasure deletes (soporte_history.export, soporte_history.erasure).

A new place that holds a customer's data is one line here: a `PersonalData` for a table
(its export section and its delete), a `PERSONAL_KEYS` entry for a Redis key (the widget's
visitors are both).

Tables of other services: history-api owns the erasure, so it deletes the customer's row of
auth's `usuarios` (and reads it for the export) in the same transaction as its own tables;
this module is the only place it touches another service's table (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from soporte_common import keys


@dataclass(frozen=True)
class PersonalData:
    """A table holding a customer's data. Every query takes the username as $1."""

    section: str  # its key in the export document
    select: str | None  # the agents' export (None: erased, never exported)
    own: str | None  # the customer's own copy (None: left out, it is about the team)
    delete: str
    many: bool = True  # a list of rows; else the one row, or null


_ACCOUNT = "SELECT usuario, nombre, rol, creado FROM usuarios WHERE usuario = $1 AND rol = 'user'"

_VISITOR = (
    "SELECT v.sitio, s.nombre AS sitio_nombre, v.sub IS NOT NULL AS verificado, v.sub, "
    "v.email, v.creado FROM visitantes v LEFT JOIN sitios s ON s.sitio = v.sitio "
    "WHERE v.usuario = $1"
)

PERSONAL_DATA: Final = (
    # auth's table: the account, never its password hash; agents are never erased here.
    PersonalData(
        "cuenta",
        _ACCOUNT,
        _ACCOUNT,
        "DELETE FROM usuarios WHERE usuario = $1 AND rol = 'user'",
        many=False,
    ),
    # A website visitor (auth's table): the site, the identity the company gave, never the
    # credential (kept only as a hash). Deleted with the account too (ON DELETE CASCADE).
    PersonalData(
        "visitante",
        _VISITOR,
        _VISITOR,
        "DELETE FROM visitantes WHERE usuario = $1",
        many=False,
    ),
    # The conversation's state: who holds it is the team's business.
    PersonalData(
        "conversacion",
        "SELECT nombre, estado, asignado, pospuesta_hasta FROM conversaciones WHERE usuario = $1",
        None,
        "DELETE FROM conversaciones WHERE usuario = $1",
        many=False,
    ),
    # How far each reader has read the conversation (the customer's own marks included).
    PersonalData(
        "lecturas",
        # hasta: a position in the log, written as its ids are ("<ms>-<seq>")
        "SELECT lector, (hasta / 1000000)::text || '-' || (hasta % 1000000)::text AS hasta "
        "FROM lecturas WHERE conversacion = $1 OR lector = $1 ORDER BY lector",
        "SELECT lector, (hasta / 1000000)::text || '-' || (hasta % 1000000)::text AS hasta "
        "FROM lecturas WHERE lector = $1",
        "DELETE FROM lecturas WHERE conversacion = $1 OR lector = $1",
    ),
    # Support cycles: measurements (ids and times) derived from the log.
    PersonalData("ciclos", None, None, "DELETE FROM ciclos WHERE conversacion = $1"),
)


def _user_sockets(usuario: str) -> str:
    return f"{keys.USER_SOCKETS_PREFIX}{usuario}"


def _idle_sockets(usuario: str) -> str:
    return f"{keys.IDLE_SOCKETS_PREFIX}{usuario}"


def _client_ids(usuario: str) -> str:
    return keys.client_message_id(usuario, "*")


def _login_attempts_from(usuario: str) -> str:
    return keys.login_attempts_from(usuario, "*")


# Redis keys of one customer (a `*` makes a pattern: usernames never hold one), deleted once
# the erasure has stored its last word: the user directory and the conversation's state go
# in its first, atomic step (soporte_history.erasure).
PERSONAL_KEYS: Final[tuple[Callable[[str], str], ...]] = (
    _client_ids,  # "<id> <fecha>" of each message sent with a client id, for 24 h
    keys.send_rate,
    _user_sockets,  # open sockets (presence)
    _idle_sockets,
    keys.login_attempts,
    _login_attempts_from,  # login attempts by address
    keys.login_known_addresses,  # the addresses they logged in from
    keys.visitor_page,  # the company's page a website visitor is on
    keys.visitor_page_rate,
)
