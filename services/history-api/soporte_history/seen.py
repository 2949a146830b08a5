"""Seen receipts, built on the read marks (table `lecturas`).

Storing a mark that newly covers a message of the other side tells that side at once,
through the Socket.IO channel (soporte_common.emits, the one encoder), never through the
stream: nothing is stored but the mark itself.
- An agent read the customer's messages up to `hasta`: the customer receives `visto
  {hasta}` (the team read it; never which agent).
- The customer read the team's messages up to `hasta`: every agent receives `visto {con,
  hasta}`.
`hasta` is always a message of the side that is told (the last one the mark covers), so
neither side learns of entries it cannot see. `GET /api/mensajes/visto` answers the same
for a page that has just loaded.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from redis.asyncio import Redis
from redis.exceptions import RedisError

from soporte_common import keys
from soporte_common.contract import ADMINS_ROOM, ErrorCode, Event, user_room
from soporte_common.emits import encode_emit
from soporte_common.logging import get_logger
from soporte_common.messages import db_id_to_stream
from soporte_common.text import USERNAME_PATTERN
from soporte_common.tokens import Claims
from soporte_common.web import ApiError
from soporte_history.deps import CurrentUser, SettledDbDep
from soporte_history.schemas import error_responses

log = get_logger(__name__)

router = APIRouter(prefix="/api")


class Seen(BaseModel):
    hasta: str | None = Field(
        description="the last message of the caller's side the other side has read (null: none yet)"
    )


# The newest message of one side, `(de_usuario = conversacion) = $from_customer`, that a
# mark newly covers: after the reader's previous mark, up to the new one.
_STORE = """
WITH antes AS (SELECT hasta FROM lecturas WHERE lector = $1 AND conversacion = $2),
     marca AS (
       INSERT INTO lecturas (lector, conversacion, hasta) VALUES ($1, $2, $3)
       ON CONFLICT (lector, conversacion)
       DO UPDATE SET hasta = GREATEST(lecturas.hasta, EXCLUDED.hasta)
       RETURNING hasta)
SELECT max(m.id) FROM mensajes m, marca
 WHERE m.conversacion = $2 AND m.tipo = 'mensaje'
   AND (m.de_usuario = $2) = $4
   AND m.id > COALESCE((SELECT hasta FROM antes), 0) AND m.id <= marca.hasta
"""

# The newest message of one side read by the other: the customer's own mark, or the
# furthest any agent's goes.
_SEEN = """
SELECT max(m.id) FROM mensajes m
 WHERE m.conversacion = $1 AND m.tipo = 'mensaje'
   AND (m.de_usuario = $1) = $2
   AND m.id <= (SELECT max(hasta) FROM lecturas WHERE conversacion = $1 AND (lector = $1) <> $2)
"""


async def mark_read(
    db: asyncpg.Pool, redis: Redis, reader: Claims, conversacion: str, hasta: int
) -> None:
    """Store that `reader` has read `conversacion` up to `hasta`, and tell the other side
    what that newly covers of theirs."""
    by_customer = reader.rol != "admin"
    newly: int | None = await db.fetchval(_STORE, reader.user, conversacion, hasta, not by_customer)
    if newly is None:
        return
    rooms, seen = (
        ([ADMINS_ROOM], {"con": conversacion, "hasta": db_id_to_stream(newly)})
        if by_customer
        else ([user_room(conversacion)], {"hasta": db_id_to_stream(newly)})
    )
    try:
        await redis.publish(keys.SOCKETIO_CHANNEL, encode_emit(Event.SEEN.value, rooms, seen))
    except RedisError as exc:  # the mark is stored: the other side sees it at its next load
        log.warning("seen receipt not announced: Redis failed", error=str(exc))


@router.get("/mensajes/visto", responses=error_responses(401, 403, 422, 503))
async def seen(
    claims: CurrentUser,
    db: SettledDbDep,
    con: Annotated[str | None, Query(pattern=USERNAME_PATTERN)] = None,
) -> Seen:
    """How far the other side has read the caller's side: for a customer, the last of
    their messages an agent has read; for an agent, the last of the team's messages the
    customer `con` has read."""
    if claims.rol == "admin":
        if con is None:
            raise ApiError(422, ErrorCode.INVALID_DATA, "Indica la conversación (con)")
        newest: int | None = await db.fetchval(_SEEN, con, False)
    else:
        if con not in (None, claims.user):
            raise ApiError(403, ErrorCode.FORBIDDEN, "Solo puedes consultar tu propia conversación")
        newest = await db.fetchval(_SEEN, claims.user, True)
    return Seen(hasta=db_id_to_stream(newest) if newest is not None else None)
