"""`pagina`: a website visitor's widget reports the page the visitor is on; agents on every
replica see it live; nobody else may report, and only pages of the visitor's own site."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.sites import Site, VisitorPage
from soporte_stack.testing import eventually

from .conftest import CODEC, Client, StartReplica, account

pytestmark = pytest.mark.integration

SHOP = "https://shop.example.com"


async def visitor(redis: Redis, usuario: str, sitio: str = "sitio-tienda") -> str:
    await redis.hset(keys.SITES, sitio, Site(nombre="Tienda", origenes=[SHOP]).model_dump_json())
    await redis.hset(keys.USER_DIRECTORY, usuario, "user")
    token, _ = CODEC.issue(
        user=usuario, nombre="Visitante", rol="user", ttl_seconds=600, sitio=sitio
    )
    return token


def pages_seen(client: Client) -> list[dict[str, Any]]:
    return client.got("pagina_visitante")


def watch_pages(client: Client) -> Client:
    client.sio.on("pagina_visitante", lambda data: client.events.append(("pagina_visitante", data)))
    return client


async def test_agents_on_every_replica_see_the_page_a_visitor_is_on(
    start_replica: StartReplica, redis: Redis, clients: type[Client]
) -> None:
    replica_a, replica_b = await start_replica(), await start_replica()
    agent = watch_pages(clients())
    await agent.connect(replica_b, await account(redis, "maria", "admin"))
    widget = clients()
    await widget.connect(replica_a, auth={"token": await visitor(redis, "v-0001")})

    ack = await widget.call(
        "pagina", {"url": f"{SHOP}/zapatos?talla=42", "titulo": "  Zapatos\n rojos "}
    )
    assert ack == {"ok": True}
    await eventually(lambda: len(pages_seen(agent)) == 1)
    (seen,) = pages_seen(agent)
    assert seen["usuario"] == "v-0001"
    assert seen["url"] == f"{SHOP}/zapatos?talla=42"
    assert seen["titulo"] == "Zapatos rojos"
    stored = VisitorPage.model_validate_json(await redis.get(keys.visitor_page("v-0001")))
    assert stored.url == seen["url"]
    assert 0 < await redis.ttl(keys.visitor_page("v-0001")) <= 24 * 3600
    assert widget.got("pagina_visitante") == []  # customers never see it


async def test_only_a_visitor_reports_and_only_its_own_sites_pages(
    start_replica: StartReplica, redis: Redis, clients: type[Client]
) -> None:
    replica = await start_replica()
    agent = watch_pages(clients())
    await agent.connect(replica, await account(redis, "maria", "admin"))
    customer = clients()
    await customer.connect(replica, await account(redis, "ana"))
    refused = await customer.call("pagina", {"url": f"{SHOP}/", "titulo": "x"})
    assert refused["codigo"] == "no_permitido"
    refused = await agent.call("pagina", {"url": f"{SHOP}/", "titulo": "x"})
    assert refused["codigo"] == "no_permitido"

    widget = clients()
    await widget.connect(replica, auth={"token": await visitor(redis, "v-0002")})
    for bad in (
        None,
        "https://shop.example.com/",
        {"url": "https://evil.example.com/phish", "titulo": "Pagar"},
        {"url": "javascript:alert(1)", "titulo": "x"},
        {"url": f"{SHOP}/" + "a" * 3000, "titulo": "x"},
        {"url": f"{SHOP}/", "titulo": 5},
        {"url": f"{SHOP}/", "titulo": "nul\x00"},
    ):
        ack = await widget.call("pagina", bad)
        assert ack["ok"] is False, bad
    assert pages_seen(agent) == []
    assert await redis.get(keys.visitor_page("v-0002")) is None
    assert widget.sio.connected  # bad input never disconnects


async def test_reports_faster_than_a_person_moves_are_dropped(
    start_replica: StartReplica, redis: Redis, clients: type[Client]
) -> None:
    replica = await start_replica()
    widget = clients()
    await widget.connect(replica, auth={"token": await visitor(redis, "v-0003")})
    acks = [await widget.call("pagina", {"url": f"{SHOP}/{i}", "titulo": "x"}) for i in range(5)]
    assert acks[0] == {"ok": True}
    assert {a.get("codigo") for a in acks[1:]} == {"ritmo"}
