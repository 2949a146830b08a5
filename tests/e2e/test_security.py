"""Hostile input and session ends, through the real gateway: each attempt gets a clear
refusal and changes nothing (docs/guarantees.md)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import httpx
import jwt
import pytest
import socketio

from soporte_common.settings import LOCAL_JWT_SECRET
from soporte_common.tokens import ALGORITHM, TokenCodec, key_id
from soporte_stack.testing import RunningStack, eventually

from .conftest import (
    Connect,
    agent,
    history,
    register_and_login,
    replica_cookies,
)

pytestmark = pytest.mark.e2e

STACK_CODEC = TokenCodec(LOCAL_JWT_SECRET)  # the e2e stack runs in local mode


async def refusal(stack: RunningStack, headers: dict[str, str]) -> str:
    client = socketio.AsyncClient(reconnection=False)
    errors: list[dict[str, str]] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(stack.url, headers=headers, transports=["websocket"], wait_timeout=10)
    return errors[0]["message"] if errors else "(refused before Socket.IO)"


# ---------------------------------------------------------------- 8: long-polling stickiness


async def polling_conversation(stack: RunningStack, *, keep_cookies: bool) -> list[str]:
    """Four customers and an agent over long-polling only; returns the errors seen."""
    errors: list[str] = []
    people = [await register_and_login(stack) for _ in range(4)]
    support = await agent(stack)
    clients: list[socketio.AsyncClient] = []
    received: list[str] = []
    try:
        for person in [*people, support]:
            jar = aiohttp.CookieJar() if keep_cookies else aiohttp.DummyCookieJar()
            client = socketio.AsyncClient(
                reconnection=False, http_session=aiohttp.ClientSession(cookie_jar=jar)
            )
            client.on("mensaje_recibido", lambda m: received.append(m["id"]))
            clients.append(client)
            try:
                await client.connect(
                    stack.url,
                    headers={"Cookie": f"token={person.token}"},
                    transports=["polling"],
                    wait_timeout=10,
                )
            except socketio.exceptions.ConnectionError as exc:
                errors.append(str(exc))
        for client in clients[:4]:
            if not client.connected:
                continue
            try:
                ack = await client.call(
                    "mensaje_privado", {"para": "admin", "mensaje": "hola"}, timeout=10
                )
                if not ack["ok"]:
                    errors.append(ack["error"])
            except (TimeoutError, socketio.exceptions.SocketIOError) as exc:
                errors.append(type(exc).__name__)
        if clients[4].connected:
            await asyncio.sleep(1)
        if len(received) < 4:  # each customer's message reaches the agent
            errors.append(f"only {len(received)} deliveries")
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients if c.connected))
        for client in clients:
            await client.eio.http.close()
    return errors


async def test_long_polling_only_works_through_the_gateway_thanks_to_the_sticky_cookie(
    stack: RunningStack,
) -> None:
    assert await polling_conversation(stack, keep_cookies=True) == []
    # The same conversation from clients that drop the gateway's cookie: their polls land on
    # a replica that never saw the session ("Session ID unknown"), and it falls apart.
    assert await polling_conversation(stack, keep_cookies=False) != []


# ---------------------------------------------------------------- 9: sessions end everywhere


async def test_logout_ends_the_session_on_every_replica(
    stack: RunningStack, connect: Connect
) -> None:
    side_a, side_b = await replica_cookies(stack)
    ana = await register_and_login(stack)
    tabs = [await connect(ana, replica=side_a), await connect(ana, replica=side_b)]
    async with httpx.AsyncClient(base_url=stack.url, cookies={"token": ana.token}) as http:
        assert (await http.post("/api/auth/logout")).status_code == 204
    await eventually(lambda: not any(t.sio.connected for t in tabs))
    assert all("sesion_terminada" in t.events for t in tabs)
    assert await refusal(stack, {"Cookie": f"token={ana.token}"}) == "Token inválido"
    assert (await history(stack, ana, "/api/mensajes/mios")).status_code == 401


async def test_an_expired_token_ends_access_everywhere(
    stack: RunningStack, connect: Connect
) -> None:
    side_a, side_b = await replica_cookies(stack)
    ana = await register_and_login(stack)
    short, _ = STACK_CODEC.issue(user=ana.usuario, nombre="Ana", rol="user", ttl_seconds=3)
    ana.token = short
    tabs = [await connect(ana, replica=side_a), await connect(ana, replica=side_b)]
    await eventually(lambda: not any(t.sio.connected for t in tabs), timeout=15)
    assert await refusal(stack, {"Cookie": f"token={short}"}) == "Token inválido"
    assert (await history(stack, ana, "/api/mensajes/mios")).status_code == 401


# ---------------------------------------------------------------- 10: hostile input


async def test_forged_and_stolen_tokens_open_nothing(stack: RunningStack) -> None:
    ana = await register_and_login(stack)
    now = int(time.time())
    claims = {
        "user": ana.usuario,
        "nombre": "Ana",
        "rol": "admin",
        "iat": now,
        "exp": now + 600,
        "jti": "forged",
    }
    kid = {"kid": key_id(LOCAL_JWT_SECRET)}
    forged = {
        "expired": STACK_CODEC.issue(user=ana.usuario, nombre="Ana", rol="user", ttl_seconds=-1)[0],
        "unsigned (alg none)": jwt.encode(claims, None, algorithm="none", headers=kid),
        "signed with another key": jwt.encode(claims, "k" * 40, algorithm=ALGORITHM, headers=kid),
        "a role the user does not have": STACK_CODEC.issue(
            user=ana.usuario, nombre="Ana", rol="admin", ttl_seconds=600
        )[0],
    }
    assert await refusal(stack, {}) == "No autenticado"
    for name, token in forged.items():
        assert await refusal(stack, {"Cookie": f"token={token}"}) == "Token inválido", name
        async with httpx.AsyncClient(base_url=stack.url, cookies={"token": token}) as http:
            for path in ("/api/mensajes/mios", "/api/usuarios-conversaciones", "/api/auth/me"):
                assert (await http.get(path)).status_code == 401, (name, path)


async def test_a_websocket_handshake_from_a_foreign_origin_is_refused(stack: RunningStack) -> None:
    ana = await register_and_login(stack)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                f"{stack.url}/socket.io/?EIO=4&transport=websocket",
                headers={"Cookie": f"token={ana.token}", "Origin": "https://evil.example"},
            )
        assert refused.value.status == 400
        same_site = await session.ws_connect(
            f"{stack.url}/socket.io/?EIO=4&transport=websocket",
            headers={"Cookie": f"token={ana.token}", "Origin": stack.url},
        )
        assert (await same_site.receive_str()).startswith("0{")  # Engine.IO open
        await same_site.close()


async def test_a_payload_cannot_choose_its_sender(stack: RunningStack, connect: Connect) -> None:
    ana = await register_and_login(stack)
    chat = await connect(ana)
    ack = await chat.sio.call(
        "mensaje_privado",
        {"para": "admin", "mensaje": "soy el admin", "de": "admin", "rol": "admin"},
        timeout=10,
    )
    page = (await history(stack, ana, "/api/mensajes/mios")).json()
    assert [(m["id"], m["de"]) for m in page["mensajes"]] == [(ack["id"], ana.usuario)]


async def test_customers_cannot_read_other_conversations_or_agent_data(
    stack: RunningStack, connect: Connect
) -> None:
    ana, bob = await register_and_login(stack), await register_and_login(stack)
    bob_chat = await connect(bob)
    await bob_chat.send("admin", "mi número de pedido es 1234")
    assert (await history(stack, ana, "/api/mensajes", con=bob.usuario)).status_code == 403
    assert (await history(stack, ana, "/api/usuarios-conversaciones")).status_code == 403
    assert (await history(stack, ana, "/api/mensajes/mios")).json()["mensajes"] == []
    async with httpx.AsyncClient(base_url=stack.url, cookies={"token": ana.token}) as http:
        marked = await http.post("/api/mensajes/leidos", json={"hasta": "1-0", "con": bob.usuario})
    assert marked.status_code == 403


async def test_oversized_messages_and_frames_are_refused_and_nothing_is_stored(
    stack: RunningStack, connect: Connect
) -> None:
    ana, bob = await register_and_login(stack), await register_and_login(stack)
    chat, bystander = await connect(ana), await connect(bob)
    too_long = await chat.send("admin", "x" * 4001)
    assert too_long["codigo"] == "demasiado_largo"
    assert chat.sio.connected
    await chat.sio.emit("mensaje_privado", {"para": "admin", "mensaje": "y" * 100_000})
    await eventually(lambda: not chat.sio.connected)  # a frame over 64 KiB closes the socket
    assert (await history(stack, ana, "/api/mensajes/mios")).json()["mensajes"] == []
    assert (await bystander.send("admin", "sigo funcionando"))["ok"]


async def test_a_flooding_user_is_rate_limited_while_others_are_not(
    stack: RunningStack, connect: Connect
) -> None:
    flooder, calm = await register_and_login(stack), await register_and_login(stack)
    flood, quiet = await connect(flooder), await connect(calm)
    acks = await asyncio.gather(*(flood.send("admin", f"spam {i}") for i in range(45)))
    limited = [a for a in acks if not a["ok"]]
    assert limited
    assert {a["codigo"] for a in limited} == {"ritmo"}
    assert (await quiet.send("admin", "hola, tengo una duda"))["ok"]
    stored = (await history(stack, flooder, "/api/mensajes/mios", limit="200")).json()
    assert len(stored["mensajes"]) == len(acks) - len(limited)


async def test_a_customer_cannot_write_directly_to_another_customer(
    stack: RunningStack, connect: Connect
) -> None:
    ana, bob = await register_and_login(stack), await register_and_login(stack)
    ana_chat, bob_chat = await connect(ana), await connect(bob)
    ack = await ana_chat.send(bob.usuario, "hola bob, soy ana")
    assert ack == {
        "ok": False,
        "error": "Solo puedes escribir al equipo de soporte",
        "codigo": "no_permitido",
    }
    await asyncio.sleep(0.5)
    assert bob_chat.received == []
    assert (await history(stack, bob, "/api/mensajes/mios")).json()["mensajes"] == []


async def test_internal_endpoints_are_not_reachable_through_the_gateway(
    stack: RunningStack,
) -> None:
    """Metrics and the stream status stay on the services' internal ports."""
    async with httpx.AsyncClient(base_url=stack.url) as http:
        for path in ("/metrics", "/stream", "/api/auth/metrics", "/socket.io/metrics"):
            response = await http.get(path)
            assert "soporte_" not in response.text, path
        for path in ("/metrics", "/healthz", "/readyz"):
            assert (await http.get(path)).status_code == 404, path
