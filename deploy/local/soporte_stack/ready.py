"""`<data>/run/ready.json`: what `soporte-stack run` writes once every process is up, and
what the tests, the bench and the scripts that started it read (where each part listens).
One model for its writer and its readers; the file's absence means "not ready"."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from soporte_stack.config import StackConfig

LOCALHOST = "http://127.0.0.1"


def ready_file(data_dir: Path) -> Path:
    return data_dir / "run" / "ready.json"


class StackInfo(BaseModel):
    url: str  # the gateway, as a browser reaches it
    demo_shop_url: str  # a company's page with the widget, on another site than `url`
    redis_url: str
    database_url: str
    supervisor_conf: Path
    auth_port: int
    history_port: int
    realtime_ports: list[int]

    @classmethod
    def of(cls, config: StackConfig) -> StackInfo:
        return cls(
            url=config.public_url,
            demo_shop_url=config.demo_shop_url,
            redis_url=config.redis_url,
            database_url=config.database_url(),
            supervisor_conf=config.supervisor_conf,
            auth_port=config.auth_port,
            history_port=config.history_port,
            realtime_ports=config.realtime_ports,
        )

    @classmethod
    def read(cls, data_dir: Path) -> StackInfo:
        return cls.model_validate_json(ready_file(data_dir).read_bytes())

    def write(self, data_dir: Path) -> None:
        """Whole or not at all: a reader waits for the file to exist, then reads it."""
        path = ready_file(data_dir)
        partial = path.with_suffix(".partial")
        partial.write_text(self.model_dump_json())
        partial.replace(path)

    @property
    def history_url(self) -> str:
        """history-api's own port (internal routes such as /stream and /metrics)."""
        return f"{LOCALHOST}:{self.history_port}"

    def realtime_url(self, replica: int) -> str:
        """Realtime replica `replica` (1, 2...) on its own port."""
        return f"{LOCALHOST}:{self.realtime_ports[replica - 1]}"

    @property
    def readiness_urls(self) -> list[str]:
        """Each backend service's /readyz: 200 once it serves (after a restart, "RUNNING" in
        supervisor comes before the port answers)."""
        ports = [self.auth_port, self.history_port, *self.realtime_ports]
        return [f"{LOCALHOST}:{port}/readyz" for port in ports]
