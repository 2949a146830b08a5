"""The core user journeys, through the real gateway, against the stack as `make run` runs it."""

import asyncio

import httpx
import pytest
import socketio

from soporte_stack.testing import RunningStack, eventually

from .conftest import (
    Connect,
    agent,
    history,
    register_and_login,
    replica_cookies,
    second_agent,
)

pytestmark = pytest.mark.e2e


async def test_customer_and_agent_on_different_replicas_talk_both_ways(
    stack: RunningStack, connect: Connect
) -> None:
    replica_a, replica_b = await replica_cookies(stack)
    ana = await register_and_login(stack)
    admin = await agent(stack)
    customer = await connect(ana, replica=replica_a)
    support = await connect(admin, replica=replica_b)

    question = await customer.send("admin", "¿Dónde está mi pedido?")
    assert question["ok"]
    await eventually(lambda: any(m["id"] == question["id"] for m in support.received))
    answer = await support.send(ana.usuario, "Sale hoy mismo.")
    assert answer["ok"]
    await eventually(lambda: any(m["id"] == answer["id"] for m in customer.received))
    await asyncio.sleep(0.5)  # time for any duplicate to show up

    # Each side receives the other's message once; its own comes back as the acknowledgement.
    assert [m["id"] for m in customer.received] == [answer["id"]]
    assert [m["id"] for m in support.received if m["id"] in (question["id"], answer["id"])] == [
        question["id"]
    ]
    assert customer.received[0] == {
        "id": answer["id"],
        "de": "admin",
        "para": ana.usuario,
        "mensaje": "Sale hoy mismo.",
        "fecha": answer["fecha"],
    }


async def test_messages_show_up_in_the_three_endpoints(
    stack: RunningStack, connect: Connect
) -> None:
    ana = await register_and_login(stack)
    admin = await agent(stack)
    customer = await connect(ana)
    support = await connect(admin)
    first = await customer.send("admin", "hola")
    reply = await support.send(ana.usuario, "hola, ¿en qué te ayudo?")

    mine = (await history(stack, ana, "/api/mensajes/mios")).json()
    assert [(m["id"], m["de"], m["mensaje"]) for m in mine["mensajes"]] == [
        (first["id"], ana.usuario, "hola"),
        (reply["id"], "admin", "hola, ¿en qué te ayudo?"),
    ]
    theirs = (await history(stack, admin, "/api/mensajes", con=ana.usuario)).json()
    # The agent's view holds the same messages, and the conversation's status and
    # assignment entries besides (a customer never sees those).
    said = [e for e in theirs["mensajes"] if e["tipo"] == "mensaje"]
    assert said == mine["mensajes"]
    assert {e["tipo"] for e in theirs["mensajes"]} - {"mensaje"} <= {"estado", "asignacion"}
    listing = (await history(stack, admin, "/api/usuarios-conversaciones")).json()
    row = next(c for c in listing["conversaciones"] if c["usuario"] == ana.usuario)
    assert row["ultimo_mensaje"] == "hola, ¿en qué te ayudo?"
    assert row["ultimo_id"] == reply["id"]
    assert listing["conversaciones"][0]["usuario"] == ana.usuario  # newest activity first


async def test_every_agent_sees_replies_and_the_senders_other_tab_gets_its_message(
    stack: RunningStack, connect: Connect
) -> None:
    replica_a, replica_b = await replica_cookies(stack)
    ana = await register_and_login(stack)
    first_agent, other_agent = await agent(stack), await second_agent(stack)
    tab1 = await connect(ana, replica=replica_a)
    tab2 = await connect(ana, replica=replica_b)
    agent1 = await connect(first_agent, replica=replica_a)
    agent2 = await connect(other_agent, replica=replica_b)

    sent = await tab1.send("admin", "desde la pestaña 1")
    await eventually(lambda: any(m["id"] == sent["id"] for m in tab2.received))
    reply = await agent1.send(ana.usuario, "respuesta del agente 1")
    await eventually(lambda: any(m["id"] == reply["id"] for m in agent2.received))
    await asyncio.sleep(0.5)
    for chat in (tab1, tab2, agent1, agent2):
        ids = [m["id"] for m in chat.received]
        # once each, except on the socket that sent it (it has the acknowledgement)
        assert ids.count(sent["id"]) == (0 if chat is tab1 else 1)
        assert ids.count(reply["id"]) == (0 if chat is agent1 else 1)


