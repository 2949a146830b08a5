"""Website visitors as other services read them: the accessor over auth's `visitantes` and
`sitios` tables (auth owns and writes them; docs/contract.md, "What is stored").

history-api reads the profiles for the agents' list; the privacy work (export, erasure)
calls `visitor_data` and `erase_visitor` inside its own transaction. Nothing here writes
a visitor: auth creates them (soporte_auth.visitors).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy


class VisitorProfile(BaseModel):
    """What agents are shown about a website visitor besides the conversation."""

    sitio: str
    sitio_nombre: str | None  # None: the site has been deleted since
    verificado: bool  # the company's backend vouched for who this is (identity)
    email: str | None


_PROFILES = """
SELECT v.usuario, v.sitio, s.nombre AS sitio_nombre, v.sub IS NOT NULL AS verificado, v.email
  FROM visitantes v LEFT JOIN sitios s ON s.sitio = v.sitio
 WHERE v.usuario = ANY($1::text[])
"""


async def visitor_profiles(
    db: asyncpg.Pool | PoolConnectionProxy, usuarios: Sequence[str]
) -> dict[str, VisitorProfile]:
    """The visitors among `usuarios` (customers who registered are absent)."""
    if not usuarios:
        return {}
    rows = await db.fetch(_PROFILES, list(usuarios))
    return {
        r["usuario"]: VisitorProfile(
            sitio=r["sitio"],
            sitio_nombre=r["sitio_nombre"],
            verificado=r["verificado"],
            email=r["email"],
        )
        for r in rows
    }


async def visitor_data(
    db: asyncpg.Pool | PoolConnectionProxy, usuario: str
) -> dict[str, Any] | None:
    """Everything auth keeps about a visitor beyond the account, for an export: the site,
    the identity the company gave (`sub`, email) and when it was created. The credential
    is stored only as a hash and is never exported."""
    row = await db.fetchrow(
        "SELECT sitio, sub, email, creado FROM visitantes WHERE usuario = $1", usuario
    )
    if row is None:
        return None
    creado: datetime = row["creado"]
    return {
        "sitio": row["sitio"],
        "verificado": row["sub"] is not None,
        "sub": row["sub"],
        "email": row["email"],
        "creado": creado.isoformat(),
    }


async def erase_visitor(conn: PoolConnectionProxy, usuario: str) -> bool:
    """Deletes the visitor's row (within the caller's transaction); True if there was one.
    The account itself is a `usuarios` row (its deletion also deletes this one)."""
    deleted = await conn.fetchval(
        "DELETE FROM visitantes WHERE usuario = $1 RETURNING true", usuario
    )
    return bool(deleted)
