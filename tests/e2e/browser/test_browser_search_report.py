"""Searching every conversation (results newest first, the words marked, hostile text shown
as text; a result opens its conversation at that message) and the agents' report page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import expect

from soporte_stack.testing import RunningStack

from .support import (
    Account,
    ChatterFactory,
    OpenSession,
    create_agent,
    register_customer,
)

pytestmark = pytest.mark.e2e

FILLERS = 55  # more than a page (50): the message found is not among the newest


def unique_word() -> str:
    """A word nobody else's test writes (letters only: one token for the search)."""
    return "zarza" + "".join(chr(97 + int(c, 16)) for c in uuid.uuid4().hex[:8])


async def test_a_result_opens_its_conversation_at_that_message_with_hostile_text_as_text(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    word = unique_word()
    hostile = (
        f'<img src=x onerror="document.body.dataset.pwned=1"> Quiero el {word} '
        "de mi <b>pedido</b> & <script>document.body.dataset.pwned=2</script>"
    )
    ana = await register_customer(stack, "Ana Búsqueda")
    cliente = await chatters(ana)
    helper = await chatters(await create_agent(stack, "Agente Relleno"))
    await cliente.send("admin", hostile)
    for n in range(FILLERS):
        if n % 2:
            await helper.send(ana.usuario, f"Respuesta de relleno {n}")
        else:
            await cliente.send("admin", f"Mensaje de relleno {n}")
    note = await helper.call(
        "nota_interna", {"con": ana.usuario, "mensaje": f"Revisar el {word} con finanzas"}
    )
    assert note["ok"], note

    luis = await open_session(agent)
    page = luis.page
    await page.get_by_role("searchbox", name="Buscar en los mensajes").fill(word.upper())
    await page.keyboard.press("Enter")
    results = page.locator("#resultados li button")
    await expect(results).to_have_count(2)
    await expect(page.locator("#busqueda-estado")).to_have_text(
        f"2 resultados para «{word.upper()}»"
    )
    # Newest first: the note, then the message; the word marked, the rest exactly as typed.
    await expect(results.nth(0).locator(".etiqueta-nota")).to_have_text("Nota interna · ")
    fragment = results.nth(1).locator(".fragmento")
    assert await fragment.evaluate("n => n.textContent") == hostile
    await expect(fragment.locator("mark")).to_have_text([word])
    await expect(results.nth(1).locator(".nombre")).to_have_text("Ana Búsqueda")
    assert await page.locator("#resultados img, #resultados script, #resultados b").count() == 0
    await expect(page.locator("#bandejas")).to_be_hidden()

    await results.nth(1).click()
    await expect(page.locator("#titulo-chat")).to_have_text("Conversación con Ana Búsqueda")
    found = luis.message(hostile)
    await expect(found).to_be_in_viewport()
    await expect(found).to_be_focused()
    await expect(found).to_have_class(re.compile(r"\bdestacado\b"))
    # The rest of the conversation is there too, down to the newest.
    await expect(luis.message(f"Respuesta de relleno {FILLERS - 2}")).to_have_count(1)
    assert await page.locator("body").get_attribute("data-pwned") is None
    assert await page.locator("#mensajes img, #mensajes b").count() == 0

    # Back to the list.
    await page.get_by_role("button", name="Volver a las conversaciones").click()
    await expect(page.locator("#bandejas")).to_be_visible()


async def test_the_report_page_shows_the_last_7_and_30_days_per_agent(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    ana = await register_customer(stack, "Ana Informe")
    await (await chatters(ana)).send("admin", "Hola, una duda")
    luis_socket = await chatters(agent)
    # Whoever round robin gave it to, Luis takes it.
    taken = await luis_socket.call("asignar", {"con": ana.usuario, "agente": agent.usuario})
    assert taken["ok"], taken
    await luis_socket.send(ana.usuario, "Dime")
    resolved = await luis_socket.call("cambiar_estado", {"con": ana.usuario, "estado": "resuelta"})
    assert resolved["ok"], resolved

    luis = await open_session(agent)
    await luis.page.get_by_role("link", name="Informes").click()
    await expect(luis.page).to_have_url(re.compile(r"/informes$"))
    await expect(luis.page).to_have_title("Soporte — Informes")
    for days in (7, 30):
        section = luis.page.get_by_role("region", name=f"Últimos {days} días")
        await expect(section).to_be_visible()
        headers = section.locator("thead th")
        await expect(headers).to_have_text(
            [
                "Quién",
                "Abiertas",
                "Resueltas",
                "Respondidas",
                "Primera respuesta (mediana)",
                "Primera respuesta (p90)",
                "Resolución (mediana)",
                "Resolución (p90)",
            ]
        )
        team = section.locator("tbody tr").first
        await expect(team.locator("th")).to_have_text("Todo el equipo")
        await expect(team.locator('[data-columna="report.resolved"]')).to_have_text(
            re.compile(r"^[1-9]\d*$")
        )
        mine = section.locator(f'tbody tr[data-agente="{agent.usuario}"]')
        await expect(mine.locator("th")).to_have_text(agent.nombre)
        await expect(mine.locator('[data-columna="report.resolved"]')).to_have_text("1")
        await expect(mine.locator('[data-columna="report.answered"]')).to_have_text("1")
        await expect(mine.locator('[data-columna="report.opened"]')).to_have_text("—")
        first_response = mine.locator('[data-columna="report.first.median"]')
        await expect(first_response).to_have_text(re.compile(r"^\d+ (s|min)"))

    # In English too.
    await luis.page.get_by_role("button", name="English").click()
    await expect(luis.page.get_by_role("region", name="Last 7 days")).to_be_visible()
    await expect(luis.page.locator("thead th").first).to_have_text("Who")

    # Customers have no report: they are sent back to their conversation.
    cliente = await open_session(ana)
    await cliente.page.goto("/informes")
    await expect(cliente.page).to_have_url(re.compile(r"/soporte$"))
