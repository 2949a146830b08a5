"""Plain-ASGI pieces every HTTP service uses, FastAPI or not: a request id on every
request (its log lines and its response), request latency as a metric, a limit on request
bodies, and the metrics page itself."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Mapping

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soporte_common.errors import JSON_CONTENT_TYPE, error_json
from soporte_common.logging import get_logger

log = get_logger(__name__)

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


class HttpMiddleware:
    """Base of the plain-ASGI middlewares (no per-request task or body copy, unlike the
    decorator style): HTTP requests go to `handle`, other scopes pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestIdMiddleware(HttpMiddleware):
    """Takes the caller's X-Request-ID (a proxy's, a client's) or makes one, binds it to the
    structlog context as `request_id` for every log line of the request, and returns it in
    the response's X-Request-ID header."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
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


class LatencyMiddleware(HttpMiddleware):
    """Observes every request's latency by route template and status."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
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


class BodyTooLargeError(HTTPException):
    """A streamed body passed its limit. Raised from `receive`, as an HTTPException so that
    a FastAPI route reading its body lets it through instead of calling it a bad body."""

    def __init__(self) -> None:
        super().__init__(413)


class BodyLimitMiddleware(HttpMiddleware):
    """Refuses a request body over its limit with 413 before it is read whole: at once when
    Content-Length announces it, otherwise as soon as the chunks read so far pass the limit
    (a chunked body has no length). The 413 is always this middleware's own answer, the
    contract's JSON, whatever the app makes of the interrupted read. `limits` gives a path
    prefix its own limit (the longest matching prefix wins); other paths get `default`."""

    def __init__(self, app: ASGIApp, *, default: int, limits: Mapping[str, int] | None = None):
        super().__init__(app)
        self.default = default
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        matching = (limit for prefix, limit in self.limits if path.startswith(prefix))
        return next(matching, self.default)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is None or declared > limit:
            await send_error(send, 400 if declared is None else 413)  # the body is never read
            return
        received = 0
        refused = responding = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal responding
            if refused:  # the app's answer to the interrupted read: ours replaces it
                if message["type"] == "http.response.start" and not responding:
                    responding = True
                    await send_error(send, 413)
                return
            responding = responding or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLargeError:
            if not responding:
                await send_error(send, 413)


class DeadlineMiddleware(HttpMiddleware):
    """Answers 503 (the contract's body) to a request that has not begun its response within
    `seconds`: whatever a stalled dependency does, the caller hears back in time and may
    retry. The work under way is cancelled; a response already begun is left to finish."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        super().__init__(app)
        self.seconds = seconds

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        responding = False
        deadline = asyncio.timeout(self.seconds)

        async def noting_send(message: Message) -> None:
            nonlocal responding
            if message["type"] == "http.response.start":
                responding = True
                deadline.reschedule(None)
            await send(message)

        try:
            async with deadline:
                await self.app(scope, receive, noting_send)
        except TimeoutError:
            if responding:
                raise
            log.warning(
                "no answer within the deadline; answered 503",
                path=scope["path"],
                seconds=self.seconds,
            )
            await send_error(send, 503)


def _content_length(scope: Scope) -> int | None:
    """The announced body length; 0 when none is announced; None when it is not a number."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return 0


async def send_error(send: Send, status: int) -> None:
    """Answer with the contract's error body for `status` (plain ASGI)."""
    body = error_json(status)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", JSON_CONTENT_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def request_id_from(scope: Scope) -> str:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
