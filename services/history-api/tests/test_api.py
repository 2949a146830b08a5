"""The history endpoints through the app (consumer included) against real Redis and
Postgres: who may read what, the message and page shapes, paging, the agents' list."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.settings import LOCAL_JWT_SECRET
from soporte_common.tokens import SessionGuard, TokenCodec, key_id
from soporte_history.app import create_app, stop
from soporte_history.settings import HistorySettings
from soporte_stack.testing import eventually

from .conftest import (
    CODEC,
    account,
    as_user,
    entry,
    pending_count,
    reply,
    say,
)

pytestmark = pytest.mark.integration

READ_PATHS = ["/api/mensajes/mios", "/api/mensajes?con=ana", "/api/usuarios-conversaciones"]


async def mios(client: httpx.AsyncClient, token: str, **params: object) -> httpx.Response:
    return await client.get("/api/mensajes/mios", params=params, headers=as_user(token))


async def conversation(
    client: httpx.AsyncClient, token: str, con: str, **params: object
) -> httpx.Response:
    return await client.get("/api/mensajes", params={"con": con, **params}, headers=as_user(token))


async def conversations(client: httpx.AsyncClient, token: str, **params: object) -> httpx.Response:
    return await client.get("/api/usuarios-conversaciones", params=params, headers=as_user(token))


async def mark_read(client: httpx.AsyncClient, token: str, **body: str) -> httpx.Response:
    return await client.post("/api/mensajes/leidos", json=body, headers=as_user(token))


def texts(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [m["mensaje"] for m in response.json()["mensajes"]]


# ── who may read ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("path", READ_PATHS)
async def test_without_a_cookie_every_read_is_401(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json() == {"error": "No autenticado", "codigo": "no_autenticado"}


async def test_marking_read_without_a_cookie_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/mensajes/leidos", json={"hasta": "1-0"})
    assert response.status_code == 401
    assert response.json() == {"error": "No autenticado", "codigo": "no_autenticado"}


def forged_tokens() -> dict[str, str]:
    """Tokens that claim maria is an agent without the service's key having said so."""
    now = int(time.time())
    claims = {
        "user": "maria",
        "nombre": "María",
        "rol": "admin",
        "iat": now,
        "exp": now + 3600,
        "jti": "x" * 32,
    }
    kid = {"kid": key_id(LOCAL_JWT_SECRET)}
    ana, _ = CODEC.issue(user="ana", nombre="Ana", rol="user", ttl_seconds=3600)
    head, _, signature = ana.split(".")
    maria_payload = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    return {
        "another key": TokenCodec("another-secret-long-enough-to-sign-with").issue(
            user="maria", nombre="María", rol="admin", ttl_seconds=3600
        )[0],
        "another key, our kid": jwt.encode(
            claims, "not-the-secret-but-long-enough-to-sign", algorithm="HS256", headers=kid
        ),
        "payload swapped under a valid signature": f"{head}.{maria_payload}.{signature}",
        "alg none": jwt.encode(
            claims,
            key=None,
            algorithm="none",  # type: ignore[arg-type]
            headers=kid,
        ),
        "garbage": "not-a-jwt",
    }


@pytest.mark.parametrize("kind", list(forged_tokens()))
async def test_a_forged_token_is_401_token_invalido(
    client: httpx.AsyncClient, redis: Redis, kind: str
) -> None:
    await account(redis, "maria", "admin")
    await account(redis, "ana")
    for path in READ_PATHS:
        response = await client.get(path, headers=as_user(forged_tokens()[kind]))
        assert response.status_code == 401, (kind, path)
        assert response.json() == {"error": "Token inválido", "codigo": "token_invalido"}


async def test_an_expired_token_is_401(client: httpx.AsyncClient, redis: Redis) -> None:
    token = await account(redis, "ana", ttl=-5)
    response = await mios(client, token)
    assert response.status_code == 401
    assert response.json() == {"error": "Token inválido", "codigo": "token_invalido"}


async def test_a_revoked_session_is_401(client: httpx.AsyncClient, redis: Redis) -> None:
    token = await account(redis, "ana")
    assert (await mios(client, token)).status_code == 200
    await SessionGuard(CODEC, redis).revoke(CODEC.decode(token))  # what logout does
    response = await mios(client, token)
    assert response.status_code == 401
    assert response.json() == {"error": "Token inválido", "codigo": "token_invalido"}
    assert (await mark_read(client, token, hasta="1-0")).status_code == 401


