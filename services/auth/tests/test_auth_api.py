"""The auth endpoints against real Postgres and Redis."""

import asyncio

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from soporte_auth.cli import main as auth_cli
from soporte_common import keys
from soporte_common.tokens import TokenCodec
from soporte_stack.testing import RunningStack

pytestmark = pytest.mark.integration


async def register(
    client: httpx.AsyncClient,
    usuario: str = "ana",
    nombre: str = "Ana",
    password: str = "secreto-123",
) -> httpx.Response:
    return await client.post(
        "/api/auth/register", json={"usuario": usuario, "nombre": nombre, "password": password}
    )


async def test_register_then_login_sets_an_http_only_session_cookie(
    client: httpx.AsyncClient,
) -> None:
    created = await register(client)
    assert created.status_code == 201
    assert created.json() == {"usuario": "ana", "nombre": "Ana", "rol": "user"}

    login = await client.post("/api/auth/login", json={"usuario": "ana", "password": "secreto-123"})
    assert login.status_code == 200
    assert login.json() == {"usuario": "ana", "nombre": "Ana", "rol": "user"}
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("token=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=28800"):
        assert attribute.lower() in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http locally

    me = await client.get("/api/auth/me")
    assert me.json() == {"usuario": "ana", "nombre": "Ana", "rol": "user"}


async def test_passwords_are_stored_as_argon2id_hashes(
    client: httpx.AsyncClient, infra: RunningStack
) -> None:
    await register(client)
    conn = await asyncpg.connect(infra.database_url)
    stored = await conn.fetchval("SELECT password_hash FROM usuarios WHERE usuario = 'ana'")
    await conn.close()
    assert stored.startswith("$argon2id$")
    assert "secreto-123" not in stored


async def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    wrong = await client.post("/api/auth/login", json={"usuario": "ana", "password": "nope-nope"})
    unknown = await client.post("/api/auth/login", json={"usuario": "nadie", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"error": "Usuario o contraseña incorrectos", "codigo": "credenciales"}
    )
    assert "set-cookie" not in wrong.headers


async def test_repeated_failures_pause_logins_for_that_username(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(3):
        await client.post("/api/auth/login", json={"usuario": "ana", "password": "bad-guess"})
    locked = await client.post(
        "/api/auth/login", json={"usuario": "ana", "password": "secreto-123"}
    )
    assert locked.status_code == 429


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"usuario": "Ana Lopez", "nombre": "Ana", "password": "secreto-123"}, "usuario"),
        ({"usuario": "ana", "nombre": "Ana\u202e", "password": "secreto-123"}, "nombre"),
        ({"usuario": "ana", "nombre": "   ", "password": "secreto-123"}, "nombre"),
        ({"usuario": "ana", "nombre": "Ana", "password": "corta"}, "password"),
    ],
)
async def test_bad_registrations_are_refused_with_the_field_named(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["error"] == "Datos inválidos"
    assert [d["campo"] for d in response.json()["detalles"]] == [field]
    login = await client.post("/api/auth/login", json={"usuario": "ana", "password": "secreto-123"})
    assert login.status_code == 401


async def test_usernames_are_unique_and_support_names_are_reserved(
    client: httpx.AsyncClient,
) -> None:
    assert (await register(client)).status_code == 201
    assert (await register(client)).status_code == 409
    # "admin" is where customers write: nobody may register it, whatever the first agent's name.
    assert (await register(client, usuario="admin")).status_code == 409
    assert (await register(client, usuario="soporte")).status_code == 409


async def test_self_registration_never_creates_an_agent(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"usuario": "eve", "nombre": "Eve", "password": "secreto-123", "rol": "admin"},
    )
    assert response.json()["rol"] == "user"


async def test_the_first_agent_and_demo_customer_exist_after_start(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    admin = await client.post(
        "/api/auth/login", json={"usuario": "admin", "password": "soporte-admin"}
    )
    assert admin.json()["rol"] == "admin"
    assert await redis.hget(keys.USER_DIRECTORY, "admin") == b"admin"
    assert await redis.hget(keys.USER_DIRECTORY, "cliente") == b"user"


async def test_logout_revokes_the_token_everywhere(client: httpx.AsyncClient, redis: Redis) -> None:
    await register(client)
    await client.post("/api/auth/login", json={"usuario": "ana", "password": "secreto-123"})
    token = client.cookies["token"]
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.REVOCATIONS_CHANNEL)
    await pubsub.get_message(timeout=1)  # the subscribe confirmation

    response = await client.post("/api/auth/logout")
    assert response.status_code == 204
    assert (
        'token=""' in response.headers["set-cookie"]
        or "Max-Age=0" in response.headers["set-cookie"]
    )
    announced = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    assert announced is not None
    await pubsub.aclose()

    client.cookies.clear()
    replay = await client.get("/api/auth/me", headers={"Cookie": f"token={token}"})
    assert replay.status_code == 401
    assert replay.json() == {"error": "Token inválido", "codigo": "token_invalido"}


async def test_me_without_cookie_or_with_forged_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/auth/me")).json() == {
        "error": "No autenticado",
        "codigo": "no_autenticado",
    }
    forged, _ = TokenCodec("x" * 40).issue(user="admin", nombre="A", rol="admin", ttl_seconds=60)
    response = await client.get("/api/auth/me", headers={"Cookie": f"token={forged}"})
    assert response.status_code == 401


async def test_a_token_claiming_a_role_the_user_lacks_is_refused(
    client: httpx.AsyncClient, settings: object
) -> None:
    await register(client)
    codec = TokenCodec(client_secret(settings))
    elevated, _ = codec.issue(user="ana", nombre="Ana", rol="admin", ttl_seconds=60)
    response = await client.get("/api/auth/me", headers={"Cookie": f"token={elevated}"})
    assert response.status_code == 401


def client_secret(settings: object) -> str:
    return settings.jwt_secret.get_secret_value()  # type: ignore[attr-defined]


async def test_the_directory_is_rebuilt_after_redis_loses_its_data(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    await register(client)
    await redis.flushdb()
    for _ in range(100):
        if await redis.hget(keys.USER_DIRECTORY, "ana") == b"user":
            break
        await asyncio.sleep(0.1)
    assert await redis.hget(keys.USER_DIRECTORY, "ana") == b"user"


async def test_operator_command_adds_an_agent(
    client: httpx.AsyncClient, infra: RunningStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPORTE_DATABASE_URL", infra.database_url)
    monkeypatch.setenv("SOPORTE_REDIS_URL", infra.redis_url)
    monkeypatch.setenv("SOPORTE_NEW_ADMIN_PASSWORD", "agente-secreto")
    code = await asyncio.to_thread(auth_cli, ["create-admin", "maria", "--nombre", "María"])
    assert code == 0
    login = await client.post(
        "/api/auth/login", json={"usuario": "maria", "password": "agente-secreto"}
    )
    assert login.json() == {"usuario": "maria", "nombre": "María", "rol": "admin"}
    again = await asyncio.to_thread(auth_cli, ["create-admin", "maria"])
    assert again == 1
