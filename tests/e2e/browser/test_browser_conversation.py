"""A customer and an agent talking through the real pages: live both ways, history,
the message box, sending that fails and is retried, and text that must stay text."""

from __future__ import annotations

import pytest
from playwright.async_api import ViewportSize, expect

from soporte_stack.testing import RunningStack

from .support import Account, ChatterFactory, OpenSession, shown_time

pytestmark = pytest.mark.e2e

MARKUP = "<img src=x onerror=alert(1)>"
TALL = ViewportSize(width=1280, height=4000)
RTL_OVERRIDE = "factura \u202egnp.exe\u202c pagada"


async def test_customer_and_agent_exchange_messages_both_ways(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    agente = await open_session(agent)

    await cliente.send("Hola, no puedo entrar en mi cuenta")
    await expect(cliente.message("Hola, no puedo entrar en mi cuenta")).to_have_count(1)

    # The agent sees the new conversation appear live, under the customer's name.
    row = agente.row(customer.usuario)
    await expect(row.locator(".nombre")).to_have_text(customer.nombre)
    await row.click()
    await expect(agente.page.locator("#titulo-chat")).to_have_text(
        f"Conversación con {customer.nombre}"
    )
    question = agente.message("Hola, no puedo entrar en mi cuenta")
    await expect(question.locator(".autor")).to_have_text(customer.nombre)

    await agente.send("Hola, te ayudo ahora mismo. ¿Qué error ves?")
    reply = cliente.message("Hola, te ayudo ahora mismo. ¿Qué error ves?")
    await expect(reply.locator(".autor")).to_have_text("Equipo de soporte")
    await cliente.send("Dice «contraseña incorrecta»")
    await expect(agente.message("Dice «contraseña incorrecta»")).to_have_count(1)

    expected = [
        "Hola, no puedo entrar en mi cuenta",
        "Hola, te ayudo ahora mismo. ¿Qué error ves?",
        "Dice «contraseña incorrecta»",
    ]
    assert await cliente.texts() == expected
    assert await agente.texts() == expected


async def test_own_messages_and_support_replies_are_told_apart_each_with_its_time(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    agente = await open_session(agent)
    await cliente.send("¿Abrís los domingos?")
    await agente.open_conversation(customer.usuario)
    await agente.send("No, de lunes a viernes.")

    own = cliente.message("¿Abrís los domingos?")
    theirs = cliente.message("No, de lunes a viernes.")
    await expect(own.locator(".autor")).to_have_text("Tú")
    await expect(theirs.locator(".autor")).to_have_text("Equipo de soporte")
    # Own messages sit on the right in their own colour; support's on the left.
    own_box, their_box = await own.bounding_box(), await theirs.bounding_box()
    thread_box = await cliente.page.locator("#mensajes").bounding_box()
    assert own_box and their_box and thread_box
    assert own_box["x"] + own_box["width"] > thread_box["x"] + thread_box["width"] * 0.8
    assert their_box["x"] < thread_box["x"] + thread_box["width"] * 0.2
    own_colour = await own.evaluate("el => getComputedStyle(el).backgroundColor")
    their_colour = await theirs.evaluate("el => getComputedStyle(el).backgroundColor")
    assert own_colour != their_colour

    for view in (cliente, agente):
        await expect(view.messages).to_have_count(2)
        for index in range(2):
            time = view.messages.nth(index).locator("time")
            iso = await time.get_attribute("datetime")
            assert iso
            await expect(time).to_have_text(shown_time(iso))


async def test_enter_sends_and_shift_enter_breaks_the_line(
    open_session: OpenSession, customer: Account
) -> None:
    cliente = await open_session(customer)
    box = cliente.page.locator("#texto")
    await box.click()
    await cliente.page.keyboard.type("Primera línea")
    await cliente.page.keyboard.press("Shift+Enter")
    await cliente.page.keyboard.type("Segunda línea")
    await expect(box).to_have_value("Primera línea\nSegunda línea")
    await expect(cliente.messages).to_have_count(0)

    await cliente.page.keyboard.press("Enter")
    sent = cliente.messages.locator(".texto")
    await expect(sent).to_have_count(1)
    assert await sent.text_content() == "Primera línea\nSegunda línea"
    assert await sent.inner_text() == "Primera línea\nSegunda línea"  # shown on two lines
    await expect(sent.locator("xpath=ancestor::li")).not_to_have_class("pendiente")
    await expect(box).to_have_value("")
    await expect(box).to_be_focused()

    # Enter on an empty box sends nothing.
    await cliente.page.keyboard.press("Enter")
    await cliente.page.keyboard.press("Enter")
    await cliente.page.reload()
    await cliente.in_sync()
    await expect(cliente.messages).to_have_count(1)


async def test_history_loads_at_once_and_older_pages_load_when_scrolling_up(
    open_session: OpenSession, chatters: ChatterFactory, customer: Account, agent: Account
) -> None:
    writer = await chatters(customer)
    replier = await chatters(agent)
    for n in range(1, 61):
        if n % 2:
            await writer.send("admin", f"Mensaje {n:02d} del cliente")
        else:
            await replier.send(customer.usuario, f"Mensaje {n:02d} del soporte")
    text = [f"Mensaje {n:02d} del {'cliente' if n % 2 else 'soporte'}" for n in range(1, 61)]

    cliente = await open_session(customer)
    # The newest page at once, scrolled to the newest message.
    await expect(cliente.messages).to_have_count(50)
    await expect(cliente.message(text[-1])).to_be_in_viewport()
    assert await cliente.texts() == text[10:]

    # Scrolling up loads the older page above, without moving what the reader sees.
    thread = cliente.page.locator("#mensajes")
    await thread.hover()
    await cliente.page.mouse.wheel(0, -100_000)
    await expect(cliente.messages).to_have_count(60)
    assert await cliente.texts() == text
    await expect(cliente.message(text[10])).to_be_in_viewport()
    await cliente.page.mouse.wheel(0, -100_000)
    await expect(cliente.message(text[0])).to_be_in_viewport()

    # The agent's view of the same conversation pages the same way.
    agente = await open_session(agent)
    await agente.open_conversation(customer.usuario)
    await expect(agente.messages).to_have_count(50)
    await expect(agente.message(text[-1])).to_be_in_viewport()
    await agente.page.locator("#mensajes").hover()
    await agente.page.mouse.wheel(0, -100_000)
    await expect(agente.messages).to_have_count(60)
    assert await agente.texts() == text


async def test_a_new_message_leaves_the_reader_where_they_are(
    open_session: OpenSession, chatters: ChatterFactory, customer: Account, agent: Account
) -> None:
    """At the bottom, the thread follows what comes in; scrolled up to an older message,
    a new one neither pulls the reader down nor drops the text they selected."""
    replier = await chatters(agent)
    for n in range(1, 26):
        await replier.send(customer.usuario, f"Respuesta {n:02d}")
    cliente = await open_session(customer)
    await expect(cliente.messages).to_have_count(25)
    await expect(cliente.message("Respuesta 25")).to_be_in_viewport()

    await replier.send(customer.usuario, "Llega estando abajo")
    await expect(cliente.message("Llega estando abajo")).to_be_in_viewport()

    first = cliente.message("Respuesta 01")
    await first.scroll_into_view_if_needed()
    await first.locator(".texto").select_text()
    await replier.send(customer.usuario, "Llega leyendo arriba")
    await expect(cliente.message("Llega leyendo arriba")).to_have_count(1)
    await expect(first).to_be_in_viewport()
    await expect(cliente.message("Llega leyendo arriba")).not_to_be_in_viewport()
    assert await cliente.page.evaluate("getSelection().toString()") == "Respuesta 01"


async def test_older_pages_load_on_a_screen_the_newest_page_does_not_fill(
    open_session: OpenSession, chatters: ChatterFactory, customer: Account
) -> None:
    """Nothing to scroll, so no scrolling up: the older pages must load by themselves."""
    writer = await chatters(customer)
    for n in range(1, 56):
        await writer.send("admin", f"Corto {n:02d}")
    cliente = await open_session(customer, viewport=TALL)
    await expect(cliente.messages).to_have_count(55)
    assert await cliente.texts() == [f"Corto {n:02d}" for n in range(1, 56)]


async def test_reload_keeps_the_history(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    agente = await open_session(agent)
    await cliente.send("Mi pedido no ha llegado")
    await agente.open_conversation(customer.usuario)
    await agente.send("Lo reviso: ¿número de pedido?")
    await expect(cliente.message("Lo reviso: ¿número de pedido?")).to_have_count(1)
    await cliente.send("El 4521")
    await expect(agente.message("El 4521")).to_have_count(1)
    expected = ["Mi pedido no ha llegado", "Lo reviso: ¿número de pedido?", "El 4521"]

    await cliente.page.reload()
    await cliente.in_sync()
    assert await cliente.texts() == expected
    await expect(cliente.message("El 4521").locator(".autor")).to_have_text("Tú")

    await agente.page.reload()
    await agente.in_sync()
    await agente.open_conversation(customer.usuario)
    await expect(agente.messages).to_have_count(3)
    assert await agente.texts() == expected


async def test_markup_and_bidi_overrides_are_shown_literally(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    agente = await open_session(agent)
    await cliente.send(MARKUP)
    await cliente.send(RTL_OVERRIDE)
    await agente.open_conversation(customer.usuario)
    await agente.send(f"Recibido: {MARKUP}")

    for view in (cliente, agente):
        await expect(view.messages).to_have_count(3)
        assert await view.texts() == [MARKUP, RTL_OVERRIDE, f"Recibido: {MARKUP}"]
        assert await view.page.locator("img").count() == 0
        # The override stays inside its message: the text is isolated from its surroundings.
        isolation = (
            await view.message(RTL_OVERRIDE)
            .locator(".texto")
            .evaluate("el => getComputedStyle(el).unicodeBidi")
        )
        assert isolation == "isolate"

    await cliente.send(MARKUP)  # the list's preview shows the newest message as text too
    preview = agente.row(customer.usuario).locator(".vista-previa")
    await expect(preview).to_have_text(MARKUP)
    assert await preview.text_content() == MARKUP
    assert await agente.page.locator("img").count() == 0
    # No dialog opened and no uncaught error: the open_session fixture checks both.


async def test_a_send_that_fails_while_offline_is_marked_and_retry_delivers_it(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    agente = await open_session(agent)
    await cliente.send("Antes de cortarse")
    await expect(agente.row(customer.usuario)).to_be_visible()

    await cliente.context.set_offline(True)
    await cliente.send("Escrito sin conexión")
    failed = cliente.message("Escrito sin conexión")
    note = failed.locator(".nota-envio")
    await expect(note).to_contain_text("No enviado")
    await expect(failed).to_have_class("mensaje propio fallido")

    await cliente.context.set_offline(False)
    await cliente.in_sync()
    await failed.get_by_role("button", name="Reintentar").click()
    await expect(note).to_have_count(0)
    await expect(cliente.message("Escrito sin conexión")).to_have_count(1)
    await expect(cliente.message("Escrito sin conexión")).to_have_class("mensaje propio")

    await agente.open_conversation(customer.usuario)
    await expect(agente.message("Escrito sin conexión")).to_have_count(1)
    assert await agente.texts() == ["Antes de cortarse", "Escrito sin conexión"]


async def test_a_send_refused_by_the_server_shows_why_and_retry_delivers_it(
    open_session: OpenSession, customer: Account, stack: RunningStack
) -> None:
    """The server refuses a customer's 31st message within its rate window; the reason is
    shown on that message, and retrying once the window has passed delivers it."""
    cliente = await open_session(customer)
    for n in range(1, 31):
        await cliente.send(f"Mensaje rápido {n}")
    await expect(cliente.page.locator("#mensajes li.pendiente")).to_have_count(0)
    await expect(cliente.messages).to_have_count(30)

    await cliente.send("Uno de más")
    refused = cliente.message("Uno de más")
    await expect(refused.locator(".nota-envio")).to_contain_text(
        "Estás enviando demasiados mensajes"
    )
    retry = refused.get_by_role("button", name="Reintentar")
    delivered = cliente.page.locator("#mensajes li.mensaje:not(.pendiente):not(.fallido)")
    delivered = delivered.filter(has_text="Uno de más")
    for _ in range(30):  # a person waits a little and tries again
        await retry.click()
        await expect(retry.or_(delivered)).to_be_visible()
        if await delivered.count():
            break
        await cliente.page.wait_for_timeout(1000)
    await expect(refused).to_have_class("mensaje propio")
    await cliente.page.reload()
    await cliente.in_sync()
    await expect(cliente.message("Uno de más")).to_have_count(1)


async def test_the_message_box_stops_at_the_length_limit(
    open_session: OpenSession, customer: Account
) -> None:
    cliente = await open_session(customer)
    box = cliente.page.locator("#texto")
    await box.focus()
    await cliente.page.keyboard.insert_text("x" * 4001)  # as a paste does
    await expect(box).to_have_value("x" * 4000)
    await box.press("Enter")
    longest = cliente.message("x" * 4000)
    await expect(longest).to_have_class("mensaje propio")
