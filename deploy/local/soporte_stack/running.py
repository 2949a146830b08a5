"""Starting and stopping a whole stack from Python (tests, benchmarks): `soporte-stack run`
in a subprocess, on a free block of ports and its own data directory."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from soporte_stack.config import run_script, venv_bin
from soporte_stack.ready import StackInfo, ready_file
from soporte_stack.supervisor import supervisorctl

STARTUP_TIMEOUT = 300  # a cold start on a busy machine: see soporte_stack.cli.SERVICE_START_SECONDS


def _ephemeral_range_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free_port_block(size: int = 60) -> int:
    """A base port whose next `size` ports are all free, below the kernel's ephemeral range
    (an outgoing connection could otherwise take one of them before a server binds it)."""
    top = _ephemeral_range_start() - size
    for _ in range(200):
        base = random.randrange(10000, top, 100)  # noqa: S311 - not a secret
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
    info: StackInfo
    process: subprocess.Popen[bytes] | None  # None: attached, someone else's to stop

    @property
    def url(self) -> str:
        """The gateway, as a browser would reach it."""
        return self.info.url

    @property
    def redis_url(self) -> str:
        return self.info.redis_url

    @property
    def database_url(self) -> str:
        return self.info.database_url

    def ctl(self, *args: str) -> str:
        """supervisorctl against this stack, e.g. ctl("stop", "services:history-api")."""
        result = subprocess.run(
            supervisorctl(self.info.supervisor_conf, *args),
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout

    async def control(self, *args: str) -> str:
        """`ctl` from async code, without blocking its event loop: a stop can take seconds,
        and the caller's Socket.IO clients must keep answering pings meanwhile."""
        return await asyncio.to_thread(self.ctl, *args)

    async def is_running(self, program: str) -> bool:
        return "RUNNING" in await self.control("status", program)

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program).strip())

    def _auth_command(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run an operator command of auth against this stack; its output."""
        full_env = os.environ | {
            "SOPORTE_DATABASE_URL": self.database_url,
            "SOPORTE_REDIS_URL": self.redis_url,
            "SOPORTE_ENV": "local",
        }
        result = run_script("soporte-auth", *args, env=full_env | (env or {}))
        if result.returncode != 0:
            raise RuntimeError(
                f"soporte-auth {' '.join(args)} failed: {result.stdout}{result.stderr}"
            )
        return result.stdout

    def create_agent(self, usuario: str, nombre: str, password: str) -> None:
        """Add an agent account the way an operator does (`soporte-auth create-admin`)."""
        self._auth_command(
            "create-admin",
            usuario,
            "--nombre",
            nombre,
            env={"SOPORTE_NEW_ADMIN_PASSWORD": password},
        )

    def create_site(self, *origins: str, nombre: str | None = None) -> tuple[str, str]:
        """Register a website widget site (`soporte-auth create-site`): (key, identity secret)."""
        args = [arg for origin in origins for arg in ("--origin", origin)]
        site = json.loads(
            self._auth_command("create-site", *args, *(["--nombre", nombre] if nombre else []))
        )
        return str(site["site"]), str(site["identity_secret"])

    def log(self, program: str) -> str:
        return (self.data_dir / "log" / f"{program}.log").read_text(errors="replace")

    @classmethod
    def attach(cls, data_dir: Path) -> RunningStack:
        """A stack already running (`make run`, its data directory), to use, not to stop."""
        return cls(data_dir, StackInfo.read(data_dir), None)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()


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
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready_file(data_dir).exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(
                "the stack did not start:\n" + (tmp / "soporte-stack.out").read_text()
            )
        time.sleep(0.2)
    return RunningStack(data_dir, StackInfo.read(data_dir), process)
