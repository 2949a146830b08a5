"""pytest fixtures that start real parts the way `make run` does (a pytest plugin).

- `infra`: real Valkey and a migrated real Postgres (`soporte-stack run --infra-only`).
- `stack`: the whole stack, gateway included (`soporte-stack run`), two realtime replicas.

Each starts on its own free port block and a temporary data directory, so tests never touch
a developer's running stack, and stops everything afterwards.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from soporte_stack.running import RunningStack, start_stack


def _scratch_dir(name: str) -> Path:
    """A data directory outside pytest's temp root: pytest resets that root to mode 0700 at
    every session start, which would lock out Postgres's unprivileged user mid-run."""
    return Path(tempfile.mkdtemp(prefix=f"soporte-{name}-"))


@pytest.fixture(scope="session")
def infra() -> Iterator[RunningStack]:
    """Real Valkey and a migrated real Postgres."""
    scratch = _scratch_dir("infra")
    running = start_stack(scratch, infra_only=True)
    yield running
    running.stop()
    shutil.rmtree(scratch, ignore_errors=True)


@contextmanager
def whole_stack(name: str, env: dict[str, str]) -> Iterator[RunningStack]:
    """The whole stack as `make run` starts it, with `env` on top, stopped afterwards."""
    scratch = _scratch_dir(name)
    running = start_stack(scratch, infra_only=False, env=env)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """The whole stack as `make run` starts it: gateway, services, two realtime replicas."""
    with whole_stack(
        "stack",
        {
            "SOPORTE_REALTIME_REPLICAS": "2",
            # Short Engine.IO pings: a vanished test client is noticed in seconds, not 45 s.
            "SOPORTE_PING_INTERVAL_SECONDS": "5",
            "SOPORTE_PING_TIMEOUT_SECONDS": "5",
            # Every test client comes from 127.0.0.1 and the suite registers hundreds of
            # accounts: one address's auth budget would not last it (tests/e2e/test_edge*.py
            # run the limits at their defaults on a stack of their own).
            "SOPORTE_AUTH_RATE_PER_MINUTE": "100000",
            # ...nor would one hash at a time for that address: a dozen parallel sign-ups
            # on a busy machine would outlast auth's 5 s answer deadline.
            "SOPORTE_HASHES_PER_ADDRESS": "2",
        },
    ) as running:
        yield running


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for polling, not for one await
) -> None:
    """Wait, with a bounded deadline, for a condition asynchronous work makes true (tests
    wait for outcomes; they never sleep a fixed time and hope)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


__all__ = ["RunningStack", "eventually", "infra", "stack", "start_stack", "whole_stack"]
