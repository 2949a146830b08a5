"""The agents' workflow through the gateway, with two realtime replicas: notes never reach a
customer, status changes and assignments reach every agent in order with the messages and
come back in catch-up, the automatic rules (reopen, snooze end, round robin with presence),
and two agents assigning at once."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from soporte_stack.testing import RunningStack, eventually

from .conftest import Chat, Connect, history, register_and_login, replica_cookies, second_agent

pytestmark = pytest.mark.e2e

WORKFLOW_EVENTS = {"nota_recibida", "conversacion_actualizada"}


def ids(chat: Chat, usuario: str) -> list[str]:
    """The ids of `usuario`'s conversation log that `chat` received live, in order."""
    return [
        data["id"]
        for name, data in chat.log
        if usuario in (data.get("usuario"), data.get("con"), data.get("de"), data.get("para"))
    ]


def state_of(chat: Chat, usuario: str) -> dict[str, Any] | None:
    updates = [u for u in chat.got("conversacion_actualizada") if u["usuario"] == usuario]
    return updates[-1] if updates else None


async def log_after(stack: RunningStack, agent: Any, usuario: str, after: str) -> list[str]:
    response = await history(stack, agent, "/api/mensajes", con=usuario, after=after)
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()["mensajes"]]


async def holder_of(stack: RunningStack, agent: Any, usuario: str) -> str | None:
    """Who holds the conversation once everything accepted is stored (auto-assignment
    follows the customer's first message)."""
    response = await history(stack, agent, "/api/usuarios-conversaciones", q=usuario)
    [conversation] = response.json()["conversaciones"]
    holder: str | None = conversation["asignado"]
    return holder


def later(seconds: float) -> str:
    when = datetime.now(UTC) + timedelta(seconds=seconds)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_notes_never_reach_a_customer_on_either_replica_nor_their_history(
    stack: RunningStack, connect: Connect
) -> None:
    one, two = await replica_cookies(stack)
    ana = await register_and_login(stack)
    ana_here, ana_there = await connect(ana, replica=one), await connect(ana, replica=two)
    maria, juan = await second_agent(stack), await second_agent(stack)
    maria_chat, juan_chat = await connect(maria, replica=one), await connect(juan, replica=two)
    first = await ana_here.send("admin", "hola")
    noted = await maria_chat.call("nota_interna", {"con": ana.usuario, "mensaje": "VIP, cuidado"})
    assert noted["ok"]
    await eventually(lambda: noted["id"] in ids(juan_chat, ana.usuario))
    reply = await juan_chat.send(ana.usuario, "hola, ¿qué necesitas?")  # after the note
    for tab in (ana_here, ana_there):
        await eventually(lambda tab=tab: reply["id"] in [m["id"] for m in tab.received])
        assert {name for name, _ in tab.log} == {"mensaje_recibido"}
    mine = (await history(stack, ana, "/api/mensajes/mios")).json()["mensajes"]
    assert [m["id"] for m in mine] == [first["id"], reply["id"]]
    assert "VIP" not in (await history(stack, ana, "/api/mensajes/mios", after=first["id"])).text
    agents_view = await log_after(stack, maria, ana.usuario, first["id"])
    assert noted["id"] in agents_view and reply["id"] in agents_view


async def test_changes_reach_every_agent_in_order_with_the_messages_and_in_catch_up(
    stack: RunningStack, connect: Connect
) -> None:
    one, two = await replica_cookies(stack)
    ana = await register_and_login(stack)
    customer, other_tab = await connect(ana, replica=one), await connect(ana, replica=two)
    maria, juan = await second_agent(stack), await second_agent(stack)
    maria_chat, juan_chat = await connect(maria, replica=one), await connect(juan, replica=two)
    first = await customer.send("admin", "hola")
    holder = await holder_of(stack, maria, ana.usuario)
    # Whoever round robin chose, the conversation changes hands.
    taker = juan if holder == maria.usuario else maria
    acks = [
        await maria_chat.call("cambiar_estado", {"con": ana.usuario, "estado": "pendiente"}),
        await juan_chat.call(
            "asignar", {"con": ana.usuario, "agente": taker.usuario, "anterior": holder}
        ),
        await maria_chat.call("cambiar_estado", {"con": ana.usuario, "estado": "resuelta"}),
    ]
    assert all(a["ok"] and a["id"] for a in acks), acks
    again = await customer.send("admin", "una cosa más")  # reopens it
    stored = [first["id"], *await log_after(stack, maria, ana.usuario, first["id"])]
    assert again["id"] in stored and [a["id"] for a in acks] == [
        i for i in stored if i in {a["id"] for a in acks}
    ]
    for agent in (maria_chat, juan_chat):  # both replicas, the same order: the stream's
        await eventually(lambda agent=agent: ids(agent, ana.usuario)[-1:] == stored[-1:])
        assert [i for i in ids(agent, ana.usuario) if i in stored] == stored
    final = state_of(maria_chat, ana.usuario)
    assert final is not None
    assert (final["estado"], final["asignado"], final["por"]) == ("abierta", taker.usuario, None)
    await eventually(lambda: [m["id"] for m in other_tab.received] == [first["id"], again["id"]])
    for tab in (customer, other_tab):  # the customer, on either replica: no workflow event
        assert not WORKFLOW_EVENTS & {name for name, _ in tab.log}
    listed = await history(stack, taker, "/api/usuarios-conversaciones", asignado="yo")
    assert ana.usuario in [c["usuario"] for c in listed.json()["conversaciones"]]


