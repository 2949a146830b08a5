"""Connections that drop: the customer misses nothing and sees each message once, and the
page says what is happening (the reconnection banner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import expect

from e2e.conftest import ensure_running
from soporte_stack.testing import RunningStack

from .support import Account, OpenSession, register_customer

pytestmark = pytest.mark.e2e

LOST = "Sin conexión. Reconectando…"
BACK = "Conexión recuperada."


def replica_of(stack: RunningStack, usuario: str) -> str:
    """The realtime replica (supervisor program) `usuario` connected to most recently."""
    latest: tuple[str, str] | None = None
    for log in sorted(Path(stack.data_dir, "log").glob("realtime-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if f'"usuario":"{usuario}"' not in line or "socket connected" not in line:
                continue
            entry = json.loads(line)
            if latest is None or entry["timestamp"] > latest[0]:
                latest = (entry["timestamp"], log.stem)
    assert latest, f"{usuario} never connected"
    return latest[1]


async def test_the_agent_page_is_served_by_the_agents_replica(
    open_session: OpenSession, stack: RunningStack, agent: Account
) -> None:
    # The page asks the gateway for the agents' replicas (the first one here); without the
    # ask, round robin would hand these sessions to both replicas in turn.
    for _ in range(3):
        agente = await open_session(agent)
        await agente.in_sync()
        assert replica_of(stack, agent.usuario) == "realtime-1"


async def test_offline_customer_comes_back_and_sees_what_it_missed_exactly_once(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    agente = await open_session(agent)
    await cliente.send("Os dejo mi consulta")
    await agente.open_conversation(customer.usuario)
    await expect(agente.message("Os dejo mi consulta")).to_have_count(1)
    banner = cliente.page.locator("#estado-conexion")
    await expect(banner).to_be_hidden()

    await cliente.context.set_offline(True)
    await expect(banner).to_have_text(LOST)
    await agente.send("Primera respuesta mientras no estabas")
    await agente.send("Segunda respuesta mientras no estabas")
    await expect(agente.messages).to_have_count(3)
    await expect(cliente.messages).to_have_count(1)  # nothing arrives while offline

    await cliente.context.set_offline(False)
    await expect(banner).to_have_text(BACK)
    await expect(banner).to_be_hidden()
    for text in ("Primera respuesta mientras no estabas", "Segunda respuesta mientras no estabas"):
        await expect(cliente.message(text)).to_have_count(1)
    assert await cliente.texts() == [
        "Os dejo mi consulta",
        "Primera respuesta mientras no estabas",
        "Segunda respuesta mientras no estabas",
    ]

    # And the connection works again, both ways.
    await cliente.send("Gracias, ya lo veo")
    await expect(agente.message("Gracias, ya lo veo")).to_have_count(1)
    await agente.send("De nada")
    await expect(cliente.message("De nada")).to_have_count(1)
    await expect(cliente.messages).to_have_count(5)


async def test_when_the_customers_replica_stops_it_reconnects_and_catches_up_once(
    open_session: OpenSession, stack: RunningStack, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    await cliente.send("Hola")
    agente = await open_session(agent)
    await agente.open_conversation(customer.usuario)
    await expect(agente.message("Hola")).to_have_count(1)
    banner = cliente.page.locator("#estado-conexion")

    replica = replica_of(stack, customer.usuario)
    await stack.control("stop", f"realtime:{replica}")
    try:
        await expect(banner).to_be_visible()
        # The agent may have been on the same replica: the page reconnects it too.
        await agente.in_sync()
        await agente.send("Uno, durante el corte")
        await agente.send("Dos, durante el corte")
        await expect(agente.page.locator("#mensajes li.pendiente")).to_have_count(0)
        await expect(agente.page.locator("#mensajes li.fallido")).to_have_count(0)

        await expect(banner).to_have_text(BACK)
        await expect(banner).to_be_hidden()
        await cliente.in_sync()
        assert await cliente.texts() == ["Hola", "Uno, durante el corte", "Dos, durante el corte"]
        assert replica_of(stack, customer.usuario) != replica
    finally:
        await ensure_running(stack, f"realtime:{replica}")

    await cliente.send("¿Sigue funcionando?")
    await expect(agente.message("¿Sigue funcionando?")).to_have_count(1)
    await expect(cliente.messages).to_have_count(4)


async def test_an_agent_back_online_sees_what_came_in_a_conversation_that_was_not_open(
    open_session: OpenSession, stack: RunningStack, agent: Account
) -> None:
    first, second = await register_customer(stack), await register_customer(stack)
    primero, segundo = await open_session(first), await open_session(second)
    await primero.send("Consulta del primero")
    await segundo.send("Consulta del segundo")
    agente = await open_session(agent)
    await agente.open_conversation(first.usuario)
    await expect(agente.messages).to_have_count(1)
    await agente.open_conversation(second.usuario)  # the first one is loaded, now closed

    await agente.context.set_offline(True)
    await expect(agente.page.locator("#estado-conexion")).to_have_text(LOST)
    await primero.send("Escrito mientras el agente no tenía conexión")
    await agente.context.set_offline(False)
    await agente.in_sync()
    row = agente.row(first.usuario)
    await expect(row.locator(".vista-previa")).to_have_text(
        "Escrito mientras el agente no tenía conexión"
    )

    await row.click()
    await expect(agente.message("Escrito mientras el agente no tenía conexión")).to_have_count(1)
    assert await agente.texts() == [
        "Consulta del primero",
        "Escrito mientras el agente no tenía conexión",
    ]
