"""`pagina {url, titulo}`: a website visitor's widget reports the page of the company's site
the visitor is on (when it connects, and as the visitor moves). Validated and bounded,
kept in Redis for the agents' list (soporte_common.sites), and shown live to every agent as
`pagina_visitante {usuario, url, titulo, fecha}`. Only a visitor's socket may report, and
only pages of its own site's origins.
"""

from __future__ import annotations

from typing import Final

import socketio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from soporte_common import keys, sites
from soporte_common.contract import ADMINS_ROOM, Event, RejectCode
from soporte_common.messages import MessageRejectedError, now_iso
from soporte_common.text import has_forbidden_text_chars
from soporte_common.tokens import Claims
from soporte_realtime.sessions import Sessions

VISITORS_ONLY: Final = "Solo el widget de un sitio informa de la página del visitante"
NOT_ON_SITE: Final = "Esa página no es de ninguno de los orígenes del sitio"
BAD_PAGE: Final = "Página inválida: se esperaba {url, titulo} (url http(s), hasta 2048 caracteres)"
# A person does not move between pages faster than this; quicker reports are dropped.
MIN_INTERVAL_MS: Final = 300


def parse_page(data: object) -> tuple[str, str]:
    """(url, titulo) or MessageRejectedError."""
    if not isinstance(data, dict):
        raise MessageRejectedError(RejectCode.INVALID, text=BAD_PAGE)
    url, titulo = data.get("url"), data.get("titulo", "")
    if not isinstance(url, str) or not isinstance(titulo, str) or len(url) > sites.PAGE_URL_MAX:
        raise MessageRejectedError(RejectCode.INVALID, text=BAD_PAGE)
    if sites.origin_of_url(url) is None:
        raise MessageRejectedError(RejectCode.INVALID, text=BAD_PAGE)
    if has_forbidden_text_chars(url) or has_forbidden_text_chars(titulo):
        raise MessageRejectedError(RejectCode.CHARACTERS)
    return url, " ".join(titulo.split())[: sites.PAGE_TITLE_MAX]


class VisitorPages:
    def __init__(self, redis: Redis, sio: socketio.AsyncServer) -> None:
        self.redis = redis
        self.sio = sio

    async def report(self, visitor: Claims, data: object) -> None:
        """Store and announce the page, or MessageRejectedError (RedisError if Redis fails)."""
        if visitor.sitio is None:
            raise MessageRejectedError(RejectCode.NOT_ALLOWED, text=VISITORS_ONLY)
        url, titulo = parse_page(data)
        site = await sites.site(self.redis, visitor.sitio)
        if site is None:
            raise MessageRejectedError(RejectCode.NOT_ALLOWED, text=VISITORS_ONLY)
        if sites.origin_of_url(url) not in site.origenes:
            raise MessageRejectedError(RejectCode.INVALID, text=NOT_ON_SITE)
        if not await self.redis.set(
            keys.visitor_page_rate(visitor.user), 1, px=MIN_INTERVAL_MS, nx=True
        ):
            raise MessageRejectedError(RejectCode.RATE)
        page = sites.VisitorPage(url=url, titulo=titulo, fecha=now_iso())
        await sites.save_page(self.redis, visitor.user, page)
        await self.sio.emit(
            Event.VISITOR_PAGE.value,
            {"usuario": visitor.user, **page.model_dump()},
            room=ADMINS_ROOM,
        )


class VisitorEvents:
    """The handler, mixed into the Socket.IO namespace (soporte_realtime.handlers)."""

    sessions: Sessions
    pages: VisitorPages

    async def on_pagina(self, sid: str, data: object = None) -> dict[str, object]:
        claims = self.sessions.get(sid)
        try:
            if claims is None:
                raise MessageRejectedError(RejectCode.NOT_ALLOWED, text=VISITORS_ONLY)
            await self.pages.report(claims, data)
        except MessageRejectedError as exc:
            return exc.ack()
        except RedisError:
            return MessageRejectedError(RejectCode.UNAVAILABLE).ack()
        return {"ok": True}
