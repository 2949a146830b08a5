"""The agent's view: the conversation list (order, names, previews, times, unread counts,
colours, the filter), drafts, other agents' replies, the title, keyboard-only use."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, expect

from soporte_stack.testing import RunningStack

from .support import (
    Account,
    ChatterFactory,
    OpenSession,
    create_agent,
    register_customer,
    shown_time,
)

pytestmark = pytest.mark.e2e

RED = "rgb(198, 40, 40)"
GREEN = "rgb(27, 127, 59)"
PLAIN = "rgb(29, 38, 48)"


async def style(row: Locator) -> tuple[str, str]:
    """The colour and weight a conversation's name is shown in."""
    name = row.locator(".nombre")
    colour: str = await name.evaluate("el => getComputedStyle(el).color")
    weight: str = await name.evaluate("el => getComputedStyle(el).fontWeight")
    return colour, weight


async def expect_style(row: Locator, colour: str, weight: str) -> None:
    await expect(row.locator(".nombre")).to_have_css("color", colour)
    await expect(row.locator(".nombre")).to_have_css("font-weight", weight)
    assert await style(row) == (colour, weight)


async def test_the_list_is_newest_first_with_name_preview_time_and_unread_count(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    ana = await register_customer(stack, "Ana Ortega")
    bruno = await register_customer(stack, "Bruno Díaz")
    carla = await register_customer(stack, "Carla Ruiz")
    for who, texts in (
        (ana, ["Hola", "¿Seguís ahí?"]),
        (bruno, ["No me llega la factura"]),
        (carla, ["Buenas", "Quería cambiar", "mi dirección de envío"]),
    ):
        chatter = await chatters(who)
        for text in texts:
            await chatter.send("admin", text)

    agente = await open_session(agent)
    rows = agente.page.locator("#lista-usuarios button.conversacion")
    top3 = rows.filter(has=agente.page.locator(".nombre", has_text=re.compile("Ana|Bruno|Carla")))
    await expect(top3).to_have_count(3)
    await expect(rows.nth(0).locator(".nombre")).to_have_text("Carla Ruiz")
    await expect(rows.nth(1).locator(".nombre")).to_have_text("Bruno Díaz")
    await expect(rows.nth(2).locator(".nombre")).to_have_text("Ana Ortega")
    for who, preview, unread in (
        (carla, "mi dirección de envío", "3"),
        (bruno, "No me llega la factura", "1"),
        (ana, "¿Seguís ahí?", "2"),
    ):
        row = agente.row(who.usuario)
        await expect(row.locator(".vista-previa")).to_have_text(preview)
        await expect(row.locator(".contador")).to_have_text(unread)
        time = row.locator("time")
        iso = await time.get_attribute("datetime")
        assert iso
        await expect(time).to_have_text(shown_time(iso))

    # New activity moves a conversation to the top, live: a customer's message...
    await (await chatters(ana)).send("admin", "Sigo esperando")
    await expect(rows.nth(0).locator(".nombre")).to_have_text("Ana Ortega")
    await expect(agente.row(ana.usuario).locator(".vista-previa")).to_have_text("Sigo esperando")
    await expect(agente.row(ana.usuario).locator(".contador")).to_have_text("3")
    # ...and the agent's own reply.
    await agente.open_conversation(bruno.usuario)
    await agente.send("Te la reenvío ahora")
    await expect(rows.nth(0).locator(".nombre")).to_have_text("Bruno Díaz")
    await expect(agente.row(bruno.usuario).locator(".vista-previa")).to_have_text(
        "Te la reenvío ahora"
    )
    await expect(agente.row(bruno.usuario).locator(".contador")).to_have_count(0)


async def test_unread_is_red_and_bold_the_open_one_green_and_bold_others_plain(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    leido, abierto, nuevo = [await register_customer(stack) for _ in range(3)]
    for who in (leido, abierto):
        await (await chatters(who)).send("admin", f"Hola, soy {who.nombre}")
    agente = await open_session(agent)
    await expect_style(agente.row(leido.usuario), RED, "700")
    await expect_style(agente.row(abierto.usuario), RED, "700")

    await agente.open_conversation(leido.usuario)  # read it...
    await agente.open_conversation(abierto.usuario)  # ...then moved on
    await (await chatters(nuevo)).send("admin", "Necesito ayuda")

    await expect_style(agente.row(nuevo.usuario), RED, "700")
    await expect_style(agente.row(abierto.usuario), GREEN, "700")
    await expect_style(agente.row(leido.usuario), PLAIN, "400")
    await expect(agente.row(abierto.usuario)).to_have_attribute("aria-current", "true")

    await agente.open_conversation(nuevo.usuario)
    await expect_style(agente.row(nuevo.usuario), GREEN, "700")
    await expect_style(agente.row(abierto.usuario), PLAIN, "400")
    await expect(agente.row(nuevo.usuario).locator(".contador")).to_have_count(0)

    # Read marks are kept: after a reload, nothing of these three is unread any more.
    await agente.page.reload()
    await agente.in_sync()
    for who in (leido, abierto, nuevo):
        await expect_style(agente.row(who.usuario), PLAIN, "400")


async def test_the_filter_box_narrows_the_list_by_name_or_username(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    lucia = await register_customer(stack, "Lucía Fernández")
    marco = await register_customer(stack, "Marco Polo")
    for who in (lucia, marco):
        await (await chatters(who)).send("admin", "Hola")
    agente = await open_session(agent)
    await expect(agente.row(lucia.usuario)).to_be_visible()
    await expect(agente.row(marco.usuario)).to_be_visible()
    box = agente.page.get_by_role("searchbox", name="Filtrar conversaciones")

    await box.fill("lucía fern")
    await expect(agente.row(lucia.usuario)).to_be_visible()
    await expect(agente.row(marco.usuario)).to_have_count(0)

    await box.fill(marco.usuario)
    await expect(agente.row(marco.usuario)).to_be_visible()
    await expect(agente.page.locator("#lista-usuarios button")).to_have_count(1)

    await box.fill("nadie-se-llama-asi")
    await expect(agente.page.locator("#lista-usuarios button")).to_have_count(0)
    await expect(agente.page.locator("#lista-vacia")).to_have_text(
        "Ninguna conversación coincide con el filtro."
    )

    await box.fill("")
    await expect(agente.row(lucia.usuario)).to_be_visible()
    await expect(agente.row(marco.usuario)).to_be_visible()
    await expect(agente.page.locator("#lista-vacia")).to_be_hidden()


async def test_switching_conversations_keeps_each_draft(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    one, two = await register_customer(stack), await register_customer(stack)
    for who in (one, two):
        await (await chatters(who)).send("admin", "Hola")
    agente = await open_session(agent)
    box = agente.page.locator("#texto")

    await agente.open_conversation(one.usuario)
    await box.fill("Borrador para el primero")
    await agente.open_conversation(two.usuario)
    await expect(box).to_have_value("")
    await box.fill("Borrador para\nel segundo")
    await agente.open_conversation(one.usuario)
    await expect(box).to_have_value("Borrador para el primero")
    await agente.open_conversation(two.usuario)
    await expect(box).to_have_value("Borrador para\nel segundo")

    # Sending uses the draft of the open conversation and clears only that one.
    await box.press("Enter")
    await expect(agente.message("Borrador para\nel segundo")).to_have_count(1)
    await expect(box).to_have_value("")
    await agente.open_conversation(one.usuario)
    await expect(box).to_have_value("Borrador para el primero")
    await expect(agente.messages).to_have_count(1)


async def test_a_second_agents_reply_appears_live_in_the_open_thread(
    open_session: OpenSession, stack: RunningStack, customer: Account, agent: Account
) -> None:
    other = await create_agent(stack, "Otra Agente")
    cliente = await open_session(customer)
    await cliente.send("¿Alguien me atiende?")
    primero = await open_session(agent)
    segundo = await open_session(other)
    await primero.open_conversation(customer.usuario)
    await expect(primero.message("¿Alguien me atiende?")).to_have_count(1)

    await segundo.open_conversation(customer.usuario)
    await segundo.send("Yo me encargo")
    reply = primero.message("Yo me encargo")
    await expect(reply).to_have_count(1)
    # By the agent's name (agents are known by name: GET /api/agentes, `presencia`).
    await expect(reply.locator(".autor")).to_have_text(other.nombre)
    await expect(primero.row(customer.usuario).locator(".vista-previa")).to_have_text(
        "Yo me encargo"
    )
    # Another agent's reply is not something the first agent has to read.
    await expect(primero.row(customer.usuario).locator(".contador")).to_have_count(0)
    await expect(cliente.message("Yo me encargo").locator(".autor")).to_have_text(
        "Equipo de soporte"
    )


async def test_the_title_shows_the_unread_count(
    open_session: OpenSession, chatters: ChatterFactory, customer: Account, agent: Account
) -> None:
    agente = await open_session(agent)
    title = await agente.page.title()
    match = re.fullmatch(r"(?:\((\d+)\) )?Soporte", title)
    assert match, title
    before = int(match.group(1) or 0)  # every older test's conversation is unread for it

    writer = await chatters(customer)
    await writer.send("admin", "Uno")
    await writer.send("admin", "Dos")
    await expect(agente.page).to_have_title(f"({before + 2}) Soporte")
    await agente.open_conversation(customer.usuario)
    await expect(agente.page).to_have_title(f"({before}) Soporte" if before else "Soporte")


async def test_new_activity_moves_rows_but_not_the_keyboard_focus(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    primero, segundo = await register_customer(stack), await register_customer(stack)
    escritores = {who.usuario: await chatters(who) for who in (primero, segundo)}
    for who in (primero, segundo):
        await escritores[who.usuario].send("admin", "Hola")
    agente = await open_session(agent)
    rows = agente.page.locator("#lista-usuarios button.conversacion")
    await expect(rows.nth(0)).to_have_attribute("data-usuario", segundo.usuario)
    focused = agente.row(segundo.usuario)
    await focused.focus()

    # Another row moves above the focused one...
    await escritores[primero.usuario].send("admin", "Sigo aquí")
    await expect(rows.nth(0)).to_have_attribute("data-usuario", primero.usuario)
    await expect(focused).to_be_focused()
    # ...and the focused row itself moves to the top.
    await escritores[segundo.usuario].send("admin", "Yo también")
    await expect(rows.nth(0)).to_have_attribute("data-usuario", segundo.usuario)
    await expect(focused.locator(".vista-previa")).to_have_text("Yo también")
    await expect(focused).to_be_focused()

    await agente.page.keyboard.press("Enter")
    await expect(agente.page.locator("#titulo-chat")).to_have_text(
        f"Conversación con {segundo.nombre}"
    )


async def test_keyboard_only_tab_to_the_list_enter_opens_type_and_send(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    await cliente.send("Uso solo el teclado")
    agente = await open_session(agent)
    row = agente.row(customer.usuario)
    await expect(row).to_be_visible()

    for _ in range(15):
        await agente.page.keyboard.press("Tab")
        if await row.evaluate("el => el === document.activeElement"):
            break
    await expect(row).to_be_focused()
    outline = await row.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"  # where the focus is shows

    await agente.page.keyboard.press("Enter")
    await expect(agente.page.locator("#titulo-chat")).to_have_text(
        f"Conversación con {customer.nombre}"
    )
    await expect(agente.page.locator("#texto")).to_be_focused()
    await agente.page.keyboard.type("Te respondo con el teclado")
    await agente.page.keyboard.press("Enter")
    await expect(cliente.message("Te respondo con el teclado")).to_have_count(1)
    await expect(agente.message("Te respondo con el teclado")).to_have_count(1)