async def test_a_snoozed_conversation_wakes_at_its_time(
    stack: RunningStack, connect: Connect
) -> None:
    ana = await register_and_login(stack)
    customer = await connect(ana)
    maria = await second_agent(stack)
    agent = await connect(maria)
    await customer.send("admin", "hola")
    hasta = later(2)
    snoozed = await agent.call(
        "cambiar_estado", {"con": ana.usuario, "estado": "pospuesta", "hasta": hasta}
    )
    assert snoozed["ok"]
    await eventually(lambda: (state_of(agent, ana.usuario) or {}).get("estado") == "pospuesta")
    await eventually(lambda: (state_of(agent, ana.usuario) or {}).get("estado") == "abierta")
    woken = state_of(agent, ana.usuario)
    assert woken is not None and woken["por"] is None and woken["pospuesta_hasta"] is None
    listed = await history(stack, maria, "/api/usuarios-conversaciones", estado="abierta")
    assert ana.usuario in [c["usuario"] for c in listed.json()["conversaciones"]]


async def test_two_agents_assigning_at_once_exactly_one_wins(
    stack: RunningStack, connect: Connect
) -> None:
    one, two = await replica_cookies(stack)
    ana = await register_and_login(stack)
    customer = await connect(ana, replica=one)
    maria, juan = await second_agent(stack), await second_agent(stack)
    maria_chat, juan_chat = await connect(maria, replica=one), await connect(juan, replica=two)
    await customer.send("admin", "hola")
    holder = await holder_of(stack, maria, ana.usuario)  # round robin gave it to someone
    unassign = {"con": ana.usuario, "agente": None, "anterior": holder}
    freed = await maria_chat.call("asignar", unassign)
    assert freed["ok"] and freed["id"]  # unassigned by an agent: it waits for someone
    answers = await asyncio.gather(
        maria_chat.call("asignar", {"con": ana.usuario, "agente": maria.usuario, "anterior": None}),
        juan_chat.call("asignar", {"con": ana.usuario, "agente": juan.usuario, "anterior": None}),
    )
    [won] = [a for a in answers if a["ok"]]
    [lost] = [a for a in answers if not a["ok"]]
    winner = maria.usuario if answers[0]["ok"] else juan.usuario
    assert won["id"] and lost["codigo"] == "conflicto" and lost["asignado"] == winner
    for chat in (maria_chat, juan_chat):
        await eventually(
            lambda chat=chat: (state_of(chat, ana.usuario) or {}).get("id") == won["id"]
        )
        assert state_of(chat, ana.usuario)["asignado"] == winner  # type: ignore[index]


async def test_round_robin_follows_who_is_online(stack: RunningStack, connect: Connect) -> None:
    maria = await second_agent(stack)
    maria_chat = await connect(maria)
    assert (await maria_chat.call("presencia", {"estado": "ausente"}))["ok"]
    ana = await register_and_login(stack)
    customer = await connect(ana)
    await customer.send("admin", "¿hay alguien?")  # nobody en_linea: it waits
    await eventually(lambda: state_of(maria_chat, ana.usuario) is not None)
    assert state_of(maria_chat, ana.usuario)["asignado"] is None  # type: ignore[index]
    juan = await second_agent(stack)
    juan_chat = await connect(juan)  # comes online: the queue is served
    await eventually(
        lambda: (state_of(juan_chat, ana.usuario) or {}).get("asignado") == juan.usuario
    )
    assert state_of(juan_chat, ana.usuario)["por"] is None  # type: ignore[index]
    agents = await history(stack, juan, "/api/agentes")
    states = {a["usuario"]: a["estado"] for a in agents.json()}
    assert (states[maria.usuario], states[juan.usuario]) == ("ausente", "en_linea")
