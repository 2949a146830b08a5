"""Serves the pages (login, soporte, the agents' report and audit trail) and their assets
with strict security headers, the website widget (soporte_frontend.widget), and the
gateway's own error answers.

The Content-Security-Policy allows scripts, styles and connections from this origin only:
even if some message text were ever rendered as HTML, an injected script could not run.
Every error is the contract's JSON shape, the ones the gateway produces itself included:
its `errors` middleware fetches them from `/_error/<status>` (gateway/dynamic.yml).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import ClassVar

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Message, Receive, Scope, Send

from soporte_common.asgi import (
    BodyLimitMiddleware,
    HttpMiddleware,
    LatencyMiddleware,
    RequestIdMiddleware,
    metrics_response,
)
from soporte_common.contract import ErrorCode, browser_tables
from soporte_common.errors import error_body
from soporte_common.redis_client import connect_redis
from soporte_frontend.settings import FrontendSettings
from soporte_frontend.widget import Widget

STATIC = Path(__file__).parent / "static"
VENDOR_BUILD_HINT = "run `make setup` (it copies socket.io-client from node_modules)"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def contract_module() -> str:
    """The contract's tables (soporte_common.contract) as an ES module the pages import:
    the browser matches the same event names and refusal texts the services send."""
    tables = browser_tables()
    lines = [
        "// Generated from soporte_common.contract by the pages server: edit that module.",
        *(
            f"export const {name} = Object.freeze({json.dumps(value, ensure_ascii=False)});"
            for name, value in tables.items()
        ),
    ]
    return "\n".join(lines) + "\n"


def contract_script() -> Callable[[Request], Awaitable[Response]]:
    body = contract_module()

    async def endpoint(_: Request) -> Response:
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    return endpoint


def config_script(settings: FrontendSettings) -> Callable[[Request], Awaitable[Response]]:
    """The pages' settings (FrontendSettings.page_config) as an ES module: the page learns
    them as it learns the contract, with no request of its own."""
    lines = [
        "// Generated from the pages server's settings (SOPORTE_*).",
        *(
            f"export const {name} = {json.dumps(value)};"
            for name, value in settings.page_config().items()
        ),
    ]
    body = "\n".join(lines) + "\n"

    async def endpoint(_: Request) -> Response:
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    return endpoint


def page(name: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})

    return endpoint


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def metrics(_: Request) -> Response:
    return metrics_response()


async def readyz(_: Request) -> Response:
    if not (STATIC / "vendor" / "socket.io.min.js").exists():
        return JSONResponse(
            {"status": "unavailable", "failures": {"vendor": VENDOR_BUILD_HINT}}, status_code=503
        )
    return JSONResponse({"status": "ready"})


class RevalidatedStaticFiles(StaticFiles):
    """Static files the browser checks again on every load (a 304 when unchanged): the
    client is many ES modules, and a page must never run some of them from an older
    version kept in its cache."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        return response


class SecurityHeaders(HttpMiddleware):
    """Adds SECURITY_HEADERS to every response. A response that brings its own
    Content-Security-Policy (the widget's chat, which its site's pages may frame) keeps it,
    and is given no X-Frame-Options (its `frame-ancestors` says who may frame it)."""

    headers: ClassVar = tuple((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items())
    framing: ClassVar = (b"content-security-policy", b"x-frame-options")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                added = self.headers
                if any(name.lower() == b"content-security-policy" for name, _ in own):
                    added = tuple(h for h in self.headers if h[0] not in self.framing)
                message["headers"] = [*own, *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The gateway's own refusals: past the per-address connection cap, no healthy replica.
GATEWAY_CODES = {429: ErrorCode.TOO_MANY_CONNECTIONS}
GATEWAY_RETRY_AFTER = "5"  # seconds: the gateway's refusals are about load, not the request


async def gateway_error(request: Request) -> Response:
    """`/_error/<status>`: the body the gateway answers with when it refuses a request
    itself (its `errors` middleware keeps the status it caught)."""
    status = request.path_params["status"]
    if not 400 <= status <= 599:
        status = 404
    headers = {"Retry-After": GATEWAY_RETRY_AFTER} if status in (429, 502, 503, 504) else None
    return JSONResponse(
        error_body(status, None, GATEWAY_CODES.get(status)), status_code=status, headers=headers
    )


async def http_error(_: Request, exc: Exception) -> Response:
    """An unknown path, a wrong method: the contract's shape, like every service."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return JSONResponse(error_body(status, None), status_code=status)


def create_app(settings: FrontendSettings | None = None) -> Starlette:
    settings = settings or FrontendSettings()
    widget = Widget(STATIC)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Redis]]:
        # The sites' copy (soporte_common.sites): a stalled Redis costs the widget's
        # requests two seconds, never the pages.
        redis = connect_redis(settings.redis_url, socket_timeout=2.0, retries=0)
        try:
            yield {"redis": redis}
        finally:
            await redis.aclose()

    return Starlette(
        lifespan=lifespan,
        routes=[
            *widget.routes(),
            Route("/", page("login.html")),
            Route("/soporte", page("soporte.html")),
            Route("/informes", page("informes.html")),
            Route("/auditoria", page("auditoria.html")),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/_error/{status:int}", gateway_error),
            Route("/static/js/contract.js", contract_script()),
            Route("/static/js/config.js", config_script(settings)),
            Mount("/static", RevalidatedStaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(LatencyMiddleware),
            Middleware(SecurityHeaders),
            Middleware(BodyLimitMiddleware, default=settings.max_body_bytes),
        ],
        exception_handlers={HTTPException: http_error, Exception: http_error},
    )
