"""Website visitors as other services read them: the accessor over auth's `visitantes` and
`sitios` tables (auth owns and writes them; docs/contract.md, "What is stored").

history-api reads the profiles for the agents' list (its privacy work reads and deletes the
rows through soporte_history.personal_data). Nothing here writes a visitor: auth creates
them (soporte_auth.visitors).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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
