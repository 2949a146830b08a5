"""Browser fixtures: the real pages of the whole stack in a real Chromium (Playwright).

Every test makes its own accounts (fresh customers through the API, fresh agents with the
operator command when a test needs an agent of its own), so tests never depend on one
another. Pages are driven and checked the way a person uses them: through what is shown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, Dialog, Page, ViewportSize, async_playwright

from soporte_stack.browser import CHROMIUM, CHROMIUM_ARGS
from soporte_stack.testing import RunningStack

from .support import (
    DESKTOP,
    Account,
    Chatter,
    ChatterFactory,
    OpenSession,
    Session,
    create_agent,
    register_customer,
)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def open_session(browser: Browser, stack: RunningStack) -> AsyncIterator[OpenSession]:
    """Signs an account in (its own browser context: own cookies, own storage) and opens
    the soporte page. Fails the test if any page threw an uncaught error or opened a
    dialog."""
    sessions: list[Session] = []

    async def open_(
        account: Account,
        *,
        viewport: ViewportSize = DESKTOP,
        wait: bool = True,
        prepare: Callable[[Page], Awaitable[None]] | None = None,
    ) -> Session:
        """`prepare(page)`: runs before the page loads (e.g. to route a request)."""
        context = await browser.new_context(
            base_url=stack.url,
            viewport=viewport,
            locale="es-ES",
            timezone_id="UTC",
            is_mobile=viewport["width"] < 700,
            has_touch=viewport["width"] < 700,
        )
        response = await context.request.post(
            "/api/auth/login", data={"usuario": account.usuario, "password": account.password}
        )
        assert response.ok, await response.text()
        page = await context.new_page()
        session = Session(context, page, account)
        page.on("pageerror", lambda error: session.page_errors.append(str(error)))

        async def on_dialog(dialog: Dialog) -> None:
            session.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        if prepare is not None:
            await prepare(page)
        sessions.append(session)
        await page.goto("/soporte")
        if wait:
            await session.in_sync()
        return session

    yield open_
    for session in sessions:
        await session.context.close()
    errors = {s.account.usuario: s.page_errors for s in sessions if s.page_errors}
    dialogs = {s.account.usuario: s.dialogs for s in sessions if s.dialogs}
    assert not errors, f"uncaught errors in the pages: {errors}"
    assert not dialogs, f"the pages opened dialogs: {dialogs}"


@pytest.fixture
async def chatters(stack: RunningStack) -> AsyncIterator[ChatterFactory]:
    made: list[Chatter] = []

    async def make(account: Account) -> Chatter:
        chatter = await Chatter(stack, account).connect()
        made.append(chatter)
        return chatter

    yield make
    for chatter in made:
        if chatter.sio.connected:
            await chatter.sio.disconnect()


@pytest.fixture
async def customer(stack: RunningStack) -> Account:
    return await register_customer(stack)


@pytest.fixture
async def agent(stack: RunningStack) -> Account:
    """An agent account of this test's own (its own read marks, its own send rate)."""
    return await create_agent(stack)
