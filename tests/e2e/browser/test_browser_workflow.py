"""The agents' workflow in the browser: the tabs and their live counts, and every action
on a conversation (resolve, reopen, pending, snooze, assign to me, to another agent,
unassign) seen at once by a second agent; an assignment that lost a race says who won.

Round robin is on in the test stack: a customer's new conversation goes to some online
agent. Each test first makes its conversation's state explicit (a scripted agent of its
own unassigns it), and counts are compared with the server's just before each action
(the stack is shared: other tests' conversations count too)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import WebSocketRoute, expect

from soporte_stack.testing import RunningStack

from .support import (
    DAY_BEFORE_TIME,
    PHONE,
    Account,
    Chatter,
    ChatterFactory,
    OpenSession,
    create_agent,
    register_customer,
)

pytestmark = pytest.mark.e2e


async def new_unassigned_conversation(
    chatters: ChatterFactory, stack: RunningStack, customer: Account, text: str
) -> Chatter:
    """The customer writes; whoever round robin gave it to, a scripted agent of the test's
    own unassigns it. Returns that agent's connection."""
    scripted = await chatters(await create_agent(stack))
    await (await chatters(customer)).send("admin", text)
    ack = await scripted.call("asignar", {"con": customer.usuario, "agente": None})
    assert ack["ok"], ack
    return scripted


