"""The one retry policy for background work that must outlive an outage."""

import pytest

from soporte_common.retrying import retry_forever


async def test_a_failing_step_is_tried_again_until_it_works() -> None:
    attempts: list[int] = []

    async def step() -> str:
        attempts.append(len(attempts) + 1)
        if len(attempts) < 3:
            raise ConnectionError("Redis is restarting")
        return "subscribed"

    assert await retry_forever("subscribing", step) == "subscribed"
    assert attempts == [1, 2, 3]


async def test_errors_outside_the_retried_ones_reach_the_caller() -> None:
    attempts = 0

    async def step() -> None:
        nonlocal attempts
        attempts += 1
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        await retry_forever("syncing", step, errors=(ConnectionError,))
    assert attempts == 1
