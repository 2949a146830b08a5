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
from collections.abc import Awaitable, Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from soporte_stack.running import RunningStack, start_stack

# What a failed test's report shows of each program's log: its warnings and errors, and
# its last lines (CI keeps no data directory; this is what there is to diagnose from).
LOG_TAIL_LINES = 30
LOG_PROBLEMS_SHOWN = 30
_PROBLEM_WORDS = ('"warning"', '"error"', '"critical"', "Traceback", "level=error", "ERROR")


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that ran against a whole stack carries the stack's logs in its report."""
    report: pytest.TestReport = yield
    if report.failed and report.when == "call":
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, RunningStack):
                report.sections.extend(_log_sections(value))
    return report


def _log_sections(running: RunningStack) -> Iterator[tuple[str, str]]:
    for path in sorted((running.data_dir / "log").glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()
        problems = [line for line in lines if any(w in line for w in _PROBLEM_WORDS)]
        shown = [*problems[-LOG_PROBLEMS_SHOWN:], "...", *lines[-LOG_TAIL_LINES:]]
        yield f"stack log {path.name}: warnings/errors, then the last lines", "\n".join(shown)


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
