"""Auth at the edge (issue 13), against real Redis and Postgres: what one client address may
cost auth, password guessing that neither succeeds nor locks the real user out, team names
kept for the team, hostile input answered 4xx, and 503 in time when Redis stalls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from redis.asyncio import Redis

from soporte_auth.app import create_app
from soporte_auth.names import TeamNames
from soporte_auth.passwords import AddressBusyError, Hashing
from soporte_auth.settings import AuthSettings
from soporte_stack.stall import stallable
from soporte_stack.testing import RunningStack

pytestmark = pytest.mark.integration

PASSWORD = "secreto-123"
Clients = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def running(settings: AuthSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        yield manager.app  # type: ignore[misc]


def clients_of(app: FastAPI) -> Clients:
    """Clients of one running app, each from its own address."""

    @asynccontextmanager
    async def client(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            yield c

    return client


@pytest.fixture
async def from_address(settings: AuthSettings, clean: None) -> AsyncIterator[Clients]:
    async with running(settings) as app:
        yield clients_of(app)


async def register(http: httpx.AsyncClient, usuario: str, nombre: str = "Ana") -> httpx.Response:
    return await http.post(
        "/api/auth/register", json={"usuario": usuario, "nombre": nombre, "password": PASSWORD}
    )


async def login(http: httpx.AsyncClient, usuario: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/auth/login", json={"usuario": usuario, "password": password})


# ---------------------------------------------------------------- requests per address


async def test_each_address_gets_its_own_budget_shared_by_every_replica(
    settings: AuthSettings, clean: None
) -> None:
    settings = settings.model_copy(update={"auth_rate_per_minute": 4})
    async with running(settings) as one, running(settings) as two:
        async with clients_of(one)("10.0.0.2") as a1, clients_of(two)("10.0.0.2") as a2:
            answers = [
                await login(http, f"nadie{i}", "x") for i, http in enumerate((a1, a2, a1, a2, a1))
            ]
        assert [r.status_code for r in answers] == [401, 401, 401, 401, 429]
        refused = answers[-1]
        assert refused.json()["codigo"] == "demasiadas_peticiones"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        async with clients_of(two)("10.0.0.3") as other:
            assert (await register(other, "bea")).status_code == 201


# ---------------------------------------------------------------- password guessing


async def test_concurrent_guesses_check_at_most_the_allowed_number(
    from_address: Clients, settings: AuthSettings
) -> None:
    """Counted before the password is checked: 40 guesses at once, the right one among
    them, and still only `login_failures_allowed` (3) are ever checked."""
    async with from_address("10.0.1.1") as attacker, from_address("10.0.1.9") as ana:
        assert (await register(ana, "ana")).status_code == 201
        guesses = [f"intento-{i}" for i in range(39)] + [PASSWORD]
        answers = await asyncio.gather(*(login(attacker, "ana", g) for g in guesses))
    checked = [r for r in answers if r.status_code in (200, 401)]
    assert len(checked) <= settings.login_failures_allowed
    assert {r.status_code for r in answers} - {200, 401} == {429}


async def test_a_stranger_cannot_lock_the_real_user_out(from_address: Clients) -> None:
    async with from_address("10.0.2.1") as stranger, from_address("10.0.2.2") as ana:
        assert (await register(ana, "ana")).status_code == 201
        for _ in range(5):
            await login(stranger, "ana", "adivina")
        locked = await login(stranger, "ana", PASSWORD)
        assert locked.status_code == 429
        assert locked.json()["codigo"] == "demasiados_intentos"
        assert int(locked.headers["retry-after"]) > 0
        assert (await login(ana, "ana")).status_code == 200


async def test_a_guessing_botnet_pauses_the_username_but_not_for_its_known_addresses(
    settings: AuthSettings, clean: None
) -> None:
    settings = settings.model_copy(update={"login_failures_allowed_per_user": 4})
    async with running(settings) as app:
        client = clients_of(app)
        async with client("10.0.3.9") as ana:
            await register(ana, "ana")
            assert (await login(ana, "ana")).status_code == 200  # a known address now
        for bot in range(4):
            async with client(f"10.0.3.{bot + 1}") as guesser:
                assert (await login(guesser, "ana", "adivina")).status_code == 401
        async with client("10.0.3.50") as newcomer:
            assert (await login(newcomer, "ana")).status_code == 429
        async with client("10.0.3.9") as ana:
            assert (await login(ana, "ana")).status_code == 200


async def test_failed_logins_and_lockouts_are_logged_with_the_address(
    from_address: Clients,
) -> None:
    async with from_address("10.0.4.1") as stranger:
        with structlog.testing.capture_logs() as logs:
            for _ in range(4):
                await login(stranger, "ana", "adivina")
    events = [(e["event"], e.get("direccion"), e.get("usuario")) for e in logs]
    assert ("login failed", "10.0.4.1", "ana") in events
    assert ("login refused: locked out", "10.0.4.1", "ana") in events


# ---------------------------------------------------------------- the cost of hashing


async def test_one_address_hashing_waits_behind_itself_not_others() -> None:
    """Five password checks from one address and one from another: with a hash at a time
    per address, the other address's finishes before the flood's second."""
    hashing = Hashing(threads=2, per_address=1)
    finished: list[str] = []

    async def check(address: str) -> None:
        await hashing.verify(address, "clave", None)
        finished.append(address)

    try:
        flood = [asyncio.create_task(check("flood")) for _ in range(5)]
        await asyncio.sleep(0)
        await check("other")
        await asyncio.gather(*flood)
    finally:
        hashing.close()
    assert finished.index("other") <= 1


async def test_an_address_with_its_share_of_checks_waiting_is_told_to_slow_down() -> None:
    hashing = Hashing(threads=1, per_address=1)
    try:
        answers = await asyncio.gather(
            *(hashing.verify("flood", "clave", None) for _ in range(10)), return_exceptions=True
        )
    finally:
        hashing.close()
    busy = [a for a in answers if isinstance(a, AddressBusyError)]
    assert 0 < len(busy) < 10


# ---------------------------------------------------------------- names and input


@pytest.mark.parametrize(
    ("usuario", "nombre"),
    [
        ("admin.", "Ana"),
        ("adm1n", "Ana"),
        ("equipo-de-soporte", "Ana"),
        ("soporte24", "Ana"),
        ("ana", "Equipo de soporte"),
        ("ana", "SOPORTE"),
        ("ana", "Ѕoporte"),  # a Cyrillic Ѕ
        ("ana", "Ｓｏｐｏｒｔｅ"),  # fullwidth
        ("ana", "Juan (Administrador)"),
    ],
)
async def test_customers_cannot_pass_for_the_team(
    from_address: Clients, usuario: str, nombre: str
) -> None:
    async with from_address("10.0.5.1") as http:
        response = await register(http, usuario, nombre)
    assert response.status_code == 409
    assert response.json()["codigo"] == "nombre_reservado"


def test_ordinary_names_are_not_taken_for_the_teams() -> None:
    names = TeamNames(["Equipo de soporte"])
    for usuario in ("ana", "badminton", "cliente1", "maria.lopez", "equipo"):
        assert not names.imitated_by_username(usuario), usuario
    for nombre in ("Ana García", "Badminton Club", "María", "Lola"):
        assert not names.imitated_by_display_name(nombre), nombre


@pytest.mark.parametrize(
    "body",
    [
        rb'{"usuario": "ana\u0000", "password": "x"}',
        rb'{"usuario": "\u0000", "password": "x"}',
        rb'{"usuario": "ana", "password": "\ud800"}',
    ],
)
async def test_nul_and_lone_surrogates_are_refused_as_input(
    from_address: Clients, body: bytes
) -> None:
    async with from_address("10.0.6.1") as http:
        response = await http.post(
            "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422
    assert response.json()["codigo"] == "datos_invalidos"


async def test_a_large_body_is_refused_before_it_is_read(from_address: Clients) -> None:
    async def fifty_megabytes() -> AsyncIterator[bytes]:
        yield b'{"usuario": "ana", "password": "'
        for _ in range(50 * 16):
            yield b"x" * 65536

    async with from_address("10.0.7.1") as http:
        streamed = await http.post(
            "/api/auth/register",
            content=fifty_megabytes(),
            headers={"Content-Type": "application/json"},
        )
        announced = await http.post("/api/auth/login", content=b"{" + b" " * 70_000 + b"}")
    for response in (streamed, announced):
        assert response.status_code == 413
        assert response.json()["codigo"] == "demasiado_grande"


# ---------------------------------------------------------------- a stalled Redis


async def test_a_stalled_redis_gets_a_503_in_time_and_logout_says_it_did_not_happen(
    settings: AuthSettings, clean: None, infra: RunningStack
) -> None:
    async with stallable(infra.redis_url) as redis:
        settings = settings.model_copy(update={"redis_url": redis.url})
        async with running(settings) as app, clients_of(app)("10.0.8.1") as http:
            await register(http, "ana")
            assert (await login(http, "ana")).status_code == 200
            redis.stall()
            started = time.monotonic()
            answers = [
                await login(http, "ana"),
                await register(http, "bea"),
                await http.post("/api/auth/logout"),
            ]
            elapsed = (time.monotonic() - started) / len(answers)
            assert [r.status_code for r in answers] == [503, 503, 503]
            assert all(r.headers["content-type"] == "application/json" for r in answers)
            assert answers[2].json()["codigo"] == "sesion_no_cerrada"
            assert "set-cookie" not in answers[2].headers  # the cookie stays: still signed in
            assert elapsed <= settings.request_deadline_seconds + 1
            redis.resume()
            assert (await http.get("/api/auth/me")).status_code == 200
            assert (await http.post("/api/auth/logout")).status_code == 204


async def test_api_docs_are_served_in_local_mode_only(settings: AuthSettings, clean: None) -> None:
    production = settings.model_copy(update={"env": "production"})
    async with running(production) as app, clients_of(app)("10.0.9.1") as http:
        assert (await http.get("/api/auth/docs")).status_code == 404
        assert (await http.get("/api/auth/openapi.json")).status_code == 200


async def test_redis_dropping_every_connection_costs_no_request_an_error(
    from_address: Clients, infra: RunningStack
) -> None:
    """What a Redis restart does to the pooled connections: each is replaced on first use
    (the one retry auth allows is for a broken connection, never for a timeout)."""
    async with from_address("10.0.8.3") as http:
        await register(http, "ana")
        assert (await login(http, "ana")).status_code == 200
        killer = Redis.from_url(infra.redis_url)
        await killer.client_kill_filter(_type="normal", skipme=True)
        await killer.aclose()
        assert (await http.get("/api/auth/me")).status_code == 200
        assert (await login(http, "ana")).status_code == 200


async def test_a_stalled_postgres_gets_a_503_in_time(
    settings: AuthSettings, clean: None, infra: RunningStack
) -> None:
    async with stallable(infra.database_url) as postgres:
        settings = settings.model_copy(
            update={"database_url": SecretStr(postgres.url), "database_pool_size": 2}
        )
        async with running(settings) as app, clients_of(app)("10.0.8.2") as http:
            postgres.stall()
            started = time.monotonic()
            answers = [await login(http, "admin", "soporte-admin"), await register(http, "bea")]
            elapsed = (time.monotonic() - started) / len(answers)
            assert [r.status_code for r in answers] == [503, 503]
            assert {r.json()["codigo"] for r in answers} == {"no_disponible"}
            assert elapsed <= settings.request_deadline_seconds + 1
            postgres.resume()
