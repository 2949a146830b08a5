"""The edge holds (issue 13), auth, input and errors: floods of registrations, guesses and
huge bodies from one address while people elsewhere still get in; hostile input answered
4xx; every error the contract's JSON, the gateway's own included; a stalled Redis answered
503 in time, and a logout that could not happen said so."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import socketio

from soporte_common.contract import ERROR_TEXTS, ErrorCode
from soporte_stack.testing import RunningStack, eventually

from .edge import (
    PASSWORD,
    Live,
    Someone,
    agent,
    customer,
    http_from,
    rss_mb,
    session_from,
    still_served,
)

pytestmark = pytest.mark.e2e

RATE = 30  # SOPORTE_AUTH_RATE_PER_MINUTE, default
GUESSES_CHECKED = 10  # SOPORTE_LOGIN_FAILURES_ALLOWED, default


async def register(
    http: httpx.AsyncClient, usuario: str, nombre: str = "Cliente"
) -> httpx.Response:
    return await http.post(
        "/api/auth/register", json={"usuario": usuario, "nombre": nombre, "password": PASSWORD}
    )


async def test_a_registration_flood_is_limited_per_address(edge_stack: RunningStack) -> None:
    support = await agent(edge_stack, "127.0.0.3")
    async with http_from(edge_stack, "127.0.0.10") as flood:
        answers = await asyncio.gather(
            *(register(flood, f"bot-{uuid.uuid4().hex[:10]}") for _ in range(300))
        )
        await still_served(edge_stack, "127.0.0.11", support)
    created = [r for r in answers if r.status_code == 201]
    refused = [r for r in answers if r.status_code == 429]
    assert len(created) <= RATE
    assert len(created) + len(refused) == len(answers)
    assert {r.json()["codigo"] for r in refused} == {"demasiadas_peticiones"}
    assert all(1 <= int(r.headers["retry-after"]) <= 60 for r in refused)


async def test_parallel_guesses_check_at_most_the_allowed_number_and_lock_out_no_one(
    edge_stack: RunningStack,
) -> None:
    victim = await agent(edge_stack, "127.0.0.3")
    async with http_from(edge_stack, "127.0.0.12") as guesser:
        guesses = [f"intento-{i}" for i in range(200)] + [PASSWORD]
        answers = await asyncio.gather(
            *(
                guesser.post("/api/auth/login", json={"usuario": victim.usuario, "password": guess})
                for guess in guesses
            )
        )
    checked = [r for r in answers if r.status_code in (200, 401)]
    assert len(checked) <= GUESSES_CHECKED
    assert {r.status_code for r in answers} <= {200, 401, 429}
    # The real agent, from their own address, is not locked out.
    assert (await victim.login()).status_code == 200


async def test_a_forged_x_forwarded_for_does_not_change_the_address(
    edge_stack: RunningStack,
) -> None:
    async with http_from(edge_stack, "127.0.0.13") as liar:
        answers = [
            await liar.post(
                "/api/auth/login",
                json={"usuario": f"nadie{i}", "password": "x"},
                headers={"X-Forwarded-For": f"10.9.{i}.1", "X-Real-Ip": f"10.9.{i}.1"},
            )
            for i in range(RATE + 1)
        ]
    assert [r.status_code for r in answers[:RATE]] == [401] * RATE
    assert answers[RATE].status_code == 429


async def test_huge_bodies_are_refused_before_auth_reads_them(edge_stack: RunningStack) -> None:
    support = await agent(edge_stack, "127.0.0.3")
    auth_pid = edge_stack.pid("services:auth")
    before = rss_mb(auth_pid)

    async def fifty_megabytes() -> AsyncIterator[bytes]:
        yield b'{"usuario": "ana", "nombre": "Ana", "password": "'
        for _ in range(800):
            yield b"x" * 65536

    async with http_from(edge_stack, "127.0.0.14") as sender:
        answers = await asyncio.gather(
            *(
                sender.post(
                    "/api/auth/register",
                    content=fifty_megabytes(),
                    headers={"Content-Type": "application/json"},
                )
                for _ in range(8)
            ),
            return_exceptions=True,
        )
    # Each is refused, or cut off mid-upload (the answer comes before the body is sent).
    statuses = [a.status_code if isinstance(a, httpx.Response) else "cut" for a in answers]
    assert set(statuses) <= {413, "cut"}
    assert rss_mb(auth_pid) - before < 100
    # Announced, not sent: the 413 arrives before a byte of the body does, well before the
    # gateway's 10 s read timeout would end the request (when a proxy that waits for the
    # body would let the service's own refusal through).
    host, port = edge_stack.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", int(port), local_addr=("127.0.0.14", 0)
    )
    writer.write(
        f"POST /api/auth/register HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n".encode()
    )
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
    (length,) = (line[15:] for line in head.lower().splitlines() if line[:15] == "content-length:")
    body = json.loads(await asyncio.wait_for(reader.readexactly(int(length)), 5))
    writer.close()
    assert head.startswith("HTTP/1.1 413")
    assert body == {"error": ERROR_TEXTS[ErrorCode.TOO_LARGE], "codigo": ErrorCode.TOO_LARGE}
    await still_served(edge_stack, "127.0.0.15", support)


async def test_hostile_input_is_answered_4xx_never_500(edge_stack: RunningStack) -> None:
    support = await agent(edge_stack, "127.0.0.3")
    ana = await customer(edge_stack, "127.0.0.16")
    async with http_from(edge_stack, "127.0.0.16") as http:
        nul_login = await http.post(
            "/api/auth/login",
            content=b'{"usuario": "ana\\u0000", "password": "x"}',
            headers={"Content-Type": "application/json"},
        )
        imitations = [
            await register(http, "adm1n"),
            await register(http, "admin."),
            await register(http, f"ana-{uuid.uuid4().hex[:6]}", "Equipo de soporte"),
            await register(http, f"ana-{uuid.uuid4().hex[:6]}", "Ѕoporte"),
        ]
    nul_query = await support.get("/api/usuarios-conversaciones", q="an\x00a")
    assert (nul_login.status_code, nul_login.json()["codigo"]) == (422, "datos_invalidos")
    assert (nul_query.status_code, nul_query.json()["codigo"]) == (422, "datos_invalidos")
    assert {(r.status_code, r.json()["codigo"]) for r in imitations} == {(409, "nombre_reservado")}
    async with Live(ana) as chat:
        assert chat.sio is not None
        blank = await chat.send("admin", "\u3164\u200b")
        assert blank["codigo"] == "vacio"
        # A lone surrogate, sent raw (no client library would encode it).
        surrogate = await chat.sio.call(
            "mensaje_privado", {"para": "admin", "mensaje": "hola \ud800"}, timeout=10
        )
        assert surrogate["codigo"] == "caracteres"
    assert await ana.stored_ids() == []


async def test_every_error_is_the_contracts_json_the_gateways_own_included(
    edge_stack: RunningStack,
) -> None:
    someone = await customer(edge_stack, "127.0.0.17")
    async with http_from(edge_stack, "127.0.0.17") as http:
        answers = {
            400: await http.get("/socket.io/", params={"EIO": "3", "transport": "polling"}),
            401: await http.get("/api/mensajes/mios"),
            403: await http.get(
                "/api/usuarios-conversaciones", headers={"Cookie": f"token={someone.token}"}
            ),
            404: await http.get("/metrics"),
            405: await http.put("/api/auth/login"),
            413: await http.post("/api/auth/login", content=b"{" + b" " * 70_000 + b"}"),
            422: await http.post("/api/auth/register", json={"usuario": "A B"}),
        }
        page = await http.get("/no-existe")
    async with session_from("127.0.0.18") as session:
        held = [
            await session.ws_connect(f"{edge_stack.url}/socket.io/?EIO=4&transport=websocket")
            for _ in range(1000)
        ]
        async with session.get(f"{edge_stack.url}/socket.io/?EIO=4&transport=polling") as over:
            answers_429 = (over.status, await over.json())
        for ws in held:
            await ws.close()
    for status, response in answers.items():
        assert response.status_code == status
        assert set(response.json()) >= {"error", "codigo"}, (status, response.text)
    assert (page.status_code, page.json()["codigo"]) == (404, "no_encontrado")
    assert answers_429 == (
        429,
        {
            "error": "Demasiadas conexiones abiertas desde tu dirección; cierra alguna e "
            "inténtalo de nuevo",
            "codigo": "demasiadas_conexiones",
        },
    )


async def test_a_users_sockets_are_capped_across_replicas(edge_stack: RunningStack) -> None:
    """SOPORTE_MAX_SOCKETS_PER_USER (20), counted across both replicas (the gateway hands
    new sockets to each in turn): the 21st is refused with `Demasiadas conexiones`."""
    ana = await customer(edge_stack, "127.0.0.19")
    async with contextlib.AsyncExitStack() as tabs:
        for _ in range(20):
            await tabs.enter_async_context(Live(ana))
        extra = Live(ana)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await extra.__aenter__()
        assert extra.refused[-1]["message"] == "Demasiadas conexiones"
        await extra.__aexit__()


async def test_a_stalled_redis_gets_503_in_time_and_logout_says_it_did_not_happen(
    edge_stack: RunningStack,
) -> None:
    ana = Someone(edge_stack, "127.0.0.20", f"ana-{uuid.uuid4().hex[:6]}")
    async with http_from(edge_stack, "127.0.0.20") as http:
        assert (await register(http, ana.usuario)).status_code == 201
    assert (await ana.login()).status_code == 200
    await edge_stack.control("signal", "STOP", "infra:redis")
    try:
        async with http_from(edge_stack, "127.0.0.20", cookies={"token": ana.token}) as http:
            started = time.monotonic()
            login = await http.post(
                "/api/auth/login", json={"usuario": ana.usuario, "password": PASSWORD}
            )
            logout = await http.post("/api/auth/logout")
            per_answer = (time.monotonic() - started) / 2
    finally:
        await edge_stack.control("signal", "CONT", "infra:redis")
    assert (login.status_code, login.json()["codigo"]) == (503, "no_disponible")
    assert (logout.status_code, logout.json()["codigo"]) == (503, "sesion_no_cerrada")
    assert "set-cookie" not in logout.headers
    assert per_answer < 6  # SOPORTE_REQUEST_DEADLINE_SECONDS (5) and the gateway's hop
    # Redis is back: the session was never ended, and now it is.
    await eventually(lambda: _status(ana, "/api/auth/me", 200), timeout=30)
    async with http_from(edge_stack, "127.0.0.20", cookies={"token": ana.token}) as http:
        assert (await http.post("/api/auth/logout")).status_code == 204
    assert (await ana.get("/api/auth/me")).status_code == 401


async def _status(who: Someone, path: str, status: int) -> bool:
    return (await who.get(path)).status_code == status
