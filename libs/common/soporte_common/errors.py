"""The contract's HTTP error shape, `{"error": text, "codigo": code}`, for any framework:
the FastAPI services (soporte_common.web), the plain-ASGI middlewares, realtime's aiohttp
app and the pages server all answer errors with `error_body`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

import orjson

from soporte_common.contract import ERROR_TEXTS, ErrorCode

# The code of an error that carries no code of its own (raised by a framework, a proxy).
STATUS_CODES: Final[dict[int, ErrorCode]] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.NOT_AUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.TOO_LARGE,
    422: ErrorCode.INVALID_DATA,
    429: ErrorCode.TOO_MANY_REQUESTS,
    502: ErrorCode.UNAVAILABLE,
    503: ErrorCode.UNAVAILABLE,
    504: ErrorCode.UNAVAILABLE,
}

JSON_CONTENT_TYPE: Final = "application/json"


def error_body(status_code: int, detail: object, code: ErrorCode | None = None) -> dict[str, str]:
    """The contract's error shape. An error raised by the framework itself (an unknown
    path, a wrong method) carries its English reason phrase: it gets the contract's text."""
    code = code or STATUS_CODES.get(status_code, ErrorCode.INTERNAL)
    own_text = isinstance(detail, str) and detail and detail != _phrase(status_code)
    return {"error": str(detail) if own_text else ERROR_TEXTS[code], "codigo": code.value}


def error_json(status_code: int, code: ErrorCode | None = None) -> bytes:
    """`error_body` with the contract's text, encoded."""
    return orjson.dumps(error_body(status_code, None, code))


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""