async def test_tabs_hold_their_conversations_with_live_counts(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    ana = await register_customer(stack, "Ana Tabs")
    luis = await open_session(agent)
    names = [
        await luis.tab(key).locator(".nombre-bandeja").inner_text()
        for key in ("mias", "sin_asignar", "abierta", "pendiente", "pospuesta", "resuelta")
    ]
    assert names == ["Mías", "Sin asignar", "Abiertas", "Pendientes", "Pospuestas", "Resueltas"]
    await expect(luis.tab("abierta")).to_have_attribute("aria-selected", "true")

    before = await luis.server_counts()
    await new_unassigned_conversation(chatters, stack, ana, "Hola, ¿me ayudáis?")
    await expect(luis.row(ana.usuario)).to_be_visible()
    await luis.expect_count("abierta", before["abierta"] + 1)
    await luis.expect_count("sin_asignar", before["sin_asignar"] + 1)

    # Mine holds it once taken; Resolved once resolved (and Open no longer).
    await luis.open_conversation(ana.usuario)
    await expect(luis.page.locator("#flujo-estado")).to_have_text("Abierta · Sin asignar")
    before = await luis.server_counts()
    await luis.page.get_by_role("button", name="Asignármela").click()
    await luis.expect_count("mias", before["mias"] + 1)
    await luis.expect_count("sin_asignar", before["sin_asignar"] - 1)
    await luis.tab("mias").click()
    await expect(luis.tab("mias")).to_have_attribute("aria-selected", "true")
    await expect(luis.row(ana.usuario).locator(".asignado")).to_have_text("Asignada a ti")
    before = await luis.server_counts()
    await luis.page.get_by_role("button", name="Resolver").click()
    await expect(luis.row(ana.usuario)).to_have_count(0)
    await luis.expect_count("abierta", before["abierta"] - 1)
    await luis.expect_count("resuelta", before["resuelta"] + 1)
    await luis.tab("resuelta").click()
    await expect(luis.row(ana.usuario)).to_be_visible()

    # The keyboard moves between tabs as in any tablist.
    await luis.tab("resuelta").focus()
    await luis.page.keyboard.press("Home")
    await expect(luis.tab("mias")).to_be_focused()
    await expect(luis.tab("mias")).to_have_attribute("aria-selected", "true")
    await luis.page.keyboard.press("ArrowLeft")
    await expect(luis.tab("resuelta")).to_be_focused()
    await expect(luis.tab("resuelta")).to_have_attribute("aria-selected", "true")

    # The customer writes again: the conversation reopens, for the tabs too.
    before = await luis.server_counts()
    await (await chatters(ana)).send("admin", "Perdón, una cosa más")
    await expect(luis.row(ana.usuario)).to_have_count(0)
    await luis.expect_count("resuelta", before["resuelta"] - 1)
    await luis.expect_count("abierta", before["abierta"] + 1)
    await luis.tab("abierta").click()
    await expect(luis.row(ana.usuario)).to_be_visible()
    await expect(luis.page.locator("#flujo-estado")).to_have_text("Abierta · Asignada a ti")


async def test_every_action_is_seen_at_once_by_a_second_agent(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    marta_account = await create_agent(stack, "Marta Segunda")
    ana = await register_customer(stack, "Ana Acciones")
    await new_unassigned_conversation(chatters, stack, ana, "Necesito ayuda con un pedido")
    luis = await open_session(agent)
    marta = await open_session(marta_account)
    for session in (luis, marta):
        await session.open_conversation(ana.usuario)
    state_luis = luis.page.locator("#flujo-estado")
    state_marta = marta.page.locator("#flujo-estado")
    await expect(state_marta).to_have_text("Abierta · Sin asignar")
    lines = marta.page.locator("#mensajes li.sistema")

    await luis.page.get_by_role("button", name="Asignármela").click()
    await expect(state_marta).to_have_text(f"Abierta · Asignada a {agent.nombre}")
    await expect(marta.row(ana.usuario).locator(".asignado")).to_have_text(
        f"Asignada a {agent.nombre}"
    )
    await expect(lines.last).to_contain_text(f"{agent.nombre} se la asignó")

    await luis.page.get_by_role("button", name="Pendiente del cliente").click()
    await expect(state_marta).to_have_text(f"Pendiente del cliente · Asignada a {agent.nombre}")
    await expect(lines.last).to_contain_text(f"{agent.nombre} la marcó pendiente del cliente")

    await luis.page.get_by_role("button", name="Posponer", exact=True).click()
    await luis.page.get_by_role("button", name="1 hora").click()
    # "14:05", or with the day when an hour from now is tomorrow ("29 nov, 00:20").
    await expect(state_marta).to_have_text(
        re.compile(rf"^Pospuesta hasta {DAY_BEFORE_TIME}\d\d:\d\d · ")
    )
    await expect(lines.last).to_contain_text(f"{agent.nombre} la pospuso hasta")

    await marta.page.get_by_role("button", name="Reabrir").click()
    await expect(state_luis).to_have_text("Abierta · Asignada a ti")
    await expect(luis.page.locator("#mensajes li.sistema").last).to_contain_text(
        "Marta Segunda reabrió la conversación"
    )

    # To another agent, with the picker: Marta has it, in her Mine tab.
    before = await marta.server_counts()
    await luis.page.get_by_label("Asignar a otro agente").select_option(label="Marta Segunda")
    await expect(state_marta).to_have_text("Abierta · Asignada a ti")
    await expect(state_luis).to_have_text("Abierta · Asignada a Marta Segunda")
    await marta.expect_count("mias", before["mias"] + 1)
    await expect(lines.last).to_contain_text(f"{agent.nombre} la asignó a Marta Segunda")

    await marta.page.get_by_role("button", name="Quitar asignación").click()
    await expect(state_luis).to_have_text("Abierta · Sin asignar")
    await expect(luis.page.locator("#mensajes li.sistema").last).to_contain_text(
        "Marta Segunda quitó la asignación"
    )

    # A snooze to a time of one's own.
    await marta.page.get_by_role("button", name="Posponer", exact=True).click()
    later = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT10:30")  # pages run in UTC
    await marta.page.get_by_label("Otra fecha y hora").fill(later)
    await marta.page.get_by_role("button", name="Posponer hasta esa fecha").click()
    shown = rf"{later[8:10]} \w+\.?,? 10:30"  # "24 dic, 10:30"
    await expect(state_luis).to_have_text(re.compile(rf"^Pospuesta hasta {shown} · Sin asignar$"))
    await luis.page.get_by_role("button", name="Resolver").click()
    await expect(state_marta).to_have_text("Resuelta · Sin asignar")
    # A time more than a year ahead is refused before it is sent.
    await marta.page.get_by_role("button", name="Posponer", exact=True).click()
    await marta.page.get_by_label("Otra fecha y hora").fill("2099-01-01T10:00")
    await marta.page.get_by_role("button", name="Posponer hasta esa fecha").click()
    await expect(marta.page.locator("#flujo-aviso")).to_have_text(
        "Elige una fecha y hora futuras, como mucho dentro de un año."
    )
    await expect(lines.last).to_contain_text(f"{agent.nombre} resolvió la conversación")


async def test_an_assignment_that_lost_the_race_says_who_took_it(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    """Luis's page has not heard yet that Ana took the conversation (its live updates are
    held back): his "assign to me" is refused, and he is told Ana has it."""
    customer = await register_customer(stack, "Cliente Carrera")
    ana_account = await create_agent(stack, "Ana Rápida")
    await new_unassigned_conversation(chatters, stack, customer, "¿Hola?")
    ana = await chatters(ana_account)
    holding = {"back": False}

    def hold_back_updates(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)

        def to_page(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode(errors="replace")
            if not (holding["back"] and "conversacion_actualizada" in text):
                ws.send(message)

        server.on_message(to_page)

    luis = await open_session(agent, wait=False)
    await luis.page.route_web_socket(re.compile(r".*/socket\.io/.*"), hold_back_updates)
    await luis.page.reload()
    await luis.in_sync()
    await luis.open_conversation(customer.usuario)
    await expect(luis.page.locator("#flujo-estado")).to_have_text("Abierta · Sin asignar")

    holding["back"] = True
    ack = await ana.call(
        "asignar", {"con": customer.usuario, "agente": ana_account.usuario, "anterior": None}
    )
    assert ack["ok"], ack
    await luis.page.get_by_role("button", name="Asignármela").click()
    await expect(luis.page.locator("#flujo-aviso")).to_have_text(
        "Ana Rápida se la asignó hace un momento."
    )
    # Nothing changed: Ana still has it.
    marta = await open_session(await create_agent(stack))
    await marta.open_conversation(customer.usuario)
    await expect(marta.page.locator("#flujo-estado")).to_have_text(
        "Abierta · Asignada a Ana Rápida"
    )


async def test_the_workflow_fits_a_phone(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    ana = await register_customer(stack, "Ana Móvil")
    await new_unassigned_conversation(chatters, stack, ana, "Escribo desde el móvil")
    luis = await open_session(agent, viewport=PHONE)
    await expect(luis.tab("mias")).to_be_in_viewport()
    await expect(luis.tab("resuelta")).to_be_in_viewport()
    await luis.row(ana.usuario).tap()
    resolve = luis.page.get_by_role("button", name="Resolver")
    await expect(resolve).to_be_in_viewport()
    await expect(luis.page.locator("#texto")).to_be_in_viewport()
    await resolve.tap()
    await expect(luis.page.locator("#flujo-estado")).to_have_text("Resuelta · Sin asignar")
    width = await luis.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
