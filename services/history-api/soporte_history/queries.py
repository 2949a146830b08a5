"""The history reads: keyset-paged conversations (every entry type for agents, messages only
for customers), the agents' conversation list with its filters, and the tabs' counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy
from redis.asyncio import Redis

from soporte_common import sites
from soporte_common.contract import ConversationStatus, EntryType
from soporte_common.messages import BIGINT_MAX, db_id_to_stream
from soporte_common.visitors import VisitorProfile, visitor_profiles
from soporte_history.schemas import (
    ConversationCounts,
    ConversationList,
    ConversationSummary,
    LogEntry,
    LoggedAssignment,
    LoggedMessage,
    LoggedNote,
    LoggedStatus,
    MessagePage,
    VisitorInfo,
    VisitorPageInfo,
)


def like_escape(text: str) -> str:
    """`text` matched literally inside a LIKE pattern (backslash is Postgres' escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _entry(row: asyncpg.Record) -> LogEntry:
    entry_id, de, fecha = db_id_to_stream(row["id"]), row["de_usuario"], iso(row["fecha"])
    tipo = EntryType(row["tipo"])
    if tipo is EntryType.MESSAGE:
        return LoggedMessage(
            id=entry_id, de=de, para=row["para_usuario"], mensaje=row["mensaje"], fecha=fecha
        )
    if tipo is EntryType.NOTE:
        return LoggedNote(id=entry_id, de=de, mensaje=row["mensaje"], fecha=fecha)
    datos: dict[str, Any] = orjson.loads(row["datos"])
    if tipo is EntryType.STATUS:
        return LoggedStatus(
            id=entry_id, de=de, estado=datos["estado"], hasta=datos["hasta"] or None, fecha=fecha
        )
    return LoggedAssignment(id=entry_id, de=de, asignado=datos["asignado"] or None, fecha=fecha)


# Customers are given their messages only: never a note, a status or an assignment.
_COLUMNS = "id, tipo, de_usuario, para_usuario, mensaje, fecha, datos"
_VISIBLE = {True: "AND tipo = 'mensaje'", False: ""}


async def conversation_page(
    db: asyncpg.Pool,
    conversacion: str,
    *,
    limit: int,
    before: int | None,
    after: int | None,
    messages_only: bool,
) -> MessagePage:
    """Oldest first. Default: the newest `limit`. `before`: the page older than that id.
    `after`: what came after that id (catch-up), oldest first, `limit` at a time."""
    visible = _VISIBLE[messages_only]
    if after is not None:
        rows = await db.fetch(
            f"SELECT {_COLUMNS} FROM mensajes WHERE conversacion = $1 AND id > $2 {visible} "  # noqa: S608
            "ORDER BY id LIMIT $3",
            conversacion,
            after,
            limit + 1,
        )
        more = len(rows) > limit
        return MessagePage(
            mensajes=[_entry(r) for r in rows[:limit]], hay_anteriores=True, hay_siguientes=more
        )
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM mensajes WHERE conversacion = $1 AND id < $2 {visible} "  # noqa: S608
        "ORDER BY id DESC LIMIT $3",
        conversacion,
        before if before is not None else BIGINT_MAX,
        limit + 1,
    )
    more = len(rows) > limit
    return MessagePage(
        mensajes=[_entry(r) for r in reversed(rows[:limit])],
        hay_anteriores=more,
        hay_siguientes=before is not None,
    )


async def read_mark(db: asyncpg.Pool, lector: str, conversacion: str) -> str | None:
    """How far `lector` has read `conversacion` (a stream id), or None."""
    hasta: int | None = await db.fetchval(
        "SELECT hasta FROM lecturas WHERE lector = $1 AND conversacion = $2", lector, conversacion
    )
    return db_id_to_stream(hasta) if hasta is not None else None


