"""Live signals in the browser: typing both ways (and a colleague typing in the same
conversation), the team's presence with the Away switch and automatic away, what a
customer sees of support (online, offline and what then happens to their message, how
fast the team usually answers), and "Seen" both ways."""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, Route, expect

from soporte_stack.testing import RunningStack, eventually

from .support import (
    ADMIN,
    Account,
    ChatterFactory,
    OpenSession,
    Session,
    create_agent,
    login_token,
    register_customer,
)

pytestmark = pytest.mark.e2e

OFFLINE = (
    "Ahora no hay nadie del equipo conectado. Deja tu mensaje y vuelve más tarde: la respuesta"
    " te esperará aquí."
)
ONLINE = "El equipo de soporte está en línea."

# What a browser does when its tab is hidden or shown again.
VISIBILITY = """hidden => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (hidden ? "hidden" : "visible") });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def typing_line(session: Session) -> Any:
    return session.page.locator("#escribiendo")


def member(session: Session, usuario: str) -> Any:
    """An agent's entry in the team roster."""
    return session.page.locator(f'#lista-equipo li[data-usuario="{usuario}"]')


async def agents_online(stack: RunningStack) -> set[str]:
    token = await login_token(stack, ADMIN)
    async with httpx.AsyncClient(base_url=stack.url, cookies={"token": token}) as http:
        response = await http.get("/api/agentes")
    assert response.status_code == 200, response.text
    return {a["usuario"] for a in response.json() if a["estado"] == "en_linea"}


async def test_typing_both_ways_and_a_colleague_typing_in_the_same_conversation(
    open_session: OpenSession,
    chatters: ChatterFactory,
    stack: RunningStack,
    customer: Account,
    agent: Account,
) -> None:
    marta = await create_agent(stack, "Marta Colega")
    cliente = await open_session(customer)
    await cliente.send("Hola, tengo una duda")
    luis = await open_session(agent)
    await luis.open_conversation(customer.usuario)
    await expect(luis.message("Hola, tengo una duda")).to_be_visible()

    # The customer types: the agent sees who, in the thread and in the list.
    await cliente.page.locator("#texto").press_sequentially("Es sobre")
    await expect(typing_line(luis)).to_have_text(f"{customer.nombre} está escribiendo…")
    await expect(luis.row(customer.usuario).locator(".vista-previa")).to_have_text("escribiendo…")
    # ...and their message ends it at once.
    await cliente.page.locator("#texto").press("Enter")
    await expect(luis.message("Es sobre")).to_be_visible()
    await expect(typing_line(luis)).to_be_hidden()
    await expect(luis.row(customer.usuario).locator(".vista-previa")).to_have_text("Es sobre")

    # The agent types: the customer sees the team, never who.
    await luis.page.locator("#texto").press_sequentially("Claro")
    await expect(typing_line(cliente)).to_have_text("El equipo de soporte está escribiendo…")

    # A colleague starts typing in the same conversation: a warning, until it runs out.
    colleague = await chatters(marta)
    assert (await colleague.call("escribiendo", {"con": customer.usuario}))["ok"]
    warning = typing_line(luis).locator(".aviso-colision")
    await expect(warning).to_have_text("Marta Colega también está escribiendo en esta conversación")
    await expect(warning).to_be_hidden()  # six seconds after its only signal
    await expect(typing_line(cliente)).to_be_hidden()


async def test_the_team_roster_and_the_away_switch(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, agent: Account
) -> None:
    marta = await create_agent(stack, "Marta Lista")
    luis = await open_session(agent)
    await expect(luis.page.locator("#mi-presencia")).to_have_text("Tu estado: En línea")
    await expect(member(luis, agent.usuario)).to_contain_text("(tú)")
    colleague = await chatters(marta)
    await expect(member(luis, marta.usuario)).to_have_text(re.compile("Marta Lista.*En línea"))
    assert (await colleague.call("presencia", {"estado": "ausente"})) == {"ok": True}
    await expect(member(luis, marta.usuario)).to_have_attribute("data-estado", "ausente")
    await expect(member(luis, marta.usuario).locator(".estado")).to_have_text("Ausente")
    await expect(luis.page.locator("#equipo-resumen")).to_contain_text("en línea")
    await colleague.sio.disconnect()
    await expect(member(luis, marta.usuario).locator(".estado")).to_have_text("Desconectado")

    away = luis.page.get_by_role("button", name="Ausente", exact=True)
    await expect(away).to_have_attribute("aria-pressed", "false")
    await away.click()
    await expect(away).to_have_attribute("aria-pressed", "true")
    await expect(luis.page.locator("#mi-presencia")).to_have_text("Tu estado: Ausente")
    assert agent.usuario not in await agents_online(stack)
    await away.click()
    await expect(luis.page.locator("#mi-presencia")).to_have_text("Tu estado: En línea")
    assert agent.usuario in await agents_online(stack)


