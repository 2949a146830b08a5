"""Retention (`SOPORTE_RETENTION_DAYS`, off by default): every entry of every conversation
log older than the period is erased in the background, a small batch at a time with a pause
between batches, so live traffic never waits behind it (docs/operations.md, "Retention").

Entries are keyed by when they were accepted (the stream id), so a batch is a range scan
of the primary key. What followed from an erased entry goes with it: the list's preview of
a conversation whose last message is gone is blanked (a resolved one leaves the list: there
is nothing left to show; one that still needs an agent stays, with its state), and the
support cycles closed before the cutoff are dropped. Each run that erased anything is one
entry of the audit trail, with counts. With several history-api instances, one runs it per
period (a Redis lock).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from soporte_common import audit, keys
from soporte_common.contract import AuditAction
from soporte_common.logging import get_logger
from soporte_common.retrying import retry_forever
from soporte_history import metrics

log = get_logger(__name__)

BATCH: Final = 500
PAUSE_SECONDS: Final = 0.2
_ERRORS: Final = (RedisError, OSError, asyncpg.PostgresError)
_SEQ_FACTOR: Final = 1_000_000

_DELETE_BATCH = """
WITH gone AS (
    DELETE FROM mensajes WHERE id IN (SELECT id FROM mensajes WHERE id < $1 ORDER BY id LIMIT $2)
    RETURNING 1
)
SELECT count(*) FROM gone
"""


@dataclass(frozen=True)
class RetentionRun:
    entradas: int  # log entries erased
    conversaciones: int  # conversations left with nothing to show, gone from the list


def cutoff_key(cutoff: datetime) -> int:
    """The smallest entry key accepted at or after `cutoff` (keys are ms * 10^6 + seq)."""
    return int(cutoff.timestamp() * 1000) * _SEQ_FACTOR


async def erase_older_than(
    db: asyncpg.Pool, cutoff: datetime, *, batch: int = BATCH, pause: float = PAUSE_SECONDS
) -> RetentionRun:
    key = cutoff_key(cutoff)
    erased = 0
    while True:
        count = int(await db.fetchval(_DELETE_BATCH, key, batch))
        erased += count
        if count < batch:
            break
        await asyncio.sleep(pause)  # live traffic's turn
    async with db.acquire() as conn, conn.transaction():
        gone = await conn.fetchval(
            """WITH gone AS (DELETE FROM conversaciones WHERE ultimo_id < $1
                              AND estado = 'resuelta' RETURNING 1)
               SELECT count(*) FROM gone""",
            key,
        )
        await conn.execute(
            "UPDATE conversaciones SET ultimo_mensaje = '' "
            "WHERE ultimo_id < $1 AND ultimo_mensaje <> ''",
            key,
        )
        await conn.execute("DELETE FROM ciclos WHERE resuelto_id < $1", key)
    return RetentionRun(entradas=erased, conversaciones=int(gone))


class Retention:
    def __init__(self, db: asyncpg.Pool, redis: Redis, *, days: float, every_seconds: float):
        self.db = db
        self.redis = redis
        self.days = days
        self.every_seconds = every_seconds

    async def run_once(self, now: datetime | None = None) -> RetentionRun | None:
        """One run, unless another instance ran this period; audited if it erased anything."""
        period_ms = max(1, int(self.every_seconds * 1000))
        if not await self.redis.set(keys.RETENTION_LOCK, 1, nx=True, px=period_ms):
            return None
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.days)
        run = await erase_older_than(self.db, cutoff)
        metrics.record_retention(run.entradas)
        if run.entradas or run.conversaciones:
            await audit.record(
                self.redis,
                None,
                AuditAction.RETENTION,
                keys.STREAM,
                {
                    "dias": self.days,
                    "anteriores_a": cutoff.isoformat(timespec="milliseconds"),
                    "entradas": run.entradas,
                    "conversaciones": run.conversaciones,
                },
            )
            log.info("retention erased old entries", **vars(run), dias=self.days)
        return run

    async def keep(self) -> None:
        """Background task: a run every period, for as long as the service runs."""
        while True:
            await retry_forever(
                "erasing entries past the retention period",
                self.run_once,
                errors=_ERRORS,
            )
            await asyncio.sleep(self.every_seconds)