async def test_bad_input_is_refused_and_not_stored(stack: RunningStack, connect: Connect) -> None:
    ana = await register_and_login(stack)
    bob = await register_and_login(stack)
    customer = await connect(ana)
    refused = [
        await customer.send("admin", ""),
        await customer.send("admin", "x" * 4001),
        await customer.send(bob.usuario, "directo a otro cliente"),
        await customer.sio.call("mensaje_privado", ["no", "es", "un", "objeto"], timeout=10),
    ]
    assert [r["ok"] for r in refused] == [False] * 4
    assert [r["codigo"] for r in refused] == [
        "vacio",
        "demasiado_largo",
        "no_permitido",
        "invalido",
    ]
    ok = await customer.send("admin", "esta sí")
    page = (await history(stack, ana, "/api/mensajes/mios")).json()
    assert [m["id"] for m in page["mensajes"]] == [ok["id"]]
    assert (await history(stack, bob, "/api/mensajes/mios")).json()["mensajes"] == []


async def test_the_three_refusal_texts_through_the_gateway(stack: RunningStack) -> None:
    cases = {
        "No autenticado": {},
        "Token no proporcionado": {"Cookie": "idioma=es"},
        "Token inválido": {"Cookie": "token=abc.def.ghi"},
    }
    for text, headers in cases.items():
        client = socketio.AsyncClient(reconnection=False)
        errors: list[dict[str, str]] = []
        client.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                stack.url, headers=headers, transports=["websocket"], wait_timeout=10
            )
        assert errors == [{"message": text}]


async def test_history_access_is_401_without_a_session_and_403_for_admin_data(
    stack: RunningStack,
) -> None:
    ana = await register_and_login(stack)
    bob = await register_and_login(stack)
    async with httpx.AsyncClient(base_url=stack.url) as anonymous:
        for path in ("/api/mensajes/mios", "/api/usuarios-conversaciones", "/api/auth/me"):
            response = await anonymous.get(path)
            assert response.status_code == 401
            assert response.json() == {"error": "No autenticado", "codigo": "no_autenticado"}
        forged = await anonymous.get("/api/mensajes/mios", cookies={"token": "x.y.z"})
        assert forged.status_code == 401
    assert (await history(stack, ana, "/api/usuarios-conversaciones")).status_code == 403
    peek = await history(stack, ana, "/api/mensajes", con=bob.usuario)
    assert peek.status_code == 403
    assert peek.json() == {"error": "Solo administradores", "codigo": "solo_administradores"}


async def test_logout_closes_the_socket_and_the_old_cookie_opens_nothing(
    stack: RunningStack, connect: Connect
) -> None:
    ana = await register_and_login(stack)
    chat = await connect(ana)
    async with httpx.AsyncClient(base_url=stack.url, cookies={"token": ana.token}) as http:
        assert (await http.post("/api/auth/logout")).status_code == 204
    await eventually(lambda: not chat.sio.connected)
    assert "sesion_terminada" in chat.events
    assert (await history(stack, ana, "/api/mensajes/mios")).status_code == 401
    again = socketio.AsyncClient(reconnection=False)
    errors: list[dict[str, str]] = []
    again.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect(
            stack.url,
            headers={"Cookie": f"token={ana.token}"},
            transports=["websocket"],
            wait_timeout=10,
        )
    assert errors == [{"message": "Token inválido"}]


async def test_long_polling_through_the_gateway_with_both_replicas(
    stack: RunningStack, connect: Connect
) -> None:
    ana = await register_and_login(stack)
    admin = await agent(stack)
    pollers = [await connect(ana, transport="polling") for _ in range(4)]
    support = await connect(admin, transport="polling")
    sent = await pollers[0].send("admin", "por long-polling")
    await eventually(
        lambda: all(any(m["id"] == sent["id"] for m in c.received) for c in [*pollers[1:], support])
    )
    assert all(c.sio.transport() == "polling" for c in pollers)