async def test_an_agent_whose_every_tab_is_hidden_goes_away_and_comes_back(
    open_session: OpenSession, stack: RunningStack, agent: Account
) -> None:
    async def idle_after_one_second(page: Page) -> None:
        async def config(route: Route) -> None:
            await route.fulfill(
                body="export const IDLE_AWAY_SECONDS = 1;\n", content_type="text/javascript"
            )

        await page.route("**/static/js/config.js", config)

    watcher = await open_session(await create_agent(stack, "Vigía"))
    luis = await open_session(agent, prepare=idle_after_one_second)
    await expect(member(watcher, agent.usuario).locator(".estado")).to_have_text("En línea")

    await luis.page.evaluate(VISIBILITY, True)
    await expect(member(watcher, agent.usuario).locator(".estado")).to_have_text("Ausente")
    await luis.page.evaluate(VISIBILITY, False)
    await expect(member(watcher, agent.usuario).locator(".estado")).to_have_text("En línea")


async def test_the_customer_sees_whether_support_is_online_and_how_fast_it_answers(
    open_session: OpenSession, chatters: ChatterFactory, stack: RunningStack, customer: Account
) -> None:
    # A first response measured now: the team's median exists.
    asker = await register_customer(stack)
    await (await chatters(asker)).send("admin", "¿Hola?")
    helper = await chatters(await create_agent(stack))
    await helper.send(asker.usuario, "Hola, dime")
    await helper.sio.disconnect()
    await eventually(lambda: _none_online(stack), timeout=15)

    cliente = await open_session(customer)
    availability = cliente.page.locator("#disponibilidad")
    await expect(availability).to_have_text(OFFLINE)
    async with httpx.AsyncClient(
        base_url=stack.url, cookies={"token": await login_token(stack, customer)}
    ) as http:
        median = (await http.get("/api/soporte/tiempo-respuesta")).json()["mediana_segundos"]
    await expect(cliente.page.locator("#tiempo-respuesta")).to_have_text(usual_time(median))

    present = await chatters(await create_agent(stack))
    await expect(availability).to_have_text(ONLINE)
    await cliente.page.get_by_role("button", name="English").click()
    await expect(availability).to_have_text("The support team is online.")
    await cliente.page.get_by_role("button", name="Español").click()
    await present.sio.disconnect()
    await expect(availability).to_have_text(OFFLINE)
    # A message left meanwhile is kept for later, as the page says.
    await cliente.send("Os dejo el mensaje")
    await expect(cliente.message("Os dejo el mensaje")).not_to_have_class(
        re.compile("pendiente|fallido")
    )


async def test_no_measured_response_time_says_nothing(
    open_session: OpenSession, customer: Account
) -> None:
    async def unmeasured(page: Page) -> None:
        async def answer(route: Route) -> None:
            await route.fulfill(json={"mediana_segundos": None})

        await page.route("**/api/soporte/tiempo-respuesta", answer)

    cliente = await open_session(customer, prepare=unmeasured)
    await expect(cliente.page.locator("#disponibilidad")).to_be_visible()
    await expect(cliente.page.locator("#tiempo-respuesta")).to_be_hidden()
    await expect(cliente.page.locator("#tiempo-respuesta")).to_have_text("")


async def test_seen_both_ways(open_session: OpenSession, customer: Account, agent: Account) -> None:
    cliente = await open_session(customer)
    await cliente.send("¿Alguien lo ha leído?")
    await cliente.send("Es urgente")
    first, second = cliente.message("¿Alguien lo ha leído?"), cliente.message("Es urgente")
    await expect(second).to_be_visible()
    await expect(cliente.page.locator(".visto")).to_have_count(0)

    luis = await open_session(agent)
    await luis.open_conversation(customer.usuario)
    await expect(second.locator(".visto")).to_have_text("Visto")
    await expect(first.locator(".visto")).to_have_count(0)  # under the last one read only

    await luis.send("Sí, lo miro ahora")
    reply = luis.message("Sí, lo miro ahora")
    await expect(reply.locator(".visto")).to_have_text("Visto")  # the customer had it in view
    await expect(luis.message("Es urgente").locator(".visto")).to_have_count(0)

    # Both survive a reload (the read marks are stored).
    await cliente.page.reload()
    await cliente.in_sync()
    await expect(cliente.message("Es urgente").locator(".visto")).to_have_text("Visto")
    await luis.page.reload()
    await luis.in_sync()
    await luis.open_conversation(customer.usuario)
    await expect(luis.message("Sí, lo miro ahora").locator(".visto")).to_have_text("Visto")


async def _none_online(stack: RunningStack) -> bool:
    return not await agents_online(stack)


def usual_time(seconds: float) -> str:
    """What the customer's page says for the team's median first response (rounded half
    up, as the page does)."""
    if seconds < 60:
        return "Solemos responder en menos de un minuto."
    if seconds < 59.5 * 60:
        size, one, many = 60, "más o menos un minuto", "unos {n} minutos"
    elif seconds < 23.5 * 3600:
        size, one, many = 3600, "más o menos una hora", "unas {n} horas"
    else:
        size, one, many = 86400, "más o menos un día", "unos {n} días"
    n = max(1, math.floor(seconds / size + 0.5))
    return f"Solemos responder en {one if n == 1 else many.format(n=n)}."
