"""Save the website widget's screenshots in docs/img/ (`make screenshots` runs it too).

Starts a whole stack of its own (with the demo shop `make run` serves: a company's page on
127.0.0.1 with the widget, Soporte on localhost), has a visitor write from the shop and an
agent answer through the real Socket.IO API, and photographs the shop in Chromium:

    widget-closed.png   the shop with the launcher, an unread answer on its badge
    widget-open.png     the chat open over the shop's page
    widget-phone.png    the chat filling a phone's screen
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import Page, async_playwright, expect
from screenshots import signed_in_socket  # scripts/ is on the path when a script runs

from soporte_stack.browser import CHROMIUM, CHROMIUM_ARGS
from soporte_stack.running import RunningStack, start_stack
from soporte_stack.testing import eventually

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
OPEN = "Abrir el chat de Soporte"


async def shoot(page: Page, name: str) -> None:
    await page.mouse.move(0, 0)
    await page.wait_for_timeout(400)  # let the last layout and fonts settle
    await page.screenshot(path=str(OUT / name))
    print(f"saved docs/img/{name}")


async def photograph(stack: RunningStack) -> None:
    shop = stack.info.demo_shop_url
    async with httpx.AsyncClient(base_url=stack.url) as http:
        agent = await signed_in_socket(stack, http, "admin", "soporte-admin")
    visitors: list[str] = []
    agent.on("mensaje_recibido", lambda m: visitors.append(m["de"]))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--font-render-hinting=none"],
        )
        try:
            context = await browser.new_context(
                viewport={"width": 1200, "height": 720}, locale="es-ES", timezone_id="UTC"
            )
            page = await context.new_page()
            await page.goto(f"{shop}/producto")
            await page.get_by_role("button", name=OPEN).click()
            chat = page.frame_locator("iframe")
            text = chat.locator("#texto")
            await text.fill("Hola, ¿la cafetera sirve para placas de inducción?")
            await text.press("Enter")
            await eventually(lambda: bool(visitors))
            for reply in (
                "¡Hola! Sí, la base es de acero apto para inducción.",
                "¿Te ayudo con algo más?",
            ):
                ack = await agent.call("mensaje_privado", {"para": visitors[0], "mensaje": reply})
                assert ack["ok"], ack
            await expect(chat.locator("#mensajes li.mensaje")).to_have_count(3)
            await shoot(page, "widget-open.png")
            await text.press("Escape")
            await agent.call(
                "mensaje_privado", {"para": visitors[0], "mensaje": "Te dejo el manual."}
            )
            await expect(page.locator("button .badge")).to_have_text("1")
            await shoot(page, "widget-closed.png")

            phone = await browser.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="es-ES",
                timezone_id="UTC",
            )
            # The same visitor on a phone: its credential, as the shop's page keeps it.
            mobile = await phone.new_page()
            await mobile.goto(shop)
            credential = await page.evaluate("Object.entries(localStorage)")
            await mobile.evaluate(
                "([entries]) => entries.forEach(([k, v]) => localStorage.setItem(k, v))",
                [credential],
            )
            await mobile.goto(f"{shop}/producto")
            await mobile.get_by_role("button", name=OPEN).click()
            await expect(
                mobile.frame_locator("iframe").locator("#mensajes li.mensaje")
            ).to_have_count(4)
            await shoot(mobile, "widget-phone.png")
        finally:
            await browser.close()
            await agent.disconnect()


async def main() -> int:
    if len(sys.argv) > 1:  # the data directory of a stack already running
        await photograph(RunningStack.attach(Path(sys.argv[1])))
        return 0
    with tempfile.TemporaryDirectory(prefix="soporte-widget-capturas-") as tmp:
        print("starting a stack of its own…", flush=True)
        stack = start_stack(Path(tmp), infra_only=False)
        try:
            await photograph(stack)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
