"""The website widget's pages (docs/contract.md, "The website widget"):

- `/widget.js`: the loader a company's page includes (`data-site`, `data-lang`);
- `/widget/sitio?site=KEY`: whether the site exists and the asking page's origin is one of
  its own (the loader asks before it shows a launcher; readable from any origin);
- `/widget/chat?site=KEY&lang=es|en`: the chat the loader frames, which only the site's
  registered origins may frame (`frame-ancestors`, per site, from the sites' copy in
  Redis that auth keeps: soporte_common.sites).
"""

from __future__ import annotations

import gzip
import html
import json
import re
from pathlib import Path
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from soporte_common import sites
from soporte_common.contract import ErrorCode
from soporte_common.errors import error_body

_SITE_KEY: Final = re.compile(sites.SITE_KEY_PATTERN)
LANGUAGES: Final = ("es", "en")
# The loader changes with releases only; a page's visitors fetch it once in a while.
LOADER_CACHE: Final = "public, max-age=300"
# The pages' policy (soporte_frontend.app), but framed by the site's own origins.
CHAT_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors {origins}"
)
_ANYONE: Final = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}


def _redis(request: Request) -> Redis:
    redis: Redis = request.state.redis
    return redis


async def _site(request: Request) -> tuple[str, sites.Site | None]:
    """The `site` parameter and its site (None: unknown); RedisError if Redis fails."""
    key = request.query_params.get("site", "")
    if not _SITE_KEY.fullmatch(key):
        return key, None
    return key, await sites.site(_redis(request), key)


def _error(status: int, code: ErrorCode, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, None, code), status_code=status, headers=headers)


class Widget:
    def __init__(self, static: Path) -> None:
        self.loader = (static / "loader" / "widget.js").read_bytes()
        # Every page of a company's site loads it: sent compressed to every browser that
        # takes gzip (about 3 KB instead of 8).
        self.loader_gzip = gzip.compress(self.loader, compresslevel=9, mtime=0)
        self.chat_page = (static / "widget.html").read_text()

    def routes(self) -> list[Route]:
        return [
            Route("/widget.js", self.loader_script),
            Route("/widget/sitio", self.site_check),
            Route("/widget/chat", self.chat),
        ]

    async def loader_script(self, request: Request) -> Response:
        headers = {"Cache-Control": LOADER_CACHE, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.loader_gzip, media_type="text/javascript", headers=headers)
        return Response(self.loader, media_type="text/javascript", headers=headers)

    async def site_check(self, request: Request) -> Response:
        """200 when the site exists and the asking page's `Origin` is one of its origins;
        404 (unknown site) or 403 (this page's origin is not registered) otherwise. Every
        origin may read the answer: it says nothing a page could not learn by framing."""
        try:
            key, site = await _site(request)
        except RedisError:
            return _error(503, ErrorCode.UNAVAILABLE, _ANYONE | {"Retry-After": "2"})
        if site is None:
            return _error(404, ErrorCode.SITE_UNKNOWN, _ANYONE)
        if request.headers.get("origin") not in site.origenes:
            return _error(403, ErrorCode.ORIGIN_NOT_REGISTERED, _ANYONE)
        return JSONResponse({"sitio": key, "nombre": site.nombre}, headers=_ANYONE)

    async def chat(self, request: Request) -> Response:
        try:
            key, site = await _site(request)
        except RedisError:
            return _error(503, ErrorCode.UNAVAILABLE, {"Retry-After": "2"})
        if site is None:
            return _error(404, ErrorCode.SITE_UNKNOWN)
        lang = request.query_params.get("lang")
        body = (
            self.chat_page.replace("{{lang}}", lang if lang in LANGUAGES else LANGUAGES[0])
            .replace("{{site}}", html.escape(key))
            .replace("{{origins}}", html.escape(json.dumps(site.origenes)))
        )
        policy = CHAT_POLICY.format(origins=" ".join(site.origenes))
        return HTMLResponse(
            body,
            headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"},
        )
