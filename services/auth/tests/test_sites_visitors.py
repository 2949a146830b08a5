"""The website widget's side of auth, against real Postgres and Redis: sites (the CLI and
their Redis copy), visitors created by their first message and limited per address,
credentials and identities exchanged for short-lived tokens that carry the site."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from soporte_auth.app import create_app
from soporte_auth.settings import AuthSettings
from soporte_common import keys
from soporte_common.sites import Site
from soporte_stack.config import run_script
from soporte_stack.testing import RunningStack, eventually

pytestmark = pytest.mark.integration

SHOP = "https://shop.example.com"


def sites_cli(infra: RunningStack, *args: str) -> tuple[int, list[str], str]:
    """The real console script, as an operator runs it: (exit code, stdout lines, stderr)."""
    env = os.environ | {
        "SOPORTE_DATABASE_URL": infra.database_url,
        "SOPORTE_REDIS_URL": infra.redis_url,
        "SOPORTE_ENV": "local",
    }
    result = run_script("soporte-auth", *args, env=env)
    return result.returncode, result.stdout.splitlines(), result.stderr


async def create_site(infra: RunningStack, *origins: str) -> dict[str, str]:
    args = [part for origin in origins for part in ("--origin", origin)]
    code, lines, err = await asyncio.to_thread(sites_cli, infra, "create-site", *args)
    assert code == 0, err
    (line,) = lines
    created: dict[str, str] = json.loads(line)
    return created


def identity(secret: str, sub: str = "cliente-42", *, ttl: int = 3600, **claims: Any) -> str:
    payload = {"sub": sub, "name": "Ana Pérez", "exp": int(time.time()) + ttl} | claims
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.fixture
async def site(infra: RunningStack, clean: None) -> dict[str, str]:
    return await create_site(infra, SHOP)


def decode(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def test_create_site_prints_exactly_one_json_line_and_lists_without_the_secret(
    infra: RunningStack, clean: None, redis: Redis
) -> None:
    created = await create_site(infra, SHOP + "/", "http://localhost:8087")
    assert set(created) == {"site", "identity_secret"}
    assert len(created["identity_secret"]) >= 40

    code, lines, _ = await asyncio.to_thread(sites_cli, infra, "list-sites")
    assert code == 0
    (listed,) = [json.loads(line) for line in lines]
    assert listed["site"] == created["site"]
    assert listed["origins"] == [SHOP, "http://localhost:8087"]  # as browsers send them
    assert created["identity_secret"] not in "\n".join(lines)

    copy = Site.model_validate_json(await redis.hget(keys.SITES, created["site"]))
    assert copy.origenes == [SHOP, "http://localhost:8087"]
    assert created["identity_secret"] not in str(await redis.hgetall(keys.SITES))

    conn = await asyncpg.connect(infra.database_url)
    stored = await conn.fetchval("SELECT secreto FROM sitios WHERE sitio = $1", created["site"])
    await conn.close()
    assert created["identity_secret"] not in stored  # sealed at rest

    trail = [
        {k.decode(): v.decode() for k, v in fields.items()}
        for _, fields in await redis.xrange(keys.AUDIT_STREAM)
    ]
    (audited,) = [e for e in trail if e["objetivo"] == created["site"]]
    assert (audited["agente"], audited["accion"]) == ("", "sitio_creado")
    assert created["identity_secret"] not in str(trail)


async def test_create_site_refuses_what_is_not_an_origin(infra: RunningStack, clean: None) -> None:
    for bad in ("shop.example.com", "https://shop.example.com/tienda", "ftp://shop.example.com"):
        code, lines, err = await asyncio.to_thread(sites_cli, infra, "create-site", "--origin", bad)
        assert code == 2, bad
        assert lines == []
        assert "not an origin" in err


async def test_delete_site_removes_it_and_its_copy(
    infra: RunningStack, site: dict[str, str], redis: Redis
) -> None:
    code, lines, _ = await asyncio.to_thread(sites_cli, infra, "delete-site", site["site"])
    assert code == 0
    assert json.loads(lines[0]) == {"site": site["site"], "deleted": True}
    assert await redis.hget(keys.SITES, site["site"]) is None
    again, _, err = await asyncio.to_thread(sites_cli, infra, "delete-site", site["site"])
    assert again == 1
    assert "no site" in err


async def test_the_sites_copy_comes_back_when_redis_loses_it(
    client: httpx.AsyncClient, site: dict[str, str], redis: Redis
) -> None:
    await redis.flushdb()
    await eventually(lambda: redis.hexists(keys.SITES, site["site"]), timeout=15)


async def test_an_anonymous_visitor_gets_a_credential_and_a_token_carrying_the_site(
    client: httpx.AsyncClient, site: dict[str, str], redis: Redis
) -> None:
    created = await client.post("/api/auth/visitantes", json={"sitio": site["site"]})
    assert created.status_code == 201, created.text
    visitor = created.json()
    assert visitor["usuario"].startswith("v-")
    assert visitor["verificado"] is False
    assert visitor["credencial"]
    claims = decode(visitor["token"])
    assert claims["sitio"] == site["site"]
    assert claims["rol"] == "user"
    assert claims["exp"] - claims["iat"] == 3600
    assert await redis.hget(keys.USER_DIRECTORY, visitor["usuario"]) == b"user"

    # The token opens the visitor's session (Authorization: Bearer, no cookie).
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {visitor['token']}"})
    assert me.json()["usuario"] == visitor["usuario"]

    again = await client.post(
        "/api/auth/visitantes/sesion",
        json={"sitio": site["site"], "credencial": visitor["credencial"]},
    )
    assert again.status_code == 200
    assert again.json()["usuario"] == visitor["usuario"]
    assert again.json()["credencial"] is None  # shown once, at creation
    assert decode(again.json()["token"])["jti"] != claims["jti"]


async def test_a_credential_is_only_good_for_its_own_site(
    client: httpx.AsyncClient, infra: RunningStack, site: dict[str, str]
) -> None:
    other = await create_site(infra, "https://other.example.com")
    visitor = (await client.post("/api/auth/visitantes", json={"sitio": site["site"]})).json()
    for body in (
        {"sitio": other["site"], "credencial": visitor["credencial"]},
        {"sitio": site["site"], "credencial": "not-a-credential"},
    ):
        answer = await client.post("/api/auth/visitantes/sesion", json=body)
        assert answer.status_code == 404
        assert answer.json()["codigo"] == "visitante_desconocido"


async def test_visitors_have_no_password_to_log_in_with(
    client: httpx.AsyncClient, site: dict[str, str]
) -> None:
    visitor = (await client.post("/api/auth/visitantes", json={"sitio": site["site"]})).json()
    for password in ("!", "", "secreto-123"):
        login = await client.post(
            "/api/auth/login", json={"usuario": visitor["usuario"], "password": password}
        )
        assert login.status_code == 401


async def test_unknown_sites_and_bad_bodies_are_refused(
    client: httpx.AsyncClient, site: dict[str, str]
) -> None:
    unknown = await client.post("/api/auth/visitantes", json={"sitio": "no-such-site-key"})
    assert unknown.status_code == 404
    assert unknown.json()["codigo"] == "sitio_desconocido"
    for body in (
        {"sitio": "a b"},
        {"sitio": site["site"], "credencial": "x", "identidad": "y"},
        {"sitio": site["site"]},
    ):
        answer = await client.post("/api/auth/visitantes/sesion", json=body)
        assert answer.status_code == 422, body


async def test_visitor_creation_is_limited_per_address(
    settings: AuthSettings, infra: RunningStack, clean: None
) -> None:
    site = await create_site(infra, SHOP)
    app = create_app(settings.model_copy(update={"auth_rate_per_minute": 3}))
    async with LifespanManager(app) as manager:

        def client(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=manager.app, client=(address, 50000))
            return httpx.AsyncClient(transport=transport, base_url="http://localhost")

        async with client("10.9.0.1") as bot, client("10.9.0.2") as person:
            answers = [
                await bot.post("/api/auth/visitantes", json={"sitio": site["site"]})
                for _ in range(5)
            ]
            assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
            assert answers[-1].json()["codigo"] == "demasiadas_peticiones"
            assert int(answers[-1].headers["retry-after"]) >= 1
            # Someone else, from their own address, still gets through.
            mine = await person.post("/api/auth/visitantes", json={"sitio": site["site"]})
            assert mine.status_code == 201
            # Coming back with a credential creates nothing and is not counted.
            for _ in range(5):
                back = await bot.post(
                    "/api/auth/visitantes/sesion",
                    json={"sitio": site["site"], "credencial": answers[0].json()["credencial"]},
                )
                assert back.status_code == 200


async def test_an_identity_makes_the_same_verified_visitor_on_every_device(
    client: httpx.AsyncClient, site: dict[str, str]
) -> None:
    secret = site["identity_secret"]
    # No account until the first message: coming back before it finds nobody.
    before = await client.post(
        "/api/auth/visitantes/sesion", json={"sitio": site["site"], "identidad": identity(secret)}
    )
    assert before.status_code == 404
    assert before.json()["codigo"] == "visitante_desconocido"

    first = await client.post(
        "/api/auth/visitantes",
        json={"sitio": site["site"], "identidad": identity(secret, email="ana@example.com")},
    )
    assert first.status_code == 201, first.text
    ana = first.json()
    assert ana["verificado"] is True
    assert ana["nombre"] == "Ana Pérez"
    assert ana["email"] == "ana@example.com"
    assert ana["credencial"] is None  # the company's page vouches each time instead

    # Another device: the same account, name and email as last signed.
    other_device = await client.post(
        "/api/auth/visitantes",
        json={"sitio": site["site"], "identidad": identity(secret, name="Ana P.")},
    )
    assert other_device.json()["usuario"] == ana["usuario"]
    assert other_device.json()["nombre"] == "Ana P."
    back = await client.post(
        "/api/auth/visitantes/sesion", json={"sitio": site["site"], "identidad": identity(secret)}
    )
    assert back.json()["usuario"] == ana["usuario"]


async def test_anonymous_and_verified_threads_are_kept_apart(
    client: httpx.AsyncClient, site: dict[str, str]
) -> None:
    anonymous = (await client.post("/api/auth/visitantes", json={"sitio": site["site"]})).json()
    verified = (
        await client.post(
            "/api/auth/visitantes",
            json={"sitio": site["site"], "identidad": identity(site["identity_secret"])},
        )
    ).json()
    assert verified["usuario"] != anonymous["usuario"]
    # The anonymous credential never leads to the verified account.
    back = await client.post(
        "/api/auth/visitantes/sesion",
        json={"sitio": site["site"], "credencial": anonymous["credencial"]},
    )
    assert back.json()["usuario"] == anonymous["usuario"]


async def test_two_first_messages_at_once_make_one_verified_visitor(
    client: httpx.AsyncClient, site: dict[str, str]
) -> None:
    token = identity(site["identity_secret"], sub="twice")
    answers = await asyncio.gather(
        *(
            client.post("/api/auth/visitantes", json={"sitio": site["site"], "identidad": token})
            for _ in range(4)
        )
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["usuario"] for a in answers}) == 1


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda s: identity(s)[:-3] + "abc", "signature"),
        (lambda s: identity("another site's secret, long enough to sign"), "signature"),
        (lambda s: identity(s, ttl=-600), "expired"),
        (lambda s: identity(s, ttl=3 * 24 * 3600), "24 h"),
        (lambda s: jwt.encode({"sub": "x", "name": "X"}, s, algorithm="HS256"), "exp"),
        (lambda s: identity(s, name=""), "name"),
        (lambda s: identity(s, email="not an email"), "email"),
        (lambda s: jwt.encode({"sub": "x", "name": "X", "exp": 1}, s, algorithm="HS512"), "HS256"),
        (lambda s: "not.a.jwt", "JWT"),
    ],
)
async def test_bad_identities_are_refused_with_a_clear_reason(
    client: httpx.AsyncClient, site: dict[str, str], make: Any, reason: str, infra: RunningStack
) -> None:
    for path in ("/api/auth/visitantes", "/api/auth/visitantes/sesion"):
        answer = await client.post(
            path, json={"sitio": site["site"], "identidad": make(site["identity_secret"])}
        )
        assert answer.status_code == 401, answer.text
        assert answer.json()["codigo"] == "identidad_invalida"
        assert reason in answer.json()["error"]
    conn = await asyncpg.connect(infra.database_url)
    created = await conn.fetchval("SELECT count(*) FROM visitantes")
    await conn.close()
    assert created == 0  # nothing under a refused identity


async def test_a_verified_token_never_outlives_its_identity(
    client: httpx.AsyncClient, site: dict[str, str]
) -> None:
    answer = await client.post(
        "/api/auth/visitantes",
        json={"sitio": site["site"], "identidad": identity(site["identity_secret"], ttl=300)},
    )
    claims = decode(answer.json()["token"])
    assert claims["exp"] - claims["iat"] <= 300


async def test_a_rotated_secret_keeps_verifying_while_the_backend_switches(
    client: httpx.AsyncClient, infra: RunningStack, site: dict[str, str]
) -> None:
    code, lines, _ = await asyncio.to_thread(sites_cli, infra, "rotate-site-secret", site["site"])
    assert code == 0
    new = json.loads(lines[0])["identity_secret"]
    assert new != site["identity_secret"]
    for secret in (site["identity_secret"], new):
        answer = await client.post(
            "/api/auth/visitantes",
            json={"sitio": site["site"], "identidad": identity(secret)},
        )
        assert answer.status_code == 201, answer.text


async def test_secrets_sealed_under_a_previous_jwt_key_are_sealed_again(
    settings: AuthSettings, infra: RunningStack, site: dict[str, str]
) -> None:
    new_key = "a-new-jwt-signing-key-of-at-least-32-characters"
    stores = {"database_url": infra.database_url, "redis_url": infra.redis_url}
    old_key = settings.jwt_secret.get_secret_value()
    rotated = AuthSettings(**stores, jwt_secret=new_key, jwt_previous_secrets=[old_key])
    async with LifespanManager(create_app(rotated)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            answer = await c.post(
                "/api/auth/visitantes",
                json={"sitio": site["site"], "identidad": identity(site["identity_secret"])},
            )
            assert answer.status_code == 201
    # Now the previous key can go: the secret opens with the new one alone.
    only_new = AuthSettings(**stores, jwt_secret=new_key)
    async with LifespanManager(create_app(only_new)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            answer = await c.post(
                "/api/auth/visitantes/sesion",
                json={"sitio": site["site"], "identidad": identity(site["identity_secret"])},
            )
            assert answer.status_code == 200


async def test_agents_list_the_sites_and_customers_may_not(
    client: httpx.AsyncClient, site: dict[str, str]
) -> None:
    login = await client.post(
        "/api/auth/login", json={"usuario": "admin", "password": "soporte-admin"}
    )
    assert login.status_code == 200
    listed = await client.get("/api/auth/sitios")
    assert listed.json() == [
        {"sitio": site["site"], "nombre": "shop.example.com", "origenes": [SHOP]}
    ]
    client.cookies.clear()
    visitor = (await client.post("/api/auth/visitantes", json={"sitio": site["site"]})).json()
    refused = await client.get(
        "/api/auth/sitios", headers={"Authorization": f"Bearer {visitor['token']}"}
    )
    assert refused.status_code == 403
