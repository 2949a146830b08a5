"""FastAPI helpers shared by the HTTP services (auth, history-api): cookie authentication
as a dependency, one JSON error shape (`{"error": ...}`), health and metrics routes, and a
request id on every request (its log lines and its response).

Each service keeps what it needs in its lifespan state; the dependencies here read the
`guard` (a SessionGuard) from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from soporte_common.asgi import LatencyMiddleware, RequestIdMiddleware, metrics_response
from soporte_common.tokens import COOKIE_NAME, Claims, InvalidTokenError, SessionGuard

NOT_AUTHENTICATED = "No autenticado"
INVALID_TOKEN = "Token inválido"
ADMINS_ONLY = "Solo administradores"


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
        return metrics_response()

    app.include_router(router)


async def redis_ready(request: Request) -> None:
    await request.state.redis.ping()


async def postgres_ready(request: Request) -> None:
    async with request.state.db.acquire() as conn:
        await conn.fetchval("SELECT 1")
