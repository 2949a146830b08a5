"""pytest fixtures that start real parts the way `make run` does (a pytest plugin).

- `infra`: real Redis and a migrated real Postgres (`soporte-stack run --infra-only`).
- `stack`: the whole stack, gateway included (`soporte-stack run`), two realtime replicas.

Each starts on its own free port block and a temporary data directory, so tests never touch
a developer's running stack, and stops everything afterwards.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from soporte_stack.config import venv_bin
from soporte_stack.supervisor import supervisorctl

STARTUP_TIMEOUT = 180


def _free_port_block(size: int = 40) -> int:
    """A base port whose next `size` ports are all free."""
    for _ in range(200):
        base = random.randrange(20000, 60000, 100)  # noqa: S311 - not a secret
        if all(_port_free(base + i) for i in range(size)):
            return base
    raise RuntimeError("no free port block found")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class RunningStack:
    """A stack started by soporte-stack for a test session."""

    data_dir: Path
    info: dict[str, object]
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The gateway, as a browser would reach it."""
        return str(self.info["url"])

    @property
    def redis_url(self) -> str:
        return str(self.info["redis_url"])

    @property
    def database_url(self) -> str:
        return str(self.info["database_url"])

    def internal_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.info[key]}"

    def ctl(self, *args: str) -> str:
        """supervisorctl against this stack, e.g. ctl("stop", "services:history-api")."""
        conf = Path(str(self.info["supervisor_conf"]))
        result = subprocess.run(
            supervisorctl_for(conf, *args), capture_output=True, text=True, check=False
        )
        return result.stdout

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program).strip())

    def log(self, program: str) -> str:
        return (self.data_dir / "log" / f"{program}.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()


def supervisorctl_for(conf: Path, *args: str) -> list[str]:
    return [str(venv_bin("supervisorctl")), "-c", str(conf), *args]


def start_stack(tmp: Path, *, infra_only: bool, env: dict[str, str] | None = None) -> RunningStack:
    port = _free_port_block()
    data_dir = tmp / "data"
    full_env = (
        os.environ
        | {
            "SOPORTE_PORT": str(port),
            "SOPORTE_DATA_DIR": str(data_dir),
            "SOPORTE_PUBLIC_ORIGIN": f"http://localhost:{port}",
        }
        | (env or {})
    )
    args = [str(venv_bin("soporte-stack")), "run"] + (["--infra-only"] if infra_only else [])
    output = (tmp / "soporte-stack.out").open("wb")
    process = subprocess.Popen(args, env=full_env, stdout=output, stderr=subprocess.STDOUT)
    ready = data_dir / "run" / "ready.json"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(
                "the stack did not start:\n" + (tmp / "soporte-stack.out").read_text()
            )
        time.sleep(0.2)
    return RunningStack(data_dir, json.loads(ready.read_text()), process)


def _scratch_dir(name: str) -> Path:
    """A data directory outside pytest's temp root: pytest resets that root to mode 0700 at
    every session start, which would lock out Postgres's unprivileged user mid-run."""
    return Path(tempfile.mkdtemp(prefix=f"soporte-{name}-"))


@pytest.fixture(scope="session")
def infra() -> Iterator[RunningStack]:
    """Real Redis and a migrated real Postgres."""
    scratch = _scratch_dir("infra")
    running = start_stack(scratch, infra_only=True)
    yield running
    running.stop()
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """The whole stack as `make run` starts it: gateway, services, two realtime replicas."""
    scratch = _scratch_dir("stack")
    running = start_stack(
        scratch,
        infra_only=False,
        env={
            "SOPORTE_REALTIME_REPLICAS": "2",
            # Short Engine.IO pings: a vanished test client is noticed in seconds, not 45 s.
            "SOPORTE_PING_INTERVAL_SECONDS": "5",
            "SOPORTE_PING_TIMEOUT_SECONDS": "5",
        },
    )
    yield running
    running.stop()
    shutil.rmtree(scratch, ignore_errors=True)


__all__ = ["RunningStack", "infra", "stack", "start_stack", "supervisorctl"]
