"""Seen receipts: a read mark that newly covers a message of the other side is announced
on the Socket.IO channel (to the customer, or to every agent), never stored anywhere but
in `lecturas`; `GET /api/mensajes/visto` answers the same after a reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from soporte_common import keys
from soporte_common.emits import decode_emit, emit_data

from .conftest import account, as_user, note, reply, say

pytestmark = pytest.mark.integration


@pytest.fixture
async def channel(redis: Redis) -> AsyncIterator[PubSub]:
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.SOCKETIO_CHANNEL)
    yield pubsub
    await pubsub.aclose()  # type: ignore[no-untyped-call]


async def published(pubsub: PubSub) -> list[dict[str, Any]]:
    """The emits published so far (what every replica delivers), as (rooms, event, data)."""
    found = []
    while (message := await pubsub.get_message(timeout=0.2)) is not None:
        if message["type"] != "message":  # the subscription's confirmation
            continue
        emit = decode_emit(message["data"])
        assert emit is not None, message["data"]
        found.append({"room": emit.rooms, "event": emit.event, "data": emit_data(emit)})
    return found


async def mark(client: httpx.AsyncClient, token: str, **body: str) -> None:
    response = await client.post("/api/mensajes/leidos", json=body, headers=as_user(token))
    assert response.status_code == 204, response.text


async def seen(client: httpx.AsyncClient, token: str, **params: str) -> httpx.Response:
    return await client.get("/api/mensajes/visto", params=params, headers=as_user(token))


async def test_an_agent_reading_tells_the_customer_up_to_which_of_their_messages(
    client: httpx.AsyncClient, redis: Redis, channel: PubSub
) -> None:
    ana, maria = await account(redis, "ana"), await account(redis, "maria", "admin")
    first = await say(redis, "ana", "hola")
    second = await say(redis, "ana", "¿hay alguien?")
    noted = await note(redis, "maria", "ana", "cliente nuevo")
    length = await redis.xlen(keys.STREAM)

    await mark(client, maria, hasta=first, con="ana")
    await mark(client, maria, hasta=noted, con="ana")  # past a note: names her message
    await mark(client, maria, hasta=noted, con="ana")  # nothing new: nothing said
    assert await published(channel) == [
        {"room": ["user:ana"], "event": "visto", "data": {"hasta": first}},
        {"room": ["user:ana"], "event": "visto", "data": {"hasta": second}},
    ]
    assert await redis.xlen(keys.STREAM) == length  # never through the stream
    assert (await seen(client, ana)).json() == {"hasta": second}
    assert (await seen(client, ana, con="ana")).json() == {"hasta": second}


async def test_the_customer_reading_tells_every_agent_up_to_which_reply(
    client: httpx.AsyncClient, redis: Redis, channel: PubSub
) -> None:
    ana, maria = await account(redis, "ana"), await account(redis, "maria", "admin")
    jose = await account(redis, "jose", "admin")
    await say(redis, "ana", "hola")
    answer = await reply(redis, "maria", "ana", "dime")
    assert (await seen(client, maria, con="ana")).json() == {"hasta": None}
    again = await say(redis, "ana", "tengo un problema")

    await mark(client, ana, hasta=again)
    assert await published(channel) == [
        {"room": ["admins"], "event": "visto", "data": {"con": "ana", "hasta": answer}}
    ]
    assert (await seen(client, maria, con="ana")).json() == {"hasta": answer}
    assert (await seen(client, jose, con="ana")).json() == {"hasta": answer}


async def test_the_customer_learns_of_any_agents_mark_and_agents_of_the_customers_only(
    client: httpx.AsyncClient, redis: Redis, channel: PubSub
) -> None:
    ana, maria = await account(redis, "ana"), await account(redis, "maria", "admin")
    jose = await account(redis, "jose", "admin")
    first = await say(redis, "ana", "hola")
    await reply(redis, "maria", "ana", "dime")
    later = await say(redis, "ana", "gracias")
    await mark(client, maria, hasta=first, con="ana")
    await mark(client, jose, hasta=later, con="ana")  # the furthest agent counts
    assert (await seen(client, ana)).json() == {"hasta": later}
    # Agents' marks say nothing about what the customer read, and go to the customer only.
    assert (await seen(client, maria, con="ana")).json() == {"hasta": None}
    assert [emit["room"] for emit in await published(channel)] == [["user:ana"], ["user:ana"]]


async def test_who_may_ask_what_was_seen(client: httpx.AsyncClient, redis: Redis) -> None:
    ana, maria = await account(redis, "ana"), await account(redis, "maria", "admin")
    assert (await client.get("/api/mensajes/visto")).status_code == 401
    assert (await seen(client, ana, con="bea")).status_code == 403  # another's conversation
    assert (await seen(client, maria)).status_code == 422  # an agent names the conversation
    assert (await seen(client, maria, con="x" * 40)).status_code == 422
    assert (await seen(client, ana)).json() == {"hasta": None}
