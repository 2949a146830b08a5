"""The history reads: keyset-paged conversations and the agents' conversation list."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from soporte_common.messages import BIGINT_MAX, Message, db_id_to_stream
from soporte_history.schemas import ConversationList, ConversationSummary, MessagePage


def like_escape(text: str) -> str:
    """`text` matched literally inside a LIKE pattern (backslash is Postgres' escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message(row: asyncpg.Record) -> Message:
    return Message(
        id=db_id_to_stream(row["id"]),
        de=row["de_usuario"],
        para=row["para_usuario"],
        mensaje=row["mensaje"],
        fecha=iso(row["fecha"]),
    )


_COLUMNS = "id, de_usuario, para_usuario, mensaje, fecha"


async def conversation_page(
    db: asyncpg.Pool, conversacion: str, *, limit: int, before: int | None, after: int | None
) -> MessagePage:
    """Oldest first. Default: the newest `limit`. `before`: the page older than that id.
    `after`: what came after that id (catch-up), oldest first, `limit` at a time."""
    if after is not None:
        rows = await db.fetch(
            f"SELECT {_COLUMNS} FROM mensajes WHERE conversacion = $1 AND id > $2 "  # noqa: S608
            "ORDER BY id LIMIT $3",
            conversacion,
            after,
            limit + 1,
        )
        more = len(rows) > limit
        return MessagePage(
            mensajes=[_message(r) for r in rows[:limit]], hay_anteriores=True, hay_siguientes=more
        )
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM mensajes WHERE conversacion = $1 AND id < $2 "  # noqa: S608
        "ORDER BY id DESC LIMIT $3",
        conversacion,
        before if before is not None else BIGINT_MAX,
        limit + 1,
    )
    more = len(rows) > limit
    return MessagePage(
        mensajes=[_message(r) for r in reversed(rows[:limit])],
        hay_anteriores=more,
        hay_siguientes=before is not None,
    )


async def conversation_list(
    db: asyncpg.Pool, lector: str, *, limit: int, before: int | None, prefix: str | None
) -> ConversationList:
    """Customers with messages, newest activity first, with last message and unread count
    (messages from the customer after what `lector` has read)."""
    rows = await db.fetch(
        """
        SELECT c.usuario, c.nombre, c.ultimo_id, c.ultimo_de, c.ultimo_mensaje, c.ultima_fecha,
               (SELECT count(*) FROM mensajes m
                 WHERE m.conversacion = c.usuario AND m.de_usuario = c.usuario
                   AND m.id > COALESCE(l.hasta, 0)) AS no_leidos
          FROM conversaciones c
          LEFT JOIN lecturas l ON l.lector = $1 AND l.conversacion = c.usuario
         WHERE c.ultimo_id < $2
           AND ($3::text IS NULL OR c.usuario LIKE $3 || '%' OR c.nombre ILIKE '%' || $3 || '%')
         ORDER BY c.ultimo_id DESC
         LIMIT $4
        """,
        lector,
        before if before is not None else BIGINT_MAX,
        prefix,
        limit + 1,
    )
    items = [
        ConversationSummary(
            usuario=r["usuario"],
            nombre=r["nombre"] or r["usuario"],
            ultimo_id=db_id_to_stream(r["ultimo_id"]),
            ultimo_de=r["ultimo_de"],
            ultimo_mensaje=r["ultimo_mensaje"],
            fecha=iso(r["ultima_fecha"]),
            no_leidos=r["no_leidos"],
        )
        for r in rows[:limit]
    ]
    return ConversationList(conversaciones=items, hay_mas=len(rows) > limit)


async def mark_read(db: asyncpg.Pool, lector: str, conversacion: str, hasta: int) -> None:
    await db.execute(
        """INSERT INTO lecturas (lector, conversacion, hasta) VALUES ($1, $2, $3)
           ON CONFLICT (lector, conversacion)
           DO UPDATE SET hasta = GREATEST(lecturas.hasta, EXCLUDED.hasta)""",
        lector,
        conversacion,
        hasta,
    )
