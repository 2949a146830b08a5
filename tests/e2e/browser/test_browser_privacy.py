"""Privacy in the browser: an agent erases a customer only through the confirmation step
(the button works once the username is typed; cancelling erases nothing), the erased
conversation leaves the page and the customer is disconnected; the audit page shows the
erasure; a customer's page offers their own data to download."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from soporte_stack.testing import RunningStack

from .support import Account, ChatterFactory, OpenSession, register_customer

pytestmark = pytest.mark.e2e


async def test_erasing_takes_the_typed_username_and_the_customer_leaves_every_view(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    ana = await register_customer(stack, "Ana Borrable")
    ana_chatter = await chatters(ana)
    await ana_chatter.send("admin", "Quiero que borréis mis datos")
    luis = await open_session(agent)
    page = luis.page
    await luis.open_conversation(ana.usuario)
    await expect(luis.message("Quiero que borréis mis datos")).to_be_visible()
    export = page.locator("#exportar-cliente")
    await expect(export).to_have_attribute("href", f"/api/usuarios/{ana.usuario}/exportar")

    dialog, confirm = page.locator("#dialogo-borrar"), page.locator("#borrar-confirmar")
    await page.locator("#borrar-cliente").click()
    await expect(dialog).to_be_visible()
    await expect(page.locator("#titulo-borrar")).to_contain_text("Ana Borrable")
    await expect(confirm).to_be_disabled()
    await page.locator("#borrar-confirmacion").fill(ana.usuario[:-1])  # not quite
    await expect(confirm).to_be_disabled()
    await page.locator("#borrar-confirmacion").press("Enter")  # nor by the keyboard
    await page.locator("#borrar-cancelar").click()
    await expect(dialog).to_be_hidden()
    await expect(luis.row(ana.usuario)).to_be_visible()
    assert ana_chatter.sio.connected  # cancelled: nothing happened

    await page.locator("#borrar-cliente").click()
    await expect(confirm).to_be_disabled()  # the dialog starts over
    await page.locator("#borrar-confirmacion").fill(ana.usuario)
    await expect(confirm).to_be_enabled()
    await confirm.click()
    await expect(dialog).to_be_hidden()
    await expect(luis.row(ana.usuario)).to_have_count(0)
    await expect(page.locator("#sin-conversacion")).to_be_visible()
    gone = await luis.context.request.get(f"/api/usuarios/{ana.usuario}/exportar")
    assert gone.status == 404

    await page.goto("/auditoria")
    erasure = page.locator('#eventos tr[data-accion="borrado"]', has_text=ana.usuario)
    await expect(erasure.first).to_be_visible()
    await expect(erasure.first).to_contain_text(agent.usuario)
    await expect(erasure.first).to_contain_text("Borrado de cliente")
    # Filtered to what was done to ana: her erasure, and nothing about anybody else.
    await page.locator("#filtro-objetivo").fill(ana.usuario)
    await page.locator("#filtro-accion").select_option("borrado")
    await page.locator("#filtros").get_by_role("button").click()
    await expect(page.locator("#eventos tbody tr")).to_have_count(1)
    await expect(erasure).to_have_count(1)


async def test_a_customer_downloads_their_own_data_from_their_page(
    open_session: OpenSession, stack: RunningStack
) -> None:
    ana = await register_customer(stack, "Ana Descarga")
    session = await open_session(ana)
    await session.send("Hola, ¿qué guardáis de mí?")
    await expect(session.message("Hola, ¿qué guardáis de mí?")).to_be_visible()
    link = session.page.locator("#descargar-datos")
    await expect(link).to_be_visible()
    async with session.page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == f"soporte-{ana.usuario}.json"
    path = await download.path()
    content = path.read_text(encoding="utf-8")
    assert "Hola, ¿qué guardáis de mí?" in content
    await expect(session.page.locator("#enlace-auditoria")).to_be_hidden()
