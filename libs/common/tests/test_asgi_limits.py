"""The plain-ASGI limits every HTTP service shares: request bodies refused with 413 before
they are read whole, and an answer (503) within a deadline whatever a dependency does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from soporte_common.asgi import BodyLimitMiddleware, DeadlineMiddleware

read: list[int] = []


async def echo_length(request: Request) -> Response:
    body = await request.body()
    read.append(len(body))
    return JSONResponse({"bytes": len(body)})


async def slow(_: Request) -> Response:
    await asyncio.sleep(30)
    return JSONResponse({})


def client_for(*middleware: Middleware) -> httpx.AsyncClient:
    app = Starlette(
        routes=[Route("/eco", echo_length, methods=["POST"]), Route("/lento", slow)],
        middleware=list(middleware),
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def chunks(total: int, size: int = 4096) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


async def test_a_body_within_the_limit_is_read() -> None:
    async with client_for(Middleware(BodyLimitMiddleware, default=1024)) as client:
        response = await client.post("/eco", content=b"x" * 1024)
    assert response.json() == {"bytes": 1024}


async def test_an_announced_body_over_the_limit_is_refused_unread() -> None:
    read.clear()
    async with client_for(Middleware(BodyLimitMiddleware, default=1024)) as client:
        response = await client.post("/eco", content=b"x" * 1025)
    assert response.status_code == 413
    assert response.json() == {
        "error": "La petición es demasiado grande",
        "codigo": "demasiado_grande",
    }
    assert read == []  # the route never ran


async def test_a_streamed_body_is_cut_off_once_it_passes_the_limit() -> None:
    """No Content-Length (chunked): counted as it arrives, refused before it is all read."""
    read.clear()
    async with client_for(Middleware(BodyLimitMiddleware, default=64 * 1024)) as client:
        response = await client.post("/eco", content=chunks(50 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["codigo"] == "demasiado_grande"
    assert read == []


async def test_a_path_can_have_its_own_limit() -> None:
    limits = Middleware(BodyLimitMiddleware, default=10, limits={"/eco": 100})
    async with client_for(limits) as client:
        assert (await client.post("/eco", content=b"x" * 100)).status_code == 200


async def test_a_request_not_answered_in_time_gets_503() -> None:
    async with client_for(Middleware(DeadlineMiddleware, seconds=0.2)) as client:
        response = await client.get("/lento")
    assert response.status_code == 503
    assert response.json()["codigo"] == "no_disponible"
