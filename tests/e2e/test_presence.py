"""Presence through the gateway, across replicas: what a customer sees of support when
the replica holding an agent's only socket dies without a goodbye."""

import pytest

from soporte_stack.testing import RunningStack, eventually

from .conftest import (
    Connect,
    register_and_login,
    replica_cookies,
    second_agent,
)
from .test_faults import ensure_running, replica_program_for

pytestmark = pytest.mark.e2e


async def test_an_agent_on_a_killed_replica_goes_offline_for_customers_within_30_s(
    stack: RunningStack, connect: Connect
) -> None:
    doomed, survivor = await replica_cookies(stack)
    victim = await replica_program_for(stack, doomed)
    ana = await register_and_login(stack)
    customer = await connect(ana, replica=survivor)
    availability = customer.availability
    await eventually(lambda: availability[-1:] == [{"en_linea": False}])
    maria = await second_agent(stack)
    await connect(maria, replica=doomed)
    await eventually(lambda: availability[-1:] == [{"en_linea": True}])
    try:
        stack.ctl("signal", "KILL", victim)
        # The contract's bound (TTL 25 s + one 3 s sweep by default), not a speed measure.
        await eventually(lambda: availability[-1:] == [{"en_linea": False}], timeout=30)
    finally:
        await ensure_running(stack, victim)
    assert customer.sio.connected  # the customer kept its own socket on the survivor
