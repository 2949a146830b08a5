"""What the browser tests share: accounts, scripted participants, a signed-in page."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import socketio
from playwright.async_api import (
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    expect,
)

from soporte_stack.testing import RunningStack

PASSWORD = "secreto-123"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)

# Two shared cores run the whole stack and the browsers: give conditions time to come true.
expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class Account:
    usuario: str
    nombre: str
    password: str = PASSWORD


ADMIN = Account("admin", "admin", "soporte-admin")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def register_customer(stack: RunningStack, nombre: str | None = None) -> Account:
    usuario = unique("cli")
    nombre = nombre or f"Cliente {usuario[-4:]}"
    async with httpx.AsyncClient(base_url=stack.url) as http:
        response = await http.post(
            "/api/auth/register",
            json={"usuario": usuario, "nombre": nombre, "password": PASSWORD},
        )
    assert response.status_code == 201, response.text
    return Account(usuario, nombre)


async def create_agent(stack: RunningStack, nombre: str | None = None) -> Account:
    """A new agent account, made with the operator command (agents never self-register)."""
    usuario = unique("agente")
    nombre = nombre or f"Agente {usuario[-4:]}"
    await asyncio.to_thread(stack.create_agent, usuario, nombre, PASSWORD)
    return Account(usuario, nombre)


async def login_token(stack: RunningStack, account: Account) -> str:
    async with httpx.AsyncClient(base_url=stack.url) as http:
        response = await http.post(
            "/api/auth/login", json={"usuario": account.usuario, "password": account.password}
        )
    assert response.status_code == 200, response.text
    return response.cookies["token"]


@dataclass
class Chatter:
    """A scripted participant (python-socketio through the gateway): seeds history fast."""

    stack: RunningStack
    account: Account
    sio: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(reconnection=False)
    )

    async def connect(self) -> Chatter:
        token = await login_token(self.stack, self.account)
        await self.sio.connect(
            self.stack.url,
            transports=["websocket"],
            auth={"token": token},
            headers={"Origin": self.stack.url},
            wait_timeout=10,
        )
        return self

    async def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An event with an acknowledgement (the agents' workflow events)."""
        ack: dict[str, Any] = await self.sio.call(event, payload, timeout=15)
        return ack

    async def send(self, para: str, mensaje: str) -> dict[str, Any]:
        """Send and wait for the acknowledgement; waits out the per-user rate limit."""
        for _ in range(30):
            ack: dict[str, Any] = await self.sio.call(
                "mensaje_privado", {"para": para, "mensaje": mensaje}, timeout=15
            )
            if ack.get("codigo") != "ritmo":
                assert ack["ok"], ack
                return ack
            await asyncio.sleep(1)
        raise AssertionError("still rate limited after 30 s")


@dataclass
class Session:
    """One person's browser context and page, with what went wrong in it."""

    context: BrowserContext
    page: Page
    account: Account
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    async def in_sync(self) -> None:
        """Wait until the page is connected and has caught up with the history."""
        await expect(self.page.locator("body")).to_have_attribute("data-conexion", "al-dia")

    async def send(self, text: str) -> None:
        """Type into the message box and press Enter, as a person does."""
        box = self.page.locator("#texto")
        await box.fill(text)
        await box.press("Enter")

    def row(self, usuario: str) -> Locator:
        """An agent's list entry for one customer."""
        return self.page.locator(f'#lista-usuarios button[data-usuario="{usuario}"]')

    async def open_conversation(self, usuario: str) -> None:
        await self.row(usuario).click()

    @property
    def messages(self) -> Locator:
        """The messages shown in the open conversation, oldest first."""
        return self.page.locator("#mensajes li.mensaje")

    def message(self, text: str) -> Locator:
        """The shown messages whose text is exactly `text`."""
        return self.messages.filter(has=self.page.locator(".texto").get_by_text(text, exact=True))

    def tab(self, key: str) -> Locator:
        """An agent's tab over the list: mias, sin_asignar, abierta, pendiente, pospuesta,
        resuelta."""
        return self.page.locator(f"#pestana-{key}")

    async def server_counts(self) -> dict[str, int]:
        """The tabs' counts as the server has them now (`/recuento`), for this account."""
        response = await self.context.request.get("/api/usuarios-conversaciones/recuento")
        assert response.ok, await response.text()
        counts: dict[str, int] = await response.json()
        return counts

    async def expect_count(self, key: str, value: int) -> None:
        """The tab's count comes to `value` (other tests' conversations count too: callers
        compare with the server's counts taken just before)."""
        await expect(self.tab(key).locator(".cuenta")).to_have_text(str(value))

    async def texts(self) -> list[str]:
        """The text of every shown message, exactly as shown (textContent)."""
        texts: list[str] = await self.messages.locator(".texto").evaluate_all(
            "nodes => nodes.map(n => n.textContent)"
        )
        return texts


# The day the pages show before a time that is not of their today ("28 nov, 23:59"): a
# test's time may fall on the other side of midnight (pages run in UTC).
DAY_BEFORE_TIME = r"(\d\d? \w+\.?,? )?"


def shown_time(iso: str) -> re.Pattern[str]:
    """What a message's time shows: its hour and minute, after its day if need be."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return re.compile(rf"^{DAY_BEFORE_TIME}{when:%H:%M}$")


OpenSession = Callable[..., Awaitable[Session]]
ChatterFactory = Callable[[Account], Awaitable[Chatter]]
