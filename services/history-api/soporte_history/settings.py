from __future__ import annotations

import socket

from soporte_common.settings import DatabaseSettings


class HistorySettings(DatabaseSettings):
    # The consumer's name in the group; stable across restarts so it re-reads its own
    # pending entries first. Defaults to <host>-<port>.
    consumer_name: str | None = None
    consumer_batch: int = 1000
    # At most one transaction per this many ms while messages keep coming: fewer, larger
    # transactions under load, for at most this much added persistence latency.
    consumer_linger_ms: int = 10
    # Entries pending this long on another (dead) consumer are claimed.
    claim_idle_ms: int = 10_000
    # How long a history read waits for the consumer to store what was already accepted.
    settle_timeout_seconds: float = 5.0
    # Erase every entry of every conversation log older than this many days, in the
    # background (docs/operations.md, "Retention"). 0: keep everything (the default).
    retention_days: float = 0

    @property
    def retention_sweep_seconds(self) -> float:
        """How often retention runs: hourly, or ten times per period when that is shorter."""
        return min(3600.0, self.retention_days * 86400 / 10)

    def consumer(self, port: int) -> str:
        return self.consumer_name or f"{socket.gethostname()}-{port}"
