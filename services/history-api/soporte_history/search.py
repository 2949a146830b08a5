"""Full-text search over the log's messages and notes (agents only): every word the agent
typed must be there, whatever its case and accents; words of three characters or more also
match as the start of a longer word ("reembols" finds "reembolso"). Newest first, over all
of history. The index is `mensajes.busqueda` (migration 0002), which Postgres maintains in
the transaction that stores each entry."""

from __future__ import annotations

import re
from typing import Final

import asyncpg

from soporte_common.messages import db_id_to_stream
from soporte_history.queries import iso
from soporte_history.schemas import SearchResult, SearchResults

# Letters and digits of any script: what the parser keeps of a word (so each query word is
# one lexeme, and nothing typed is tsquery syntax).
_WORD: Final = re.compile(r"[^\W_]+")
MAX_WORDS: Final = 8
PREFIX_FROM: Final = 3  # shorter words match whole words only

SEARCH = """
SELECT id, tipo, conversacion, de_usuario, mensaje, fecha
  FROM mensajes
 WHERE busqueda @@ to_tsquery('soporte_busqueda', $1)
   AND ($2::text IS NULL OR conversacion = $2)
 ORDER BY id DESC
 LIMIT $3
"""


def tsquery_text(q: str) -> str | None:
    """The tsquery for what the agent typed (None: no word in it)."""
    words = _WORD.findall(q)[:MAX_WORDS]
    if not words:
        return None
    return " & ".join(f"{w}:*" if len(w) >= PREFIX_FROM else w for w in words)


async def search(db: asyncpg.Pool, q: str, *, con: str | None, limit: int) -> SearchResults:
    query = tsquery_text(q)
    if query is None:
        return SearchResults(resultados=[])
    rows = await db.fetch(SEARCH, query, con, limit)
    return SearchResults(
        resultados=[
            SearchResult(
                id=db_id_to_stream(r["id"]),
                tipo=r["tipo"],
                conversacion=r["conversacion"],
                de=r["de_usuario"],
                mensaje=r["mensaje"],
                fecha=iso(r["fecha"]),
            )
            for r in rows
        ]
    )
