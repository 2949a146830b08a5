"""FastAPI helpers shared by the HTTP services (auth, history-api): cookie authentication
as a dependency, one JSON error shape (`{"error": ...}`), health and metrics routes, and a
request id on every request (its log lines and its response).

Each service keeps what it needs in its lifespan state; the dependencies here read the
`guard` (a SessionGuard) from it.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soporte_common.tokens import COOKIE_NAME, Claims, InvalidTokenError, SessionGuard

NOT_AUTHENTICATED = "No autenticado"
INVALID_TOKEN = "Token inválido"
ADMINS_ONLY = "Solo administradores"

HTTP_LATENCY = Histogram(
    "soporte_http_request_duration_seconds",
    "HTTP request latency by route and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


REQUEST_ID_HEADER = "X-Request-ID"
# What is accepted from a client (or a proxy in front); anything else gets a fresh id, so
# the header can never smuggle line breaks or markup into a log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID (a proxy's, a client's) or makes one, binds it to the
    structlog context as `request_id` for every log line of the request, and returns it in
    the response's X-Request-ID header. Plain ASGI: no per-request task or body copy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != header[0]]
                message["headers"] = [*headers, header]
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)


class LatencyMiddleware:
    """Observes every request's latency by route template and status (plain ASGI: the
    decorator style costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            HTTP_LATENCY.labels(scope["method"], path, str(status)).observe(
                time.perf_counter() - start
            )


def request_id_from(scope: Scope) -> str:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def token_from_request(request: Request) -> str | None:
    """The session token: the `token` cookie, or `Authorization: Bearer` for scripts."""
    token = request.cookies.get(COOKIE_NAME)
    if token:
        return token
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


async def current_claims(request: Request) -> Claims:
    token = token_from_request(request)
    if token is None:
        raise HTTPException(401, NOT_AUTHENTICATED)
    guard: SessionGuard = request.state.guard
    try:
        return await guard.verify(token)
    except InvalidTokenError as exc:
        raise HTTPException(401, INVALID_TOKEN) from exc
    except RedisError as exc:
        raise HTTPException(503, "Servicio no disponible; inténtalo de nuevo") from exc


async def admin_claims(claims: Annotated[Claims, Depends(current_claims)]) -> Claims:
    if claims.rol != "admin":
        raise HTTPException(403, ADMINS_ONLY)
    return claims


CurrentUser = Annotated[Claims, Depends(current_claims)]
CurrentAdmin = Annotated[Claims, Depends(admin_claims)]

ReadinessCheck = Callable[[Request], Awaitable[None]]


def install_common(app: FastAPI, *, readiness: dict[str, ReadinessCheck]) -> None:
    """The parts every HTTP service has: error shape, request id, latency metric, health,
    metrics."""

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"campo": ".".join(str(p) for p in err["loc"][1:]), "problema": err["msg"]}
            for err in exc.errors()
        ]
        return JSONResponse({"error": "Datos inválidos", "detalles": details}, status_code=422)

    app.add_middleware(LatencyMiddleware)
    # Added last, so it wraps the others: the id is bound before anything logs.
    app.add_middleware(RequestIdMiddleware)

    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def liveness() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readiness_route(request: Request) -> JSONResponse:
        failures: dict[str, str] = {}
        for name, check in readiness.items():
            try:
                await check(request)
            except Exception as exc:
                failures[name] = f"{type(exc).__name__}: {exc}"
        if failures:
            return JSONResponse({"status": "unavailable", "failures": failures}, 503)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)


async def redis_ready(request: Request) -> None:
    await request.state.redis.ping()


async def postgres_ready(request: Request) -> None:
    async with request.state.db.acquire() as conn:
        await conn.fetchval("SELECT 1")
