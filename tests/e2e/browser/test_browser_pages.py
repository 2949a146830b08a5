"""The pages as a whole: signing in, a phone-sized screen, screen-reader announcements,
English."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from soporte_stack.testing import RunningStack

from .support import PHONE, Account, OpenSession, unique

pytestmark = pytest.mark.e2e


async def no_sideways_scroll(page: Page) -> None:
    """Nothing sticks out to the side: the page never needs a horizontal scroll."""
    assert page.viewport_size
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


async def test_a_new_customer_registers_on_the_login_page_and_lands_in_the_chat(
    browser: Browser, stack: RunningStack
) -> None:
    context = await browser.new_context(base_url=stack.url, locale="es-ES")
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.get_by_role("tab", name="Crear cuenta").click()
        usuario = unique("nuevo")
        await page.get_by_label("Usuario").and_(page.locator("#reg-usuario")).fill(usuario)
        await page.get_by_label("Nombre").fill("Nuria Nueva")
        await page.locator("#reg-password").fill("una-clave-larga")
        await page.get_by_role("button", name="Crear cuenta y entrar").click()
        await expect(page).to_have_url(f"{stack.url}/soporte")
        await expect(page.locator("#quien")).to_have_text("Nuria Nueva")
        await expect(page.locator("#mensajes")).to_contain_text(
            "Escribe tu consulta y el equipo de soporte te responderá aquí."
        )

        # Signing out leads back to the login page; wrong passwords are refused there.
        await page.get_by_role("button", name="Salir").click()
        await expect(page).to_have_url(f"{stack.url}/")
        await page.locator("#login-usuario").fill(usuario)
        await page.locator("#login-password").fill("otra-clave")
        await page.get_by_role("button", name="Entrar", exact=True).click()
        await expect(page.get_by_role("alert")).to_contain_text("No se pudo entrar")
        await page.locator("#login-password").fill("una-clave-larga")
        await page.locator("#login-password").press("Enter")
        await expect(page).to_have_url(f"{stack.url}/soporte")
    finally:
        await context.close()


async def test_the_customer_view_works_on_a_phone(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer, viewport=PHONE)
    page = cliente.page
    await expect(page.locator("#mensajes")).to_be_visible()
    await expect(page.locator("#texto")).to_be_visible()
    await expect(page.get_by_role("button", name="Enviar")).to_be_in_viewport()
    await expect(page.locator("#panel-lista")).to_be_hidden()
    await expect(page.locator("#volver")).to_be_hidden()

    await page.locator("#texto").tap()
    await page.keyboard.type("Escribo desde el móvil, con un mensaje bastante largo para ver")
    await page.get_by_role("button", name="Enviar").tap()
    sent = cliente.message("Escribo desde el móvil, con un mensaje bastante largo para ver")
    await expect(sent).to_have_class("mensaje propio")
    agente = await open_session(agent)
    await agente.open_conversation(customer.usuario)
    await agente.send("Te respondemos aquí")
    await expect(cliente.message("Te respondemos aquí")).to_be_in_viewport()
    bubble = await sent.bounding_box()
    assert bubble and bubble["x"] >= 0 and bubble["x"] + bubble["width"] <= PHONE["width"]
    await no_sideways_scroll(page)


async def test_the_agent_view_works_on_a_phone(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    await cliente.send("Hola desde el ordenador")
    agente = await open_session(agent, viewport=PHONE)
    page = agente.page
    # First the list, alone on the screen.
    await expect(agente.row(customer.usuario)).to_be_visible()
    await expect(page.locator("#panel-chat")).to_be_hidden()
    await no_sideways_scroll(page)

    # Tapping a conversation shows it alone, with a way back.
    await agente.row(customer.usuario).tap()
    await expect(page.locator("#panel-lista")).to_be_hidden()
    await expect(agente.message("Hola desde el ordenador")).to_be_visible()
    await expect(page.locator("#titulo-chat")).to_have_text(f"Conversación con {customer.nombre}")
    await page.locator("#texto").fill("Respuesta desde el móvil")
    await page.get_by_role("button", name="Enviar").tap()
    await expect(cliente.message("Respuesta desde el móvil")).to_have_count(1)
    await no_sideways_scroll(page)

    back = page.get_by_role("button", name="Volver a la lista")
    await back.tap()
    await expect(page.locator("#panel-chat")).to_be_hidden()
    await expect(agente.row(customer.usuario).locator(".vista-previa")).to_have_text(
        "Respuesta desde el móvil"
    )
    await expect(back).to_be_hidden()


async def test_new_messages_are_announced_to_screen_readers(
    open_session: OpenSession, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    agente = await open_session(agent)
    for view in (cliente, agente):
        await expect(view.page.locator("#anuncios")).to_have_attribute("aria-live", "polite")

    await cliente.send("¿Hacéis envíos a Canarias?")
    await expect(agente.page.locator("#anuncios")).to_contain_text(
        f"Nuevo mensaje de {customer.nombre}: ¿Hacéis envíos a Canarias?"
    )
    await agente.open_conversation(customer.usuario)
    await agente.send("Sí, en 48 horas")
    await expect(cliente.page.locator("#anuncios")).to_contain_text(
        "Nuevo mensaje de Equipo de soporte: Sí, en 48 horas"
    )
    # One's own messages are not announced back.
    await expect(cliente.page.locator("#anuncios")).not_to_contain_text("Canarias")
    await expect(agente.page.locator("#anuncios")).not_to_contain_text("48 horas")


# A background tab, as the page sees one (headless pages are never hidden by themselves).
HIDE_TAB = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW_TAB = """() => {
  delete document.hidden;
  delete document.visibilityState;
  document.dispatchEvent(new Event("visibilitychange"));
}"""
# Records the desktop notifications the page shows.
RECORD_NOTIFICATIONS = """
window.avisos = [];
window.Notification = class extends window.Notification {
  constructor(title, options) {
    super(title, options);
    window.avisos.push({ title, body: options && options.body });
  }
};
"""


async def test_while_the_tab_is_hidden_new_messages_count_in_the_title_and_notify(
    open_session: OpenSession, stack: RunningStack, customer: Account, agent: Account
) -> None:
    cliente = await open_session(customer)
    page = cliente.page
    await cliente.context.grant_permissions(["notifications"], origin=stack.url)
    await cliente.context.add_init_script(RECORD_NOTIFICATIONS)
    await page.reload()
    await cliente.in_sync()
    avisos = page.get_by_role("button", name="Activar avisos")
    await avisos.click()
    await expect(page.get_by_role("button", name="Avisos activados")).to_have_attribute(
        "aria-pressed", "true"
    )
    await cliente.send("Os escribo y me voy a otra pestaña")
    agente = await open_session(agent)
    await agente.open_conversation(customer.usuario)

    await page.evaluate(HIDE_TAB)
    await agente.send("Te contestamos enseguida")
    await agente.send("Ya está resuelto")
    await expect(page).to_have_title("(2) Soporte")
    assert await page.evaluate("window.avisos") == [
        {"title": "Soporte — Equipo de soporte", "body": "Te contestamos enseguida"},
        {"title": "Soporte — Equipo de soporte", "body": "Ya está resuelto"},
    ]

    await page.evaluate(SHOW_TAB)  # back to the tab: read
    await expect(page).to_have_title("Soporte")
    await expect(cliente.message("Ya está resuelto")).to_be_visible()


async def test_the_english_toggle_changes_the_strings_and_is_remembered(
    open_session: OpenSession, customer: Account
) -> None:
    cliente = await open_session(customer)
    page = cliente.page
    await cliente.send("Hola")
    await expect(cliente.message("Hola").locator(".autor")).to_have_text("Tú")

    await page.get_by_role("button", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("h1")).to_have_text("Support")
    await expect(page).to_have_title("Support")
    await expect(page.locator("#titulo-chat")).to_have_text("Support team")
    await expect(page.get_by_role("button", name="Send")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(page.locator("#texto")).to_have_attribute(
        "placeholder", "Write a message (Enter sends, Shift+Enter for a new line)"
    )
    await expect(cliente.message("Hola").locator(".autor")).to_have_text("You")

    await page.reload()
    await cliente.in_sync()
    await expect(page.locator("h1")).to_have_text("Support")
    await expect(cliente.message("Hola").locator(".autor")).to_have_text("You")

    await page.get_by_role("button", name="Español").click()
    await expect(page.locator("h1")).to_have_text("Soporte")
    await expect(page.get_by_role("button", name="Enviar")).to_be_visible()
    await expect(cliente.message("Hola").locator(".autor")).to_have_text("Tú")


async def test_the_login_page_speaks_english_too(browser: Browser, stack: RunningStack) -> None:
    context = await browser.new_context(base_url=stack.url)
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.get_by_role("button", name="English").click()
        await expect(page.locator("h1")).to_have_text("Support")
        await expect(page.get_by_role("tab", name="Sign in")).to_be_visible()
        await expect(page.get_by_role("tab", name="Create account")).to_be_visible()
        await expect(page.locator('label[for="login-password"]')).to_have_text("Password")
        await expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
        await expect(page).to_have_title("Support — Sign in")
    finally:
        await context.close()
