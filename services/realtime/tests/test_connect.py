"""Who may open a socket: the original's three refusal texts, expiry, revocation, Origin."""

import time

import httpx
import jwt
import pytest
import socketio
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from soporte_common import keys
from soporte_common.contract import ConnectRefusal
from soporte_common.tokens import ALGORITHM, TokenCodec, key_id
from soporte_realtime.app import REPLICA
from soporte_stack.testing import eventually

from .conftest import (
    CODEC,
    Client,
    StartReplica,
    account,
    claims_of,
)

pytestmark = pytest.mark.integration


async def refusal(client: Client, url: str, **connect: object) -> str:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, **connect)  # type: ignore[arg-type]
    assert client.refused, "no connect_error was received"
    message: dict[str, str] = client.refused[-1]
    return message["message"]


async def test_no_cookie_header_is_refused_as_not_authenticated(replica: str, clients) -> None:
    assert await refusal(clients(), replica) == "No autenticado"


async def test_cookies_without_token_are_refused_as_token_missing(replica: str, clients) -> None:
    message = await refusal(clients(), replica, headers={"Cookie": "tema=oscuro; otra=1"})
    assert message == "Token no proporcionado"


async def test_bad_tokens_are_refused_as_invalid(replica: str, clients, redis: Redis) -> None:
    await account(redis, "ana")
    now = int(time.time())
    claims = {
        "user": "ana",
        "nombre": "Ana",
        "rol": "user",
        "iat": now,
        "exp": now + 60,
        "jti": "j1",
    }
    forged = {
        "garbage": "not.a.jwt",
        "other key": TokenCodec("z" * 40).issue(
            user="ana", nombre="Ana", rol="user", ttl_seconds=60
        )[0],
        "alg none": jwt.encode(
            claims, None, algorithm="none", headers={"kid": key_id(CODEC._secret)}
        ),
        "expired": CODEC.issue(user="ana", nombre="Ana", rol="user", ttl_seconds=-1)[0],
        "no jti": jwt.encode(
            {k: v for k, v in claims.items() if k != "jti"},
            CODEC._secret,
            algorithm=ALGORITHM,
            headers={"kid": key_id(CODEC._secret)},
        ),
        "role not held": CODEC.issue(user="ana", nombre="Ana", rol="admin", ttl_seconds=60)[0],
        "unknown user": CODEC.issue(user="ghost", nombre="G", rol="user", ttl_seconds=60)[0],
    }
    for name, token in forged.items():
        message = await refusal(clients(), replica, token=token)
        assert message == "Token inválido", name


async def test_refusals_arrive_over_long_polling_too(start_replica: StartReplica, clients) -> None:
    # Short pings: python-engineio holds a closed session's pending poll until the next one.
    url = await start_replica(ping_interval_seconds=1, ping_timeout_seconds=1)
    message = await refusal(clients(), url, token="not.a.jwt", transport="polling")
    assert message == "Token inválido"


async def test_a_refused_connection_is_closed_by_the_server(
    replica: str, clients, replica_apps: dict[str, web.Application]
) -> None:
    engine = replica_apps[replica][REPLICA].sio.eio
    client = clients()
    assert await refusal(client, replica, token="not.a.jwt") == "Token inválido"
    await eventually(lambda: not engine.sockets, timeout=5)


async def test_a_socket_whose_rooms_cannot_be_registered_is_refused_and_not_counted(
    replica: str,
    clients,
    redis: Redis,
    replica_apps: dict[str, web.Application],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def redis_fails(rooms: object) -> None:
        raise RedisError("Redis went away")

    monkeypatch.setattr(replica_apps[replica][REPLICA].rooms, "joined", redis_fails)
    token = await account(redis, "ana")
    assert await refusal(clients(), replica, token=token) == ConnectRefusal.UNAVAILABLE
    assert await redis.zcard(keys.USER_SOCKETS_PREFIX + "ana") == 0


async def test_a_revoked_session_cannot_reconnect(replica: str, clients, redis: Redis) -> None:
    token = await account(redis, "ana")
    await redis.set(keys.revoked_session(claims_of(token).jti), 1, ex=60)
    assert await refusal(clients(), replica, token=token) == "Token inválido"


async def test_a_valid_cookie_or_auth_payload_connects(replica: str, clients, redis: Redis) -> None:
    token = await account(redis, "ana")
    by_cookie, by_auth = clients(), clients()
    await by_cookie.connect(replica, token)
    await by_auth.connect(replica, auth={"token": token})
    assert by_cookie.sio.connected and by_auth.sio.connected


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_foreign_origin_is_refused_even_with_a_valid_cookie(
    start_replica: StartReplica, clients, redis: Redis, transport: str
) -> None:
    replica = await start_replica(ping_interval_seconds=1, ping_timeout_seconds=1)
    token = await account(redis, "ana")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await clients().connect(
            replica, token, transport=transport, headers={"Origin": "https://evil.example"}
        )
    same_site = clients()
    await same_site.connect(
        replica, token, transport=transport, headers={"Origin": "http://localhost:8080"}
    )
    assert same_site.sio.connected


async def test_logout_disconnects_open_sockets_on_every_replica(
    start_replica: StartReplica, clients, redis: Redis
) -> None:
    token = await account(redis, "ana")
    other = await account(redis, "bob")
    first, second = await start_replica(), await start_replica()
    tab1, tab2, bystander = clients(), clients(), clients()
    await tab1.connect(first, token)
    await tab2.connect(second, token)
    await bystander.connect(second, other)

    claims = claims_of(token)
    await redis.set(keys.revoked_session(claims.jti), 1, ex=60)
    await redis.publish(keys.REVOCATIONS_CHANNEL, claims.jti)

    await eventually(lambda: not tab1.sio.connected and not tab2.sio.connected)
    assert ("sesion_terminada", {"motivo": "cerrada"}) in tab1.events
    assert bystander.sio.connected


async def test_a_socket_is_closed_when_its_token_expires(
    replica: str, clients, redis: Redis
) -> None:
    token = await account(redis, "ana", ttl=2)
    client = clients()
    await client.connect(replica, token)
    await eventually(lambda: not client.sio.connected, timeout=8)
    assert ("sesion_terminada", {"motivo": "expirada"}) in client.events


async def test_each_replica_names_itself_in_its_responses(start_replica: StartReplica) -> None:

    url = await start_replica()
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert response.headers["x-soporte-replica"] == "realtime"
