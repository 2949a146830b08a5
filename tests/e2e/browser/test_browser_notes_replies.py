"""Internal notes (a bubble of their own for agents, never on a customer's page) and the
team's saved replies (managed in a dialog, inserted after "/" from the keyboard alone)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from soporte_stack.testing import RunningStack

from .support import (
    Account,
    ChatterFactory,
    OpenSession,
    create_agent,
    register_customer,
    unique,
)

pytestmark = pytest.mark.e2e

NOTE = re.compile(r"\bnota\b")


async def test_a_note_is_a_marked_bubble_for_agents_and_never_reaches_the_customer(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    ana = await register_customer(stack, "Ana Notas")
    await (await chatters(ana)).send("admin", "Quiero devolver un pedido")
    luis = await open_session(agent)
    marta = await open_session(await create_agent(stack, "Marta Notas"))
    cliente = await open_session(ana)
    for session in (luis, marta):
        await session.open_conversation(ana.usuario)

    note_mode = luis.page.get_by_role("button", name="Nota interna")
    await note_mode.click()
    await expect(note_mode).to_have_attribute("aria-pressed", "true")
    await expect(luis.page.locator("#texto")).to_have_attribute(
        "placeholder", "Nota interna: solo la ve el equipo (Enter la guarda)"
    )
    await luis.send("Cliente VIP: ofrecer envío gratis")
    for session in (luis, marta):
        note = session.message("Cliente VIP: ofrecer envío gratis")
        await expect(note).to_have_class(NOTE)
        await expect(note.locator(".etiqueta-nota")).to_have_text("Nota interna")
    colour = await marta.message("Cliente VIP: ofrecer envío gratis").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    reply_colour = await marta.message("Quiero devolver un pedido").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert colour != reply_colour

    # Back to replying: the customer gets the reply, never the note.
    await luis.page.get_by_role("button", name="Respuesta", exact=True).click()
    await luis.send("Claro, te ayudo con la devolución")
    await expect(cliente.message("Claro, te ayudo con la devolución")).to_be_visible()
    await cliente.page.reload()
    await cliente.in_sync()
    await expect(cliente.message("Claro, te ayudo con la devolución")).to_be_visible()
    assert await cliente.texts() == [
        "Quiero devolver un pedido",
        "Claro, te ayudo con la devolución",
    ]
    page_text = await cliente.page.locator("body").inner_text()
    assert "Cliente VIP" not in page_text
    assert "Nota interna" not in page_text
    for hidden in ("#modo", "#flujo", "#pestanas", "#abrir-respuestas", "#enlace-informes"):
        await expect(cliente.page.locator(hidden)).to_be_hidden()
    # An agent's page loaded afresh shows the note from the history.
    await marta.page.reload()
    await marta.in_sync()
    await marta.open_conversation(ana.usuario)
    await expect(marta.message("Cliente VIP: ofrecer envío gratis")).to_have_class(NOTE)


async def test_saved_replies_are_managed_in_a_dialog_and_inserted_from_the_keyboard(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    ana = await register_customer(stack, "Ana Atajos")
    await (await chatters(ana)).send("admin", "¿Cuándo llega mi pedido?")
    luis = await open_session(agent)
    page = luis.page
    envio, saludo, tmp = unique("envio"), unique("saludo"), unique("borrar")

    await page.get_by_role("button", name="Respuestas guardadas").click()
    dialog = page.get_by_role("dialog", name="Respuestas guardadas")
    await expect(dialog).to_be_visible()
    for atajo, texto in (
        (envio, "Tu pedido sale hoy y llega en 24–48 horas."),
        (saludo, "¡Hola! ¿En qué te puedo ayudar?"),
        (tmp, "Esta se borra"),
    ):
        await dialog.get_by_label("Atajo (sin espacios)").fill(atajo)
        await dialog.get_by_label("Texto").fill(texto)
        await dialog.get_by_role("button", name="Guardar").click()
        await expect(dialog.get_by_text(f"/{atajo}", exact=True)).to_be_visible()
    await dialog.get_by_role("button", name=f"Editar /{envio}").click()
    await dialog.get_by_label("Texto").fill("Tu pedido sale hoy; llega mañana.")
    await dialog.get_by_role("button", name="Guardar").click()
    await expect(dialog.get_by_text("Tu pedido sale hoy; llega mañana.")).to_be_visible()
    await dialog.get_by_role("button", name=f"Borrar /{tmp}").click()
    await expect(dialog.get_by_text(f"/{tmp}", exact=True)).to_have_count(0)
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()

    # From the keyboard alone: "/" lists them, typing filters, arrows move, Enter inserts.
    await luis.open_conversation(ana.usuario)
    box = page.locator("#texto")
    await box.focus()
    await page.keyboard.type("Hola. /")
    listbox = page.get_by_role("listbox", name="Respuestas guardadas")
    await expect(listbox).to_be_visible()
    await expect(box).to_have_attribute("aria-expanded", "true")
    await page.keyboard.type(envio[:-2])
    options = listbox.get_by_role("option")
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text(f"/{envio}")
    await expect(options.first).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("Escape")
    await expect(listbox).to_be_hidden()
    await page.keyboard.press("Backspace")  # typing again opens it
    await expect(options).to_have_count(1)
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await expect(listbox).to_be_hidden()
    await expect(box).to_have_value("Hola. Tu pedido sale hoy; llega mañana.")
    await page.keyboard.press("Enter")  # now Enter sends
    cliente = await open_session(ana)
    await expect(cliente.message("Hola. Tu pedido sale hoy; llega mañana.")).to_be_visible()

    # Arrows choose among several; the one chosen is the active descendant.
    await box.focus()
    await page.keyboard.type("/")
    await page.keyboard.type(saludo[:3])
    await expect(options.filter(has_text=f"/{saludo}")).to_have_count(1)
    first = await options.count()
    for _ in range(first):
        if await options.filter(has_text=f"/{saludo}").get_attribute("aria-selected") == "true":
            break
        await page.keyboard.press("ArrowDown")
    active = await box.get_attribute("aria-activedescendant")
    assert active == await options.filter(has_text=f"/{saludo}").get_attribute("id")
    await page.keyboard.press("Tab")
    await expect(box).to_have_value("¡Hola! ¿En qué te puedo ayudar?")
    await expect(box).to_be_focused()
