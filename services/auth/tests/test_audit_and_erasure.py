"""What auth adds to the audit trail (agents' logins, agents created by an operator), and
what it refuses while a customer is being erased (their login, the username), against
real Postgres and Redis."""

import asyncio

import httpx
import pytest
import structlog
from redis.asyncio import Redis

from soporte_auth.cli import main as auth_cli
from soporte_common import keys
from soporte_stack.testing import RunningStack

pytestmark = pytest.mark.integration


async def audited(redis: Redis) -> list[dict[str, str]]:
    entries = await redis.xrange(keys.AUDIT_STREAM)
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]


async def login(client: httpx.AsyncClient, usuario: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"usuario": usuario, "password": password})


async def test_agents_logins_and_creations_are_audited_and_customers_logins_are_not(
    client: httpx.AsyncClient, redis: Redis, infra: RunningStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first agent, created at start-up from the settings, by nobody in particular.
    [first] = await audited(redis)
    assert (first["agente"], first["accion"], first["objetivo"]) == ("", "agente_creado", "admin")
    monkeypatch.setenv("SOPORTE_DATABASE_URL", infra.database_url)
    monkeypatch.setenv("SOPORTE_REDIS_URL", infra.redis_url)
    monkeypatch.setenv("SOPORTE_NEW_ADMIN_PASSWORD", "agente-secreto")
    assert await asyncio.to_thread(auth_cli, ["create-admin", "maria"]) == 0
    assert await asyncio.to_thread(auth_cli, ["create-admin", "maria"]) == 1  # exists: no entry
    # The command configured logging for a process of its own: undo that here, or loggers
    # first used below would keep its configuration (and escape other tests' capture).
    structlog.reset_defaults()

    assert (await login(client, "maria", "agente-secreto")).status_code == 200
    assert (await login(client, "maria", "mal")).status_code == 401
    await client.post(
        "/api/auth/register", json={"usuario": "ana", "nombre": "Ana", "password": "secreto-123"}
    )
    assert (await login(client, "ana", "secreto-123")).status_code == 200

    entries = await audited(redis)
    assert [(e["agente"], e["accion"], e["objetivo"]) for e in entries[1:]] == [
        ("", "agente_creado", "maria"),
        ("maria", "inicio_sesion", "maria"),
    ]
    assert entries[2]["detalles"] == '{"direccion":"127.0.0.1"}'


async def test_while_a_customer_is_erased_their_login_and_their_name_are_refused(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    body = {"usuario": "ana", "nombre": "Ana", "password": "secreto-123"}
    assert (await client.post("/api/auth/register", json=body)).status_code == 201
    # history-api's erasure begins: the tombstone, then the directory entry goes.
    await redis.set(keys.erased("ana"), "ahora")
    await redis.hdel(keys.USER_DIRECTORY, "ana")

    refused = await login(client, "ana", "secreto-123")
    assert refused.status_code == 401
    assert refused.json()["codigo"] == "credenciales"
    assert "token" not in refused.cookies
    assert await redis.hget(keys.USER_DIRECTORY, "ana") is None  # not published again
    taken = await client.post("/api/auth/register", json=body | {"usuario": "ana"})
    assert taken.status_code == 409

    await redis.delete(keys.erased("ana"))  # the tombstone expired (the row is still here)
    assert (await login(client, "ana", "secreto-123")).status_code == 200
    assert await redis.hget(keys.USER_DIRECTORY, "ana") == b"user"
