"""The systems under test: Soporte as `make run` starts it, and the Node peer as its own
script starts it (two node processes + Redis adapter + Traefik + Postgres)."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.settings import LOCAL_JWT_SECRET
from soporte_stack.config import valkey_server_bin
from soporte_stack.running import RunningStack, start_stack

PEER_SECRET = "peer-dev-secret"
PEER_PORT = 3000


@dataclass
class Soporte:
    """A fresh Soporte stack per measurement (started with `soporte-stack run`)."""

    gateway_replicas: int = 1
    replicas: int = 2  # realtime replicas
    # Settings a scenario needs besides the stack's own (SOPORTE_* variables).
    extra_env: dict[str, str] = field(default_factory=dict)
    name: str = "soporte"
    secret: str = LOCAL_JWT_SECRET
    # One copy per socket (rooms are merged) and the sender's own tabs get it too.
    dup_model: str = "union"
    sender_echo: bool = False  # the sending socket gets the acknowledgement, not an echo
    stack: RunningStack | None = None
    scratch: Path | None = None

    def start(self, *, users: int, admins: int) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="soporte-bench-"))
        self.stack = start_stack(
            self.scratch,
            infra_only=False,
            env={
                "SOPORTE_REALTIME_REPLICAS": str(self.replicas),
                "SOPORTE_GATEWAY_REPLICAS": str(self.gateway_replicas),
                # The harness's synthetic users send far faster than people: no rate limit.
                "SOPORTE_RATE_LIMIT_MESSAGES": "1000000000",
                **self.extra_env,
                # and all of them connect from one address (127.0.0.1), 21,000 at once.
                "SOPORTE_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS": "1000000",
            },
        )
        asyncio.run(self._seed_directory(users, admins))

    async def _seed_directory(self, users: int, admins: int) -> None:
        """The harness's identities (admin, admin2.., user1..userN) as known accounts.
        Sockets are authenticated from the token and this directory, not from Postgres."""
        redis = Redis.from_url(self.running.redis_url)
        names = {"admin" if i == 1 else f"admin{i}": "admin" for i in range(1, admins + 1)}
        names |= {f"user{i}": "user" for i in range(1, users + 1)}
        await redis.hset(keys.USER_DIRECTORY, mapping=names)  # type: ignore[arg-type]
        await redis.aclose()

    @property
    def running(self) -> RunningStack:
        assert self.stack is not None, "start() first"
        return self.stack

    @property
    def url(self) -> str:
        return self.running.url

    def pids(self) -> dict[str, int]:
        programs = [f"realtime:realtime-{i}" for i in range(1, self.replicas + 1)]
        programs += [
            "services:history-api",
            "services:auth",
            "services:frontend",
            "infra:redis",
        ]
        programs += [f"gateway:traefik-{i}" for i in range(1, self.gateway_replicas + 1)]
        return {p.split(":")[1]: self.running.pid(p) for p in programs}

    comm: tuple[str, ...] = ("postgres",)

    def stats_urls(self) -> list[str]:
        return [self.running.info.history_url + "/stream"]

    def stop(self) -> None:
        if self.stack:
            self.stack.stop()
            self.stack = None
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


@dataclass
class Peer:
    """The Node.js peer from ../shared/peer (copied, since that folder is read-only)."""

    source: Path
    name: str = "peer"
    secret: str = PEER_SECRET
    dup_model: str = "seed"  # two emits: an admin who is also the addressee gets two copies
    sender_echo: bool = False
    replicas: int = 2  # node processes, behind Traefik with the Redis adapter
    comm: tuple[str, ...] = ("postgres", "valkey-server")
    work: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "soporte-bench-peer")

    @property
    def url(self) -> str:
        return f"http://localhost:{PEER_PORT}"

    @property
    def script(self) -> Path:
        return self.work / "peer" / "run-peer.sh"

    def _env(self) -> dict[str, str]:
        return os.environ | {
            "PEER_RUN": str(self.work / "run"),
            "PEER_TOOLS_VENV": str(self.work / "tools"),
            "JWT_SECRET": PEER_SECRET,
            # The same engine and version as Soporte's (run-peer.sh would otherwise look for
            # a redis-server of its own).
            "REDIS_SERVER": str(valkey_server_bin()),
        }

    def prepare(self) -> None:
        copy = self.work / "peer"
        if not copy.exists():
            shutil.copytree(self.source, copy, ignore=shutil.ignore_patterns("node_modules"))
            for path in [copy, *copy.rglob("*")]:
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        if not (copy / "node-seed" / "node_modules").exists():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=copy / "node-seed",
                check=True,
            )

    def start(self, *, users: int, admins: int) -> None:
        del users, admins  # the peer trusts any well-signed token
        self.prepare()
        if not (self.work / "run" / "pgdata" / "PG_VERSION").exists():
            # The peer's processes each create the schema at start; two at once on an empty
            # database race (duplicate pg_type). One process first creates it.
            subprocess.run([str(self.script), "start"], env=self._env(), check=True)
            subprocess.run([str(self.script), "stop"], env=self._env(), check=True)
        subprocess.run(
            [str(self.script), "start", "--procs", str(self.replicas)], env=self._env(), check=True
        )
        subprocess.run(
            [str(self.script), "psql", "-qc", "TRUNCATE mensajes"], env=self._env(), check=True
        )

    def pids(self) -> dict[str, int]:
        nodes = (
            subprocess.run(
                [str(self.script), "pids"],
                env=self._env(),
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .split(",")
        )
        traefik = subprocess.run(
            [str(self.script), "traefik-pid"],
            env=self._env(),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        pids = {f"node{i}": int(p) for i, p in enumerate(nodes, start=1)}
        return pids | {"traefik": int(traefik)}

    def stats_urls(self) -> list[str]:
        return [
            f"http://127.0.0.1:{PEER_PORT + i}/__peer/stats" for i in range(1, self.replicas + 1)
        ]

    def stop(self) -> None:
        subprocess.run(
            [str(self.script), "stop"], env=self._env(), check=False, capture_output=True
        )


Target = Soporte | Peer
