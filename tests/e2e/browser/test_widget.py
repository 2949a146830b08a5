"""The website widget on a company's own page, in a real Chromium that blocks third-party
cookies. The company's pages are on 127.0.0.1:<port>, Soporte on localhost:<port>: two
different sites, so the widget's framed chat works with its own token only (never a
cookie). Agents are scripted Socket.IO clients pinned to each realtime replica."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import socketio
from aiohttp import web
from playwright.async_api import Browser, Route, WebSocketRoute, async_playwright, expect

from e2e.conftest import STICKY_COOKIE, ensure_running, replica_cookies
from soporte_stack.browser import CHROMIUM, CHROMIUM_ARGS
from soporte_stack.testing import RunningStack, eventually

from .support import (
    DESKTOP,
    Account,
    ChatterFactory,
    OpenSession,
    create_agent,
    login_token,
    register_customer,
)
from .test_browser_reconnect import replica_of
from .widget_support import OPEN, CompanySite, OpenVisitor, VisitorPage, sign_identity

pytestmark = pytest.mark.e2e

IDENTITY_REFUSED = "No pudimos confirmar quién eres en este sitio"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
async def widget_browser() -> AsyncIterator[Browser]:
    """Chromium as a privacy-minded visitor has it: third-party cookies blocked."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
        )
        yield chromium
        await chromium.close()


