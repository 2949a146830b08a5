"""Save the screenshots in docs/img/ from the real pages (`make screenshots`).

Starts a whole stack of its own (a free port block, a temporary data directory, exactly as
the tests do), seeds three conversations through the real Socket.IO API, and photographs
the pages in Chromium: the customer's view, the agent's view and a phone.

    customer.png   a customer talking to support (desktop)
    agent.png      an agent: the list (one unread, one open, one read) and the open thread
    phone.png      the agent's view of a conversation on a phone-sized screen
    workflow.png   an agent's workflow: tabs with counts, status and assignee, an internal
                   note, status lines, saved replies offered after "/"
    report.png     the agents' report page (last 7 and 30 days)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import socketio
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from soporte_stack.browser import CHROMIUM, CHROMIUM_ARGS
from soporte_stack.running import RunningStack, start_stack

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
# Crisper text in the pictures.
SCREENSHOT_ARGS = [*CHROMIUM_ARGS, "--font-render-hinting=none"]
PASSWORD = "capturas-123"
DESKTOP = ViewportSize(width=1200, height=720)
PHONE = ViewportSize(width=390, height=844)


@dataclass(frozen=True)
class Person:
    usuario: str
    nombre: str


AGENT = Person("laura", "Laura · Soporte")
MARIA = Person("maria.lopez", "María López")
JORGE = Person("jorge", "Jorge Martín")
SOFIA = Person("sofia.h", "Sofía Herrera")

# (who writes, text): customers write to "admin", the agent to the customer.
CONVERSATIONS: list[tuple[Person, list[tuple[Person, str]]]] = [
    (
        JORGE,
        [
            (JORGE, "Buenas, ¿me podéis mandar la factura de octubre? No la encuentro."),
            (AGENT, "Hola Jorge, te la acabo de reenviar a tu correo."),
            (JORGE, "Recibida, ¡gracias!"),
        ],
    ),
    (
        MARIA,
        [
            (MARIA, "Hola, hice un pedido el lunes y todavía aparece como «en preparación»."),
            (AGENT, "Hola María, lo miro ahora mismo. ¿Me dices el número de pedido?"),
            (MARIA, "Es el 48213."),
            (
                AGENT,
                "Gracias. Salió ayer del almacén; te llegará mañana por la mañana.\n"
                "Te envío el enlace de seguimiento por correo.",
            ),
            (MARIA, "Perfecto, muchas gracias 😊"),
        ],
    ),
    (
        SOFIA,
        [
            (SOFIA, "No puedo entrar en mi cuenta: dice que la contraseña no es correcta."),
            (SOFIA, "Ya he probado a restablecerla dos veces."),
        ],
    ),
]


async def signed_in_socket(
    stack: RunningStack, http: httpx.AsyncClient, usuario: str, password: str
) -> socketio.AsyncClient:
    """A Socket.IO client signed in as `usuario` (scripted people in the screenshots)."""
    response = await http.post("/api/auth/login", json={"usuario": usuario, "password": password})
    response.raise_for_status()
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(
        stack.url,
        transports=["websocket"],
        headers={"Origin": stack.url},
        auth={"token": response.cookies["token"]},
        wait_timeout=10,
    )
    return sio


async def seed(stack: RunningStack) -> None:
    await asyncio.to_thread(stack.create_agent, AGENT.usuario, AGENT.nombre, PASSWORD)
    async with httpx.AsyncClient(base_url=stack.url) as http:
        for person in (MARIA, JORGE, SOFIA):
            response = await http.post(
                "/api/auth/register",
                json={"usuario": person.usuario, "nombre": person.nombre, "password": PASSWORD},
            )
            response.raise_for_status()
        sockets = {
            p.usuario: await signed_in_socket(stack, http, p.usuario, PASSWORD)
            for p in (AGENT, MARIA, JORGE, SOFIA)
        }
        try:
            for customer, messages in CONVERSATIONS:
                if customer is SOFIA:
                    continue  # she writes while the agent is looking (unread)
                for who, text in messages:
                    para = "admin" if who is customer else customer.usuario
                    ack = await sockets[who.usuario].call(
                        "mensaje_privado", {"para": para, "mensaje": text}, timeout=10
                    )
                    if not ack.get("ok"):
                        raise RuntimeError(f"not accepted: {ack}")
        finally:
            for sio in sockets.values():
                await sio.disconnect()


async def signed_in(
    browser: Browser, stack: RunningStack, person: Person, viewport: ViewportSize, scale: float = 1
) -> Page:
    context = await browser.new_context(
        base_url=stack.url,
        viewport=viewport,
        device_scale_factor=scale,
        locale="es-ES",
        timezone_id="Europe/Madrid",
        is_mobile=viewport["width"] < 700,
        has_touch=viewport["width"] < 700,
    )
    response = await context.request.post(
        "/api/auth/login", data={"usuario": person.usuario, "password": PASSWORD}
    )
    if not response.ok:
        raise RuntimeError(await response.text())
    page = await context.new_page()
    await page.goto("/soporte")
    await expect(page.locator("body")).to_have_attribute("data-conexion", "al-dia", timeout=20_000)
    return page


async def send(page: Page, text: str) -> None:
    await page.locator("#texto").fill(text)
    await page.locator("#texto").press("Enter")
    await expect(page.locator("#mensajes li.pendiente")).to_have_count(0)


SAVED_REPLIES = [
    ("envio", "Tu pedido sale hoy del almacén y llega en 24–48 horas."),
    ("seguimiento", "Te envío el enlace de seguimiento por correo ahora mismo."),
    ("gracias", "¡Gracias a ti! Si necesitas algo más, escríbenos por aquí."),
]


async def workflow(agent: Page) -> None:
    """The open conversation (María's) with a note, a status change, and "/" typed."""
    for atajo, texto in SAVED_REPLIES:
        response = await agent.context.request.post(
            "/api/respuestas", data={"atajo": atajo, "texto": texto}
        )
        if not response.ok:
            raise RuntimeError(await response.text())
    await agent.get_by_role("button", name="Nota interna").click()
    await send(agent, "Cliente habitual: si vuelve a pasar, ofrecerle el envío gratis.")
    await agent.get_by_role("button", name="Pendiente del cliente").click()
    await expect(agent.locator("#mensajes li.sistema").last).to_contain_text("pendiente")
    await agent.get_by_role("button", name="Respuesta", exact=True).click()
    await agent.locator("#texto").fill("")
    await agent.locator("#texto").press_sequentially("/segui")
    await expect(agent.locator("#sugerencias [role=option]")).to_have_count(1)


async def shoot(page: Page, name: str) -> None:
    await page.mouse.move(0, 0)  # no hover effects
    await page.wait_for_timeout(300)  # let the last layout and fonts settle
    path = OUT / name
    await page.screenshot(path=str(path))
    print(f"saved {path.relative_to(ROOT)}")


async def photograph(stack: RunningStack) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=SCREENSHOT_ARGS
        )
        try:
            agent = await signed_in(browser, stack, AGENT, DESKTOP)
            row = agent.locator("#lista-usuarios button")
            await row.filter(has_text=JORGE.nombre).click()  # read: plain
            await row.filter(has_text=MARIA.nombre).click()  # open: green
            await expect(agent.locator("#mensajes li.mensaje")).to_have_count(5)

            sofia = await signed_in(browser, stack, SOFIA, DESKTOP)
            for _, text in CONVERSATIONS[2][1]:
                await send(sofia, text)  # unread for the agent: red, with a count
            await expect(row.filter(has_text=SOFIA.nombre).locator(".contador")).to_have_text("2")
            await agent.locator("#texto").fill("¿Necesitas algo más?")  # a draft
            await shoot(agent, "agent.png")
            await workflow(agent)
            await shoot(agent, "workflow.png")
            await agent.goto("/informes")
            await expect(agent.locator("#informe-30")).to_be_visible()
            await shoot(agent, "report.png")

            maria = await signed_in(browser, stack, MARIA, DESKTOP)
            await expect(maria.locator("#mensajes li.mensaje")).to_have_count(5)
            await maria.locator("#texto").fill("Una última pregunta: ¿puedo cambiar la dirección")
            await shoot(maria, "customer.png")

            phone = await signed_in(browser, stack, AGENT, PHONE, scale=2)
            await phone.locator("#lista-usuarios button").filter(has_text=SOFIA.nombre).tap()
            await expect(phone.locator("#mensajes li.mensaje")).to_have_count(2)
            await send(phone, "Hola Sofía, te ayudo. ¿Te llega el correo para restablecerla?")
            await expect(sofia.locator("#mensajes li.mensaje")).to_have_count(3)
            await send(sofia, "No, no me llega nada 😕")
            await expect(phone.locator("#mensajes li.mensaje")).to_have_count(4)
            await shoot(phone, "phone.png")
        finally:
            await browser.close()


async def main() -> int:
    with tempfile.TemporaryDirectory(prefix="soporte-capturas-") as tmp:
        print("starting a stack of its own…", flush=True)
        stack = start_stack(Path(tmp), infra_only=False)
        try:
            await seed(stack)
            await photograph(stack)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