async def whole_conversation(
    conn: PoolConnectionProxy, conversacion: str, *, messages_only: bool
) -> list[LogEntry]:
    """Every entry, oldest first (an export: for a customer, their messages only)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM mensajes WHERE conversacion = $1 {_VISIBLE[messages_only]} "  # noqa: S608
        "ORDER BY id",
        conversacion,
    )
    return [_entry(r) for r in rows]


@dataclass(frozen=True)
class ListFilter:
    prefix: str | None = None  # a username prefix or part of the name (LIKE-escaped)
    estado: ConversationStatus | None = None
    asignado: str | None = None  # an agent's username
    unassigned: bool = False
    sitio: str | None = None  # a website widget's site: its visitors' conversations


async def conversation_list(
    db: asyncpg.Pool,
    redis: Redis,
    lector: str,
    *,
    limit: int,
    before: int | None,
    where: ListFilter,
) -> ConversationList:
    """Customers with messages, newest activity first, with last message, unread count
    (messages from the customer after what `lector` has read), state, and for website
    visitors their site, identity and page (auth's visitor data, realtime's page reports)."""
    rows = await db.fetch(
        """
        SELECT c.usuario, c.nombre, c.ultimo_id, c.ultimo_de, c.ultimo_mensaje, c.ultima_fecha,
               c.estado, c.asignado, c.pospuesta_hasta,
               (SELECT count(*) FROM mensajes m
                 WHERE m.conversacion = c.usuario AND m.de_usuario = c.usuario
                   AND m.id > COALESCE(l.hasta, 0)) AS no_leidos
          FROM conversaciones c
          LEFT JOIN lecturas l ON l.lector = $1 AND l.conversacion = c.usuario
         WHERE c.ultimo_id < $2
           AND ($3::text IS NULL OR c.usuario LIKE $3 || '%' OR c.nombre ILIKE '%' || $3 || '%')
           AND ($5::text IS NULL OR c.estado = $5)
           AND ($6::text IS NULL OR c.asignado = $6)
           AND (NOT $7 OR c.asignado IS NULL)
           AND ($8::text IS NULL OR EXISTS (
                 SELECT 1 FROM visitantes v WHERE v.usuario = c.usuario AND v.sitio = $8))
         ORDER BY c.ultimo_id DESC
         LIMIT $4
        """,
        lector,
        before if before is not None else BIGINT_MAX,
        where.prefix,
        limit + 1,
        where.estado.value if where.estado else None,
        where.asignado,
        where.unassigned,
        where.sitio,
    )
    shown = [r["usuario"] for r in rows[:limit]]
    profiles = await visitor_profiles(db, shown)
    pages = await sites.pages(redis, list(profiles))
    items = [
        ConversationSummary(
            usuario=r["usuario"],
            nombre=r["nombre"] or r["usuario"],
            ultimo_id=db_id_to_stream(r["ultimo_id"]),
            ultimo_de=r["ultimo_de"],
            ultimo_mensaje=r["ultimo_mensaje"],
            fecha=iso(r["ultima_fecha"]),
            no_leidos=r["no_leidos"],
            estado=r["estado"],
            asignado=r["asignado"],
            pospuesta_hasta=iso(r["pospuesta_hasta"]) if r["pospuesta_hasta"] else None,
            visitante=_visitor(profiles.get(r["usuario"]), pages.get(r["usuario"])),
        )
        for r in rows[:limit]
    ]
    return ConversationList(conversaciones=items, hay_mas=len(rows) > limit)


def _visitor(profile: VisitorProfile | None, page: sites.VisitorPage | None) -> VisitorInfo | None:
    if profile is None:
        return None
    return VisitorInfo(
        **profile.model_dump(),
        pagina=VisitorPageInfo(**page.model_dump()) if page is not None else None,
    )


async def conversation_counts(db: asyncpg.Pool, agente: str) -> ConversationCounts:
    """The tabs' counts over the conversations the list shows (those with messages)."""
    row = await db.fetchrow(
        """
        SELECT count(*) FILTER (WHERE asignado = $1 AND estado <> 'resuelta') AS mias,
               count(*) FILTER (WHERE asignado IS NULL AND estado <> 'resuelta') AS sin_asignar,
               count(*) FILTER (WHERE estado = 'abierta') AS abierta,
               count(*) FILTER (WHERE estado = 'pendiente') AS pendiente,
               count(*) FILTER (WHERE estado = 'pospuesta') AS pospuesta,
               count(*) FILTER (WHERE estado = 'resuelta') AS resuelta
          FROM conversaciones WHERE ultimo_id IS NOT NULL
        """,
        agente,
    )
    assert row is not None  # an aggregate always answers one row
    return ConversationCounts(**dict(row))