@pytest.fixture(scope="module")
async def company(stack: RunningStack) -> AsyncIterator[CompanySite]:
    site = CompanySite(soporte=stack.url)
    app = web.Application()
    app.router.add_get("/{path:.*}", site.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    ports = [_free_port(), _free_port()]
    for port in ports:
        await web.TCPSite(runner, "127.0.0.1", port).start()
    site.origin, site.other = (f"http://127.0.0.1:{port}" for port in ports)
    yield site
    await runner.cleanup()


@pytest.fixture(scope="module")
async def site(stack: RunningStack, company: CompanySite) -> tuple[str, str]:
    """The company's site: (key, identity secret); only `company.origin` is registered."""
    return await asyncio.to_thread(stack.create_site, company.origin, nombre="Tienda Test")


@pytest.fixture
async def visit(widget_browser: Browser) -> AsyncIterator[OpenVisitor]:
    opened: list[VisitorPage] = []

    async def visit_(
        url: str, *, viewport: Any = DESKTOP, same: VisitorPage | None = None
    ) -> VisitorPage:
        context = (
            same.context
            if same
            else await widget_browser.new_context(
                viewport=viewport,
                locale="es-ES",
                timezone_id="UTC",
                is_mobile=viewport["width"] < 700,
            )
        )
        page = await context.new_page()
        visitor = VisitorPage(context, page)
        opened.append(visitor)
        await page.goto(url)
        return visitor

    yield visit_
    errors = [error for visitor in opened for error in visitor.page_errors]
    for context in {visitor.context for visitor in opened}:
        await context.close()
    assert not errors, f"uncaught errors in the pages: {errors}"


class Agent:
    """An agent's scripted socket on one replica, recording the messages it receives."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[dict[str, Any]] = []
        self.sio.on("mensaje_recibido", self.received.append)

    async def connect(self, stack: RunningStack, token: str, replica: str | None = None) -> Agent:
        cookie = f"token={token}" + (f"; {STICKY_COOKIE}={replica}" if replica else "")
        await self.sio.connect(
            stack.url,
            transports=["websocket"],
            headers={"Origin": stack.url, "Cookie": cookie},
            wait_timeout=10,
        )
        return self

    def texts_from(self, usuario: str) -> list[str]:
        return [m["mensaje"] for m in self.received if m["de"] == usuario]

    async def send(self, para: str, mensaje: str) -> None:
        ack = await self.sio.call("mensaje_privado", {"para": para, "mensaje": mensaje}, timeout=15)
        assert ack["ok"], ack


@pytest.fixture
async def agents(stack: RunningStack) -> AsyncIterator[tuple[Account, str, list[Agent]]]:
    """One agent account with a socket on each realtime replica: (account, token, sockets)."""
    account = await create_agent(stack)
    token = await login_token(stack, account)
    sockets = [await Agent().connect(stack, token, r) for r in await replica_cookies(stack)]
    yield account, token, sockets
    for agent in sockets:
        if agent.sio.connected:
            await agent.sio.disconnect()


async def site_conversations(stack: RunningStack, token: str, site: str) -> list[dict[str, Any]]:
    """The agents' list, filtered to one site's visitors."""
    async with httpx.AsyncClient(base_url=stack.url, cookies={"token": token}) as http:
        response = await http.get("/api/usuarios-conversaciones", params={"sitio": site})
    assert response.status_code == 200, response.text
    conversations: list[dict[str, Any]] = response.json()["conversaciones"]
    return conversations


async def visitor_named_by(
    stack: RunningStack, token: str, site: str, agent: Agent, visitor: VisitorPage, text: str
) -> dict[str, Any]:
    """The list entry of `visitor`, who wrote `text`: the server acknowledged it in the
    widget, and the agent received it live."""
    await visitor.delivered(text)
    await eventually(lambda: any(m["mensaje"] == text for m in agent.received))
    usuario = next(m["de"] for m in agent.received if m["mensaje"] == text)
    entries = [c for c in await site_conversations(stack, token, site) if c["usuario"] == usuario]
    assert entries, f"{usuario} is not in the site's list"
    return entries[0]


async def test_a_visitor_talks_to_agents_on_both_replicas_and_the_thread_follows_reloads(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    agents: Any,
) -> None:
    key, _ = site
    _, token, (first, second) = agents
    url = company.page(key, title="Tienda · Inicio")
    visitor = await visit(url)
    await expect(visitor.page.get_by_role("button", name=OPEN)).to_be_visible()
    # A page view creates nothing and loads no chat: only the launcher is on the page.
    await expect(visitor.page.locator("iframe")).to_have_count(0)
    await expect(visitor.page.locator("body > :not(h1, p, a, script)")).to_have_count(1)

    await visitor.open()
    await visitor.send("Hola, ¿tenéis la cafetera en rojo?")
    await expect(visitor.message("Hola, ¿tenéis la cafetera en rojo?")).to_have_count(1)
    entry = await visitor_named_by(
        stack, token, key, first, visitor, "Hola, ¿tenéis la cafetera en rojo?"
    )
    usuario = entry["usuario"]
    await eventually(lambda: second.texts_from(usuario) == ["Hola, ¿tenéis la cafetera en rojo?"])
    assert entry["visitante"]["sitio"] == key
    assert entry["visitante"]["sitio_nombre"] == "Tienda Test"
    assert entry["visitante"]["verificado"] is False

    async def page_reported(title: str, page_url: str) -> bool:
        rows = [c for c in await site_conversations(stack, token, key) if c["usuario"] == usuario]
        page = rows[0]["visitante"]["pagina"] if rows else None
        return bool(page) and page["titulo"] == title and page["url"] == page_url

    await eventually(lambda: page_reported("Tienda · Inicio", url))

    # A reply from the socket on each replica: one of them is not the visitor's replica.
    await first.send(usuario, "Sí, la tenemos en rojo")
    await second.send(usuario, "Y te llega mañana")
    await expect(visitor.message("Y te llega mañana")).to_have_count(1)

    # Closed (Esc), a reply shows as an unread badge on the launcher.
    await visitor.chat.locator("#texto").press("Escape")
    launcher = visitor.page.get_by_role("button", name=re.compile(OPEN))
    await expect(launcher).to_be_focused()
    await first.send(usuario, "¿Algo más?")
    await expect(launcher).to_have_accessible_name(f"{OPEN} (1 sin leer)")
    await expect(launcher.locator(".badge")).to_have_text("1")

    # Another page of the site: the thread continues, the agents see where the visitor is.
    await visitor.page.click("#otra")
    await expect(visitor.page.locator("iframe")).to_have_count(1)  # a conversation: at once
    # The answer that came while the panel was closed is still unread on the new page
    # (counted from the visitor's read mark on the server, not from this page's life).
    await expect(launcher.locator(".badge")).to_have_text("1")
    await eventually(lambda: page_reported("Otra página", f"{url}-b"))
    await visitor.open()
    await visitor.in_sync()
    assert await visitor.texts() == [
        "Hola, ¿tenéis la cafetera en rojo?",
        "Sí, la tenemos en rojo",
        "Y te llega mañana",
        "¿Algo más?",
    ]
    await visitor.send("Nada más, gracias")
    await eventually(lambda: "Nada más, gracias" in first.texts_from(usuario))
    assert await site_conversations(stack, token, "otro-sitio-que-no-existe") == []


async def test_two_visitors_never_see_each_others_messages(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    agents: Any,
) -> None:
    key, _ = site
    _, token, (first, _) = agents
    ana, bruno = await visit(company.page(key)), await visit(company.page(key))
    for visitor, text in ((ana, "Soy Ana"), (bruno, "Soy Bruno")):
        await visitor.open()
        await visitor.send(text)
    ana_id = (await visitor_named_by(stack, token, key, first, ana, "Soy Ana"))["usuario"]
    bruno_id = (await visitor_named_by(stack, token, key, first, bruno, "Soy Bruno"))["usuario"]
    assert ana_id != bruno_id
    await first.send(ana_id, "Hola Ana")
    await first.send(bruno_id, "Hola Bruno")
    await expect(ana.message("Hola Ana")).to_have_count(1)
    await expect(bruno.message("Hola Bruno")).to_have_count(1)
    await ana.page.reload()
    await ana.open()
    await ana.in_sync()
    assert await ana.texts() == ["Soy Ana", "Hola Ana"]
    assert await bruno.texts() == ["Soy Bruno", "Hola Bruno"]


async def test_a_signed_identity_is_the_same_thread_on_every_device(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    agents: Any,
) -> None:
    key, secret = site
    _, token, (first, _) = agents
    identity = sign_identity(secret, "cliente-42", name="Ana Pérez", email="ana@example.com")
    laptop = await visit(company.page(key, identity=identity))
    await laptop.open()
    await laptop.send("Escrito desde el portátil")
    entry = await visitor_named_by(stack, token, key, first, laptop, "Escrito desde el portátil")
    assert entry["nombre"] == "Ana Pérez"
    assert entry["visitante"]["verificado"] is True
    assert entry["visitante"]["email"] == "ana@example.com"
    await first.send(entry["usuario"], "Hola Ana")

    phone = await visit(company.page(key, identity=identity))  # another browser, same person
    await phone.open()
    await expect(phone.message("Hola Ana")).to_have_count(1)
    assert await phone.texts() == ["Escrito desde el portátil", "Hola Ana"]


async def test_a_visitor_who_opens_the_chat_while_it_loads_types_into_the_chat(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    agents: Any,
) -> None:
    """With an identity the chat loads with the page, so a quick visitor opens it while it
    is still loading: once it shows, the focus is in its message box (open() checks that
    the page's focus is in the chat's frame and the frame's in the box), so what they
    type goes there, not into the page behind it."""
    key, secret = site
    _, token, (first, _) = agents
    visitor = await visit(company.page(key))  # no identity, nothing kept: no chat loads
    loading = asyncio.Event()

    async def slow_chat(route: Route) -> None:
        loading.set()
        await asyncio.sleep(1.5)
        await route.continue_()

    await visitor.context.route(re.compile(r"/widget/chat\?"), slow_chat)
    identity = sign_identity(secret, "cliente-44", name="Ana Pérez")
    await visitor.page.goto(company.page(key, identity=identity))
    await loading.wait()
    await visitor.open()
    await visitor.send("Escrito nada más abrir")
    await visitor_named_by(stack, token, key, first, visitor, "Escrito nada más abrir")


async def test_a_message_being_sent_when_the_page_says_who_the_visitor_is_again_is_not_lost(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    agents: Any,
) -> None:
    """The page identifies the visitor again (Soporte.identify) while the first message is
    still being sent: the widget looks the visitor up again and drops its socket, and the
    message goes out on the next one, once."""
    key, secret = site
    _, token, (first, _) = agents
    identity = sign_identity(secret, "cliente-43", name="Ana Pérez")
    laptop = await visit(company.page(key, identity=identity))
    held: list[WebSocketRoute] = []

    def hold_the_first_socket(socket: WebSocketRoute) -> None:
        if held:
            socket.connect_to_server()
        else:
            held.append(socket)  # never reaches the server: the message is never acknowledged

    await laptop.context.route_web_socket(re.compile(r"/socket\.io/"), hold_the_first_socket)
    # The chat may have opened its socket as the page loaded, before the route was there:
    # load it again, so that its first socket is the held one.
    await laptop.page.reload()
    await laptop.open()
    await laptop.send("Escrito mientras la página me identifica")
    await expect(laptop.message("Escrito mientras la página me identifica")).to_have_class(
        re.compile(r"\bpendiente\b")
    )
    await laptop.page.evaluate("identity => window.Soporte.identify(identity)", identity)
    await visitor_named_by(
        stack, token, key, first, laptop, "Escrito mientras la página me identifica"
    )
    await laptop.in_sync()
    assert await laptop.texts() == ["Escrito mientras la página me identifica"]
    assert (
        first.texts_from(first.received[-1]["de"]).count("Escrito mientras la página me identifica")
        == 1
    )


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tampered", "Identidad rechazada"),
        ("expired", "expired"),
        ("too far ahead", "more than 24 h ahead"),
        ("another site", "Identidad rechazada"),
    ],
)
async def test_an_identity_that_does_not_hold_is_refused_and_nothing_is_sent(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    case: str,
    reason: str,
) -> None:
    key, secret = site
    if case == "tampered":
        head, payload, signature = sign_identity(secret, "cliente-7").split(".")
        identity = ".".join(
            (head, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature)
        )
    elif case == "expired":
        identity = sign_identity(secret, "cliente-7", expires_in=-600)
    elif case == "too far ahead":
        identity = sign_identity(secret, "cliente-7", expires_in=3 * 24 * 3600)
    else:
        _, other_secret = await asyncio.to_thread(stack.create_site, company.origin)
        identity = sign_identity(other_secret, "cliente-7")
    visitor = await visit(company.page(key, identity=identity))
    await expect(visitor.chat.locator("#aviso")).to_contain_text(IDENTITY_REFUSED)
    await visitor.open(focus="#cerrar")
    await expect(visitor.chat.locator("#texto")).to_be_disabled()
    # The page's developers are told why, on the page's console.
    await eventually(
        lambda: any(e.startswith("Soporte: ") and reason in e for e in visitor.console_errors)
    )


async def test_an_anonymous_thread_stays_apart_from_the_identity_signed_in_after_it(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    agents: Any,
) -> None:
    key, secret = site
    _, token, (first, _) = agents
    visitor = await visit(company.page(key))
    await visitor.open()
    await visitor.send("Pregunta anónima")
    anonymous = await visitor_named_by(stack, token, key, first, visitor, "Pregunta anónima")

    identity = sign_identity(secret, "cliente-99", name="Carla")
    await visitor.page.evaluate("jwt => Soporte.identify(jwt)", identity)
    await expect(visitor.messages).to_have_count(0)  # the anonymous thread is not hers
    await visitor.send("Pregunta de Carla")
    verified = await visitor_named_by(stack, token, key, first, visitor, "Pregunta de Carla")
    assert verified["usuario"] != anonymous["usuario"]
    assert verified["visitante"]["verificado"] is True
    assert await visitor.texts() == ["Pregunta de Carla"]

    # Signing out forgets the visitor: the next person at this computer starts afresh.
    await visitor.page.evaluate("Soporte.logout()")
    await expect(visitor.messages).to_have_count(0)
    await visitor.page.reload()
    await expect(visitor.page.get_by_role("button", name=OPEN)).to_be_visible()
    await expect(visitor.page.locator("iframe")).to_have_count(0)  # no conversation here
    await visitor.open()
    await expect(visitor.chat.locator("#vacio")).to_be_visible()
    assert await visitor.texts() == []


async def test_an_unknown_site_or_an_unregistered_origin_gets_no_widget(
    stack: RunningStack, company: CompanySite, site: tuple[str, str], visit: OpenVisitor
) -> None:
    key, _ = site
    unknown = await visit(company.page("sitio-desconocido-0000"))
    await eventually(lambda: any("sitio" in e.lower() for e in unknown.console_errors))
    elsewhere = await visit(company.page(key, origin=company.other))
    await eventually(lambda: any(key in e for e in elsewhere.console_errors))
    for visitor in (unknown, elsewhere):
        await expect(visitor.page.get_by_role("button", name=OPEN)).to_have_count(0)

    # Framing the chat directly from a page the site does not list: the browser refuses.
    path = "/marco-ajeno"
    company.pages[path] = f'<iframe src="{stack.url}/widget/chat?site={key}"></iframe>'
    framed = await visit(company.other + path)
    await eventually(lambda: any("frame-ancestors" in e for e in framed.console_errors))
    await expect(framed.chat.locator("#texto")).to_have_count(0)
    async with httpx.AsyncClient(base_url=stack.url) as http:
        chat = await http.get("/widget/chat", params={"site": key})
    assert f"frame-ancestors {company.origin}" in chat.headers["content-security-policy"]
    assert "x-frame-options" not in chat.headers


async def test_the_widget_survives_its_replica_being_stopped(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    agents: Any,
) -> None:
    key, _ = site
    _, token, (first, _) = agents
    visitor = await visit(company.page(key))
    await visitor.open()
    await visitor.send("Antes del corte")
    usuario = (await visitor_named_by(stack, token, key, first, visitor, "Antes del corte"))[
        "usuario"
    ]
    await visitor.in_sync()
    replica = replica_of(stack, usuario)
    await stack.control("stop", f"realtime:{replica}")
    try:
        survivor = await Agent().connect(stack, token)
        await eventually(lambda: survivor.sio.connected)
        await survivor.send(usuario, "Uno, durante el corte")
        await survivor.send(usuario, "Dos, durante el corte")
        await expect(visitor.message("Dos, durante el corte")).to_have_count(1)
        await visitor.in_sync()
        assert await visitor.texts() == [
            "Antes del corte",
            "Uno, durante el corte",
            "Dos, durante el corte",
        ]
        assert replica_of(stack, usuario) != replica
        await survivor.sio.disconnect()
    finally:
        await ensure_running(stack, f"realtime:{replica}")
    await visitor.send("¿Seguís ahí?")
    await expect(visitor.message("¿Seguís ahí?")).to_have_count(1)
    await expect(visitor.chat.locator("#mensajes li.pendiente")).to_have_count(0)


async def test_on_a_phone_the_chat_fills_the_screen_keeps_focus_and_escape_closes_it(
    company: CompanySite, site: tuple[str, str], visit: OpenVisitor
) -> None:
    key, _ = site
    visitor = await visit(company.page(key, lang="en"), viewport={"width": 390, "height": 844})
    await visitor.page.get_by_role("button", name="Open the support chat").click()
    frame = visitor.page.locator("iframe")
    await expect(frame).to_be_visible()
    box = await frame.bounding_box()
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
    await expect(visitor.chat.locator("#vacio")).to_have_text(
        "Write your question and the support team will answer here."
    )
    # Tab goes round the panel's controls, never out of it.
    text = visitor.chat.locator("#texto")
    await expect(text).to_be_focused()
    await text.fill("<b>not bold</b>")
    for _ in range(6):
        await visitor.page.keyboard.press("Tab")
        focused = await visitor.chat.locator(":focus").count()
        assert focused == 1
    await visitor.page.keyboard.press("Escape")
    await expect(frame).to_be_hidden()
    await expect(visitor.page.get_by_role("button", name="Open the support chat")).to_be_focused()


async def test_messages_are_text_never_markup(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    agents: Any,
) -> None:
    key, _ = site
    _, token, (first, _) = agents
    visitor = await visit(company.page(key))
    await visitor.open()
    await visitor.send("Hola")
    usuario = (await visitor_named_by(stack, token, key, first, visitor, "Hola"))["usuario"]
    markup = '<img src=x onerror="document.title=1"><b>negrita</b>'
    await first.send(usuario, markup)
    await expect(visitor.message(markup)).to_have_count(1)
    await expect(visitor.chat.locator("#mensajes img, #mensajes b")).to_have_count(0)


async def test_the_agent_sees_the_visitors_site_page_and_identity_and_filters_by_site(
    stack: RunningStack,
    company: CompanySite,
    site: tuple[str, str],
    visit: OpenVisitor,
    open_session: OpenSession,
    chatters: ChatterFactory,
    agent: Account,
) -> None:
    key, secret = site
    identity = sign_identity(secret, "cliente-55", name="Elena Ruiz", email="elena@example.com")
    visitor = await visit(company.page(key, title="Tienda · Ofertas", identity=identity))
    await visitor.open()
    await visitor.send("Consulta de Elena")
    account = await register_customer(stack, "Cuenta Sin Sitio")
    await (await chatters(account)).send("admin", "Consulta desde una cuenta")

    agente = await open_session(agent)
    elena = agente.page.locator("#lista-usuarios button", has_text="Elena Ruiz")
    cuenta = agente.page.locator("#lista-usuarios button", has_text="Cuenta Sin Sitio")
    await expect(elena.locator(".sitio")).to_have_text("Tienda Test · verificado")
    await expect(cuenta).to_have_count(1)
    await expect(cuenta.locator(".sitio")).to_have_text("")

    await agente.page.select_option("#filtro-sitio", label="Tienda Test")
    await expect(cuenta).to_have_count(0)
    await expect(elena).to_have_count(1)
    await agente.page.select_option("#filtro-sitio", value="")
    await expect(cuenta).to_have_count(1)

    await elena.click()
    card = agente.page.locator("#visitante")
    await expect(card).to_contain_text("Tienda Test · identidad verificada por el sitio")
    await expect(card).to_contain_text("elena@example.com")
    await expect(card.get_by_role("link")).to_have_text("Tienda · Ofertas")
    # The visitor goes to another page of the site: the agent sees it as it happens.
    await visitor.page.click("#otra")
    await expect(card.get_by_role("link")).to_have_text("Otra página")
    await cuenta.click()
    await expect(card).to_be_hidden()