async def test_a_token_for_a_removed_user_or_a_lost_role_is_401(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    agent = await account(redis, "maria", "admin")
    await redis.hset(keys.USER_DIRECTORY, "maria", "user")  # no longer an agent
    response = await conversations(client, agent)
    assert response.status_code == 401
    assert response.json() == {"error": "Token inválido", "codigo": "token_invalido"}
    ana = await account(redis, "ana")
    await redis.hdel(keys.USER_DIRECTORY, "ana")
    assert (await mios(client, ana)).status_code == 401


@pytest.mark.parametrize("path", READ_PATHS[1:])
async def test_a_user_asking_for_agent_data_is_403(
    client: httpx.AsyncClient, redis: Redis, path: str
) -> None:
    ana = await account(redis, "ana")
    await say(redis, "ana", "hola")
    response = await client.get(path, headers=as_user(ana))
    assert response.status_code == 403
    assert response.json() == {"error": "Solo administradores", "codigo": "solo_administradores"}


async def test_a_bearer_token_works_like_the_cookie(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    ana = await account(redis, "ana")
    await say(redis, "ana", "hola")
    response = await client.get("/api/mensajes/mios", headers={"Authorization": f"Bearer {ana}"})
    assert texts(response) == ["hola"]


# ── what a reader sees ────────────────────────────────────────────────────────────────


async def test_a_user_sees_only_their_own_conversation_oldest_first(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    ana, bob = await account(redis, "ana"), await account(redis, "bob")
    first = entry("ana", "hola, no puedo entrar")
    first_id = await say(redis, "ana", first.mensaje, fecha=first.fecha)
    await say(redis, "bob", "mensaje de bob")
    answer_id = await reply(redis, "maria", "ana", "¿qué error ves?")
    await reply(redis, "maria", "bob", "respuesta a bob")

    response = await mios(client, ana)
    assert response.status_code == 200
    body = response.json()
    assert body["hay_anteriores"] is False and body["hay_siguientes"] is False
    assert body["mensajes"][0] == {
        "tipo": "mensaje",
        "id": first_id,
        "de": "ana",
        "para": "admin",
        "mensaje": "hola, no puedo entrar",
        "fecha": first.fecha,
    }
    assert [(m["id"], m["de"], m["para"]) for m in body["mensajes"]] == [
        (first_id, "ana", "admin"),
        (answer_id, "maria", "ana"),
    ]
    assert set(body) == {"mensajes", "hay_anteriores", "hay_siguientes", "leido_hasta"}
    assert body["leido_hasta"] is None  # nothing read yet: the answer shows as unread
    read = await client.post(
        "/api/mensajes/leidos", json={"hasta": answer_id}, headers=as_user(ana)
    )
    assert read.status_code == 204, read.text
    assert (await mios(client, ana)).json()["leido_hasta"] == answer_id
    assert (await mios(client, bob)).json()["leido_hasta"] is None  # ana's mark is hers
    assert texts(await mios(client, bob)) == ["mensaje de bob", "respuesta a bob"]
    # A new user has an empty conversation, not someone else's.
    assert texts(await mios(client, await account(redis, "carla"))) == []


async def test_an_agent_reads_any_customers_conversation(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    agent = await account(redis, "maria", "admin")
    await say(redis, "ana", "hola")
    await reply(redis, "juan", "ana", "hola ana")
    await say(redis, "bob", "otra cosa")
    as_agent = await conversation(client, agent, "ana")
    assert texts(as_agent) == ["hola", "hola ana"]
    ana_view = await mios(client, await account(redis, "ana"))
    assert as_agent.json() == ana_view.json()
    assert texts(await conversation(client, agent, "nadie")) == []


@pytest.mark.parametrize("con", ["Ana", "ana%", "a", "' OR 1=1 --", ""])
async def test_an_invalid_conversation_name_is_422(
    client: httpx.AsyncClient, redis: Redis, con: str
) -> None:
    agent = await account(redis, "maria", "admin")
    response = await conversation(client, agent, con)
    assert response.status_code == 422
    assert response.json()["error"] == "Datos inválidos"


async def test_a_user_cannot_mark_another_conversation_read(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    ana = await account(redis, "ana")
    bob_said = await say(redis, "bob", "hola")
    response = await mark_read(client, ana, hasta=bob_said, con="bob")
    assert response.status_code == 403
    assert response.json() == {
        "error": "Solo puedes marcar tu propia conversación",
        "codigo": "prohibido",
    }
    assert (await mark_read(client, ana, hasta=bob_said, con="ana")).status_code == 204
    assert (await mark_read(client, ana, hasta=bob_said)).status_code == 204


# ── paging ────────────────────────────────────────────────────────────────────────────


async def test_paging_backwards_and_catching_up_forwards(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    ana = await account(redis, "ana")
    ids = [await say(redis, "ana", f"m{n}") for n in range(1, 8)]  # m1..m7
    await say(redis, "bob", "no es de ana")

    latest = (await mios(client, ana, limit=3)).json()
    assert [m["mensaje"] for m in latest["mensajes"]] == ["m5", "m6", "m7"]
    assert (latest["hay_anteriores"], latest["hay_siguientes"]) == (True, False)

    older = (await mios(client, ana, limit=3, before=latest["mensajes"][0]["id"])).json()
    assert [m["mensaje"] for m in older["mensajes"]] == ["m2", "m3", "m4"]
    assert (older["hay_anteriores"], older["hay_siguientes"]) == (True, True)

    oldest = (await mios(client, ana, limit=3, before=ids[1])).json()
    assert [m["mensaje"] for m in oldest["mensajes"]] == ["m1"]
    assert oldest["hay_anteriores"] is False

    # A client that reconnects asks for what came after the last id it saw.
    catch_up = (await mios(client, ana, limit=3, after=ids[2])).json()
    assert [m["mensaje"] for m in catch_up["mensajes"]] == ["m4", "m5", "m6"]
    assert catch_up["hay_siguientes"] is True
    rest = (await mios(client, ana, limit=3, after=catch_up["mensajes"][-1]["id"])).json()
    assert [m["mensaje"] for m in rest["mensajes"]] == ["m7"]
    assert rest["hay_siguientes"] is False
    assert (await mios(client, ana, after=ids[-1])).json()["mensajes"] == []

    # Default page: the newest 50; the whole (short) conversation here.
    assert texts(await mios(client, ana)) == [f"m{n}" for n in range(1, 8)]


async def test_limit_bounds(client: httpx.AsyncClient, redis: Redis) -> None:
    ana = await account(redis, "ana")
    agent = await account(redis, "maria", "admin")
    await say(redis, "ana", "hola")
    for limit in (0, -1, 201, "x"):
        for response in (
            await mios(client, ana, limit=limit),
            await conversation(client, agent, "ana", limit=limit),
            await conversations(client, agent, limit=limit),
        ):
            assert response.status_code == 422, (limit, response.request.url)
            assert response.json()["error"] == "Datos inválidos"
    assert texts(await mios(client, ana, limit=1)) == ["hola"]
    assert texts(await mios(client, ana, limit=200)) == ["hola"]


async def test_before_and_after_together_is_400(client: httpx.AsyncClient, redis: Redis) -> None:
    ana = await account(redis, "ana")
    response = await mios(client, ana, before="2-0", after="1-0")
    assert response.status_code == 400
    assert response.json() == {
        "error": "Usa before o after, no los dos",
        "codigo": "peticion_invalida",
    }


@pytest.mark.parametrize(
    "bad",
    [
        "abc",
        "1",
        "1-",
        "-1",
        "1-1234567",
        "1.5-0",
        "1-0; DROP TABLE mensajes",
        "1234567890123456-0",
        # Well-formed, but beyond any id Redis can have given: no 500, a 422.
        "999999999999999-999999",
        "9223372036855-0",
    ],
)
async def test_a_malformed_message_id_is_422(
    client: httpx.AsyncClient, redis: Redis, bad: str
) -> None:
    ana = await account(redis, "ana")
    agent = await account(redis, "maria", "admin")
    for response in (
        await mios(client, ana, before=bad),
        await mios(client, ana, after=bad),
        await conversation(client, agent, "ana", after=bad),
        await conversations(client, agent, before=bad),
        await mark_read(client, ana, hasta=bad),
        await mark_read(client, agent, hasta=bad, con="ana"),
    ):
        assert response.status_code == 422, (bad, response.request.url, response.text)
        assert "error" in response.json()


# ── the agents' conversation list ─────────────────────────────────────────────────────


async def test_the_list_is_newest_activity_first_with_unread_counts_per_reader(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria = await account(redis, "maria", "admin")
    juan = await account(redis, "juan", "admin")
    await say(redis, "ana", "hola", nombre="Ana Pérez")
    await say(redis, "bea", "buenas", nombre="Beatriz")
    ana_2 = await say(redis, "ana", "¿hay alguien?", nombre="Ana Pérez")
    bea_reply = await reply(redis, "juan", "bea", "dime, Beatriz")
    last = entry("ana", "sigo esperando", nombre="Ana Pérez")
    ana_3 = await say(redis, "ana", last.mensaje, nombre="Ana Pérez", fecha=last.fecha)

    body = (await conversations(client, maria)).json()
    assert body["hay_mas"] is False
    assert body["conversaciones"] == [
        {
            "usuario": "ana",
            "nombre": "Ana Pérez",
            "ultimo_id": ana_3,
            "ultimo_de": "ana",
            "ultimo_mensaje": "sigo esperando",
            "fecha": last.fecha,
            "no_leidos": 3,
            "estado": "abierta",
            "asignado": None,
            "pospuesta_hasta": None,
            "visitante": None,  # accounts, not website visitors
        },
        {
            "usuario": "bea",
            "nombre": "Beatriz",
            "ultimo_id": bea_reply,
            "ultimo_de": "juan",
            "ultimo_mensaje": "dime, Beatriz",
            "fecha": body["conversaciones"][1]["fecha"],
            "no_leidos": 1,
            "estado": "abierta",
            "asignado": None,
            "pospuesta_hasta": None,
            "visitante": None,  # accounts, not website visitors
        },
    ]

    # maria reads ana's thread up to her second message: one left; juan's count is his own.
    assert (await mark_read(client, maria, hasta=ana_2, con="ana")).status_code == 204
    counts = {
        c["usuario"]: c["no_leidos"]
        for c in (await conversations(client, maria)).json()["conversaciones"]
    }
    assert counts == {"ana": 1, "bea": 1}
    counts = {
        c["usuario"]: c["no_leidos"]
        for c in (await conversations(client, juan)).json()["conversaciones"]
    }
    assert counts == {"ana": 3, "bea": 1}
    # Marking never goes backwards.
    assert (await mark_read(client, maria, hasta=ana_3, con="ana")).status_code == 204
    assert (await mark_read(client, maria, hasta=ana_2, con="ana")).status_code == 204
    counts = {
        c["usuario"]: c["no_leidos"]
        for c in (await conversations(client, maria)).json()["conversaciones"]
    }
    assert counts == {"ana": 0, "bea": 1}

    # A customer marking their own thread read changes no agent's count.
    ana = await account(redis, "ana")
    assert (await mark_read(client, ana, hasta=ana_3)).status_code == 204
    counts = {
        c["usuario"]: c["no_leidos"]
        for c in (await conversations(client, juan)).json()["conversaciones"]
    }
    assert counts == {"ana": 3, "bea": 1}

    # New activity moves a conversation to the top.
    await say(redis, "bea", "¿sigues ahí?", nombre="Beatriz")
    order = [c["usuario"] for c in (await conversations(client, maria)).json()["conversaciones"]]
    assert order == ["bea", "ana"]


async def test_an_agent_must_say_which_conversation_they_read(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria = await account(redis, "maria", "admin")
    said = await say(redis, "ana", "hola")
    response = await mark_read(client, maria, hasta=said)
    assert response.status_code == 422
    assert response.json() == {"error": "Indica la conversación (con)", "codigo": "datos_invalidos"}


async def test_the_list_pages_with_a_cursor(client: httpx.AsyncClient, redis: Redis) -> None:
    maria = await account(redis, "maria", "admin")
    for user in ("u1", "u2", "u3", "u4", "u5"):
        await say(redis, user, f"soy {user}")
    first = (await conversations(client, maria, limit=2)).json()
    assert [c["usuario"] for c in first["conversaciones"]] == ["u5", "u4"]
    assert first["hay_mas"] is True
    second = (
        await conversations(client, maria, limit=2, before=first["conversaciones"][-1]["ultimo_id"])
    ).json()
    assert [c["usuario"] for c in second["conversaciones"]] == ["u3", "u2"]
    third = (
        await conversations(
            client, maria, limit=2, before=second["conversaciones"][-1]["ultimo_id"]
        )
    ).json()
    assert [c["usuario"] for c in third["conversaciones"]] == ["u1"]
    assert third["hay_mas"] is False


async def test_q_filters_by_username_prefix_or_name_with_wildcards_taken_literally(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria = await account(redis, "maria", "admin")
    await say(redis, "ana_b", "uno", nombre="Ana B")
    await say(redis, "anaxb", "dos", nombre="Anaxb")
    await say(redis, "bea", "tres", nombre="Beatriz 100%")
    await say(redis, "carla", "cuatro", nombre="Carla 1000")
    await say(redis, "dani", "cinco", nombre="Daniel Ana")

    async def found(q: str) -> list[str]:
        response = await conversations(client, maria, q=q)
        assert response.status_code == 200, response.text
        return sorted(c["usuario"] for c in response.json()["conversaciones"])

    assert await found("ana") == ["ana_b", "anaxb", "dani"]  # prefix, or anywhere in name
    assert await found("ANA") == ["ana_b", "anaxb", "dani"]  # names: case-insensitive
    assert await found("ana_") == ["ana_b"]  # "_" is not a wildcard
    assert await found("100%") == ["bea"]  # "%" is not a wildcard
    assert await found("%") == ["bea"]
    assert await found("\\") == []
    assert await found("nadie") == []
    assert await found("") == ["ana_b", "anaxb", "bea", "carla", "dani"]
    response = await conversations(client, maria, q="x" * 65)
    assert response.status_code == 422


async def test_a_nul_in_a_search_or_a_conversation_name_is_422_never_500(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    maria = await account(redis, "maria", "admin")
    said = await say(redis, "ana", "hola")
    answers = [
        await conversations(client, maria, q="an\x00a"),
        await mark_read(client, maria, hasta=said, con="an\x00a"),
        await conversation(client, maria, "an\x00a"),
    ]
    assert [(r.status_code, r.json()["codigo"]) for r in answers] == [(422, "datos_invalidos")] * 3


async def test_a_large_body_is_refused_with_413(client: httpx.AsyncClient, redis: Redis) -> None:
    ana = await account(redis, "ana")
    response = await client.post(
        "/api/mensajes/leidos", content=b"{" + b" " * 70_000 + b"}", headers=as_user(ana)
    )
    assert (response.status_code, response.json()["codigo"]) == (413, "demasiado_grande")


# ── reads wait for what was already accepted ─────────────────────────────────────────


async def test_a_read_right_after_a_send_includes_it(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    ana = await account(redis, "ana")
    agent = await account(redis, "maria", "admin")
    for round_ in range(5):
        sent = [await say(redis, "ana", f"r{round_} m{n}") for n in range(20)]
        # No waiting in between: the consumer may not have stored these yet.
        page = (await mios(client, ana, limit=200)).json()["mensajes"]
        assert [m["id"] for m in page][-20:] == sent
        listed = (await conversations(client, agent)).json()["conversaciones"]
        assert listed[0]["ultimo_id"] == sent[-1]


async def test_while_the_consumer_is_stopped_reads_answer_503_then_catch_up(
    settings: HistorySettings, redis: Redis
) -> None:
    ana = await account(redis, "ana")
    await say(redis, "ana", "antes")
    quick = settings.model_copy(update={"settle_timeout_seconds": 0.3})
    async with LifespanManager(create_app(quick)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            assert texts(await mios(client, ana)) == ["antes"]
            [task] = [t for t in asyncio.all_tasks() if t.get_name() == "stream-consumer"]
            await stop(task)

            await say(redis, "ana", "mientras tanto")
            response = await mios(client, ana)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "2"
            assert "error" in response.json()
            assert (await client.get("/readyz")).status_code == 503

    # The consumer comes back (a restart): nothing was lost.
    async with LifespanManager(create_app(quick)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:

            async def stored() -> bool:
                return (await mios(client, ana)).status_code == 200

            await eventually(stored)
            assert texts(await mios(client, ana)) == ["antes", "mientras tanto"]
            assert (await client.get("/readyz")).status_code == 200
    assert await pending_count(redis) == 0
