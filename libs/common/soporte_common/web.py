"""FastAPI helpers shared by the HTTP services (auth, history-api): cookie authentication
as a dependency, one JSON error shape (`{error, codigo}`, texts from soporte_common.contract),
health and metrics routes, and a request id on every request (its log lines and response).

Each service keeps what it needs in its lifespan state; the dependencies here read the
`guard` (a SessionGuard) from it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from soporte_common.asgi import (
    BodyLimitMiddleware,
    DeadlineMiddleware,
    LatencyMiddleware,
    RequestIdMiddleware,
    metrics_response,
)
from soporte_common.contract import ERROR_TEXTS, ErrorCode
from soporte_common.errors import error_body
from soporte_common.heap import freeze_start_up_heap
from soporte_common.logging import get_logger
from soporte_common.settings import DEFAULT_MAX_BODY_BYTES
from soporte_common.tokens import COOKIE_NAME, Claims, InvalidTokenError, SessionGuard


class ApiError(HTTPException):
    """An error answered as the contract's JSON shape: `{"error": text, "codigo": code}`.
    The text defaults to the contract's text for the code; `text` gives a more precise one."""

    def __init__(
        self,
        status_code: int,
        code: ErrorCode,
        text: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, text or ERROR_TEXTS[code], headers=headers)
        self.code = code


class ErrorBody(BaseModel):
    """Every error, as the OpenAPI documents describe it: a text for people, a code for
    programs (soporte_common.contract)."""

    error: str
    codigo: ErrorCode


class InvalidField(BaseModel):
    campo: str
    problema: str


class InvalidDataBody(ErrorBody):
    """422: which fields were wrong, and why."""

    detalles: list[InvalidField]


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: each error status it can answer, with when it does."""
    return {
        status: {"model": InvalidDataBody if status == 422 else ErrorBody, "description": text}
        for status, text in descriptions.items()
    }


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
        raise ApiError(401, ErrorCode.NOT_AUTHENTICATED)
    guard: SessionGuard = request.state.guard
    try:
        return await guard.verify(token)
    except InvalidTokenError as exc:
        raise ApiError(401, ErrorCode.INVALID_TOKEN) from exc
    except RedisError as exc:
        raise ApiError(503, ErrorCode.UNAVAILABLE) from exc


async def admin_claims(claims: Annotated[Claims, Depends(current_claims)]) -> Claims:
    if claims.rol != "admin":
        raise ApiError(403, ErrorCode.ADMINS_ONLY)
    return claims


CurrentUser = Annotated[Claims, Depends(current_claims)]
CurrentAdmin = Annotated[Claims, Depends(admin_claims)]

ReadinessCheck = Callable[[Request], Awaitable[None]]

log = get_logger(__name__)
RETRY_AFTER = "2"  # seconds, on every 503 a dependency caused


# Failures of a dependency (Redis, Postgres, a timeout): the service is unavailable for a
# moment, which the caller can retry; never a 500.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)
# Input no store or encoder accepts (a lone surrogate in a JSON string): the request's fault.
BAD_INPUT_ERRORS: tuple[type[Exception], ...] = (UnicodeError,)


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def _frozen_after_start_up(lifespan: Lifespan) -> Lifespan:
    """The service's lifespan, then its start-up heap frozen (soporte_common.heap)."""

    @asynccontextmanager
    async def frozen(app: FastAPI) -> AsyncIterator[Any]:
        async with lifespan(app) as state:
            freeze_start_up_heap()
            yield state

    return frozen


def create_api(
    *,
    title: str,
    prefix: str,
    lifespan: Lifespan,
    readiness: dict[str, ReadinessCheck],
    interactive_docs: bool,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    deadline_seconds: float | None = None,
    unavailable: tuple[type[Exception], ...] = (),
    bad_input: tuple[type[Exception], ...] = (),
) -> FastAPI:
    """A service's FastAPI app with what every HTTP service has (install_common). The
    OpenAPI document is always at `<prefix>/openapi.json`; the interactive docs page loads
    its script from a CDN, so it is served (at `<prefix>/docs`) only when asked for (local
    mode): no third-party code on the origin that holds the session cookie."""
    app = FastAPI(
        title=title,
        lifespan=_frozen_after_start_up(lifespan),
        docs_url=f"{prefix}/docs" if interactive_docs else None,
        openapi_url=f"{prefix}/openapi.json",
        redoc_url=None,
    )
    install_common(
        app,
        readiness=readiness,
        max_body_bytes=max_body_bytes,
        deadline_seconds=deadline_seconds,
        unavailable=unavailable,
        bad_input=bad_input,
    )
    return app


def install_common(
    app: FastAPI,
    *,
    readiness: dict[str, ReadinessCheck],
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    deadline_seconds: float | None = None,
    unavailable: tuple[type[Exception], ...] = (),
    bad_input: tuple[type[Exception], ...] = (),
) -> None:
    """The parts every HTTP service has: error shape (for every error, unexpected ones
    included), a request body limit, request id, latency metric, health, metrics.
    `deadline_seconds`: answer 503 to a request not answered by then (DeadlineMiddleware).
    `unavailable` and `bad_input` add the service's own dependency and input errors to
    the ones answered 503 and 400."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = exc.code if isinstance(exc, ApiError) else None
        return JSONResponse(
            error_body(exc.status_code, exc.detail, code),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"campo": ".".join(str(p) for p in err["loc"][1:]), "problema": err["msg"]}
            for err in exc.errors()
        ]
        body = {**error_body(422, None, ErrorCode.INVALID_DATA), "detalles": details}
        return JSONResponse(body, status_code=422)

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "dependency failed; answered 503",
            path=request.url.path,
            error=f"{type(exc).__name__}: {exc}",
        )
        return JSONResponse(
            error_body(503, None), status_code=503, headers={"Retry-After": RETRY_AFTER}
        )

    async def _bad_input(request: Request, exc: Exception) -> JSONResponse:
        log.info("unusable input; answered 400", path=request.url.path, error=type(exc).__name__)
        return JSONResponse(error_body(400, None), status_code=400)

    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error; answered 500", path=request.url.path, exc_info=exc)
        return JSONResponse(error_body(500, None), status_code=500)

    for error in (*UNAVAILABLE_ERRORS, *unavailable):
        app.add_exception_handler(error, _unavailable)
    for error in (*BAD_INPUT_ERRORS, *bad_input):
        app.add_exception_handler(error, _bad_input)
    app.add_exception_handler(Exception, _internal)

    # Innermost: a refused body is still timed and carries its request id.
    app.add_middleware(BodyLimitMiddleware, default=max_body_bytes)
    if deadline_seconds is not None:
        app.add_middleware(DeadlineMiddleware, seconds=deadline_seconds)
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
