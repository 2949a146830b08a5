"""Presence through the gateway, across replicas: an agent is online while any of its
sockets on either replica counts and it has not gone away (its own switch, or every tab
idle); what the other agents and a customer see of it, also when the replica holding an
agent's only socket dies without a goodbye."""

import asyncio

import pytest

from soporte_stack.testing import RunningStack, eventually

from .conftest import (
    Chat,
    Connect,
    Person,
    ensure_running,
    history,
    register_and_login,
    replica_cookies,
    second_agent,
)
from .test_faults import replica_program_for

pytestmark = pytest.mark.e2e

OK = {"ok": True}


def states(watcher: Chat, of: Person) -> list[str]:
    """The states `watcher` (an agent) was told `of` went through, in order."""
    return [p["estado"] for p in watcher.got("presencia") if p["usuario"] == of.usuario]


async def roster_state(stack: RunningStack, asking: Person, of: Person) -> str:
    response = await history(stack, asking, "/api/agentes")
    assert response.status_code == 200, response.text
    [entry] = [a for a in response.json() if a["usuario"] == of.usuario]
    estado: str = entry["estado"]
    return estado


async def away_watcher(stack: RunningStack, connect: Connect, replica: str) -> tuple[Person, Chat]:
    """An agent who watches the roster but has switched to Away, so does not count as
    support being there."""
    juan = await second_agent(stack)
    watcher = await connect(juan, replica=replica)
    assert await watcher.call("presencia", {"estado": "ausente"}) == OK
    await eventually(lambda: states(watcher, juan)[-1:] == ["ausente"])
    return juan, watcher


async def test_an_agent_counts_every_tab_on_both_replicas_and_goes_away_and_off(
    stack: RunningStack, connect: Connect
) -> None:
    one, two = await replica_cookies(stack)
    ana = await register_and_login(stack)
    customer = await connect(ana, replica=two)
    availability = customer.availability
    juan, watcher = await away_watcher(stack, connect, two)
    await eventually(lambda: availability[-1:] == [{"en_linea": False}])
    maria = await second_agent(stack)

    laptop = await connect(maria, replica=one)  # on
    await eventually(lambda: states(watcher, maria) == ["en_linea"])
    await eventually(lambda: availability[-1:] == [{"en_linea": True}])
    phone = await connect(maria, replica=two)  # a second device changes nothing
    assert await laptop.call("presencia", {"estado": "ausente"}) == OK  # her own switch
    await eventually(lambda: states(watcher, maria) == ["en_linea", "ausente"])
    await eventually(lambda: availability[-1:] == [{"en_linea": False}])
    assert await phone.call("presencia", {"estado": "en_linea"}) == OK  # from any device
    await eventually(lambda: states(watcher, maria) == ["en_linea", "ausente", "en_linea"])
    await eventually(lambda: availability[-1:] == [{"en_linea": True}])

    idle = {"inactiva": True}
    assert await laptop.call("presencia", idle) == OK  # one tab idle: still working
    assert await roster_state(stack, juan, maria) == "en_linea"
    assert await phone.call("presencia", idle) == OK  # every tab idle: away by itself
    await eventually(lambda: states(watcher, maria)[-1:] == ["ausente"])
    await eventually(lambda: availability[-1:] == [{"en_linea": False}])
    assert await laptop.call("presencia", {"inactiva": False}) == OK  # she is back
    await eventually(lambda: states(watcher, maria)[-1:] == ["en_linea"])
    await eventually(lambda: availability[-1:] == [{"en_linea": True}])
    assert await phone.call("presencia", {"inactiva": False}) == OK  # no change: online
    told = len(states(watcher, maria))

    await laptop.sio.disconnect()  # off: one device closed leaves her online...
    await asyncio.sleep(0.5)  # time for a wrong change to show up
    assert len(states(watcher, maria)) == told
    assert await roster_state(stack, juan, maria) == "en_linea"
    await phone.sio.disconnect()  # ...the last one takes her offline
    await eventually(lambda: states(watcher, maria)[-1:] == ["desconectado"])
    await eventually(lambda: availability[-1:] == [{"en_linea": False}])
    assert await roster_state(stack, juan, maria) == "desconectado"


async def test_an_agent_on_a_killed_replica_goes_offline_for_customers_within_30_s(
    stack: RunningStack, connect: Connect
) -> None:
    doomed, survivor = await replica_cookies(stack)
    victim = await replica_program_for(stack, doomed)
    ana = await register_and_login(stack)
    customer = await connect(ana, replica=survivor)
    availability = customer.availability
    juan, watcher = await away_watcher(stack, connect, survivor)
    await eventually(lambda: availability[-1:] == [{"en_linea": False}])
    maria = await second_agent(stack)
    await connect(maria, replica=doomed)
    await eventually(lambda: availability[-1:] == [{"en_linea": True}])
    try:
        await stack.control("signal", "KILL", victim)
        # The contract's bound (TTL 25 s + one 3 s sweep by default), not a speed measure.
        await eventually(lambda: availability[-1:] == [{"en_linea": False}], timeout=30)
        await eventually(lambda: states(watcher, maria)[-1:] == ["desconectado"], timeout=30)
    finally:
        await ensure_running(stack, victim)
    assert customer.sio.connected  # the customer kept its own socket on the survivor
    assert await roster_state(stack, juan, maria) == "desconectado"
