"""Every metric history-api exports (docs/operations.md lists them), and the only code that
changes each: the consumer reports its batches through `record_batch`, the backlog gauges
are set by their own refresher alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from soporte_common.logging import get_logger
from soporte_history.cycles import CycleMeasure, CycleTime
from soporte_history.stream_status import lag_seconds, oldest_undelivered, stream_status

log = get_logger(__name__)

_PERSISTED = Counter("soporte_messages_persisted_total", "Messages stored in Postgres.")
_DEAD_LETTERED = Counter(
    "soporte_messages_dead_lettered_total", "Stream entries that could not be stored."
)
_PERSIST_LATENCY = Histogram(
    "soporte_persist_latency_seconds",
    "From acceptance by realtime to commit in Postgres.",
    buckets=(
        0.002,
        0.005,
        0.01,
        0.015,
        0.02,
        0.03,
        0.05,
        0.075,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
        60,
        300,
    ),
)
_BATCH_SIZE = Histogram(
    "soporte_consumer_batch_size",
    "Entries stored per transaction.",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
_STREAM_LENGTH = Gauge("soporte_stream_length", "Entries in the stream (unacknowledged backlog).")
_STREAM_PENDING = Gauge("soporte_stream_pending", "Entries delivered to a consumer, not yet acked.")
_CONSUMER_LAG = Gauge(
    "soporte_consumer_lag_seconds",
    "Age of the oldest accepted message not yet stored and acknowledged (0 when caught up).",
)
# Support cycles (soporte_history.cycles), observed when the consumer stores the entry
# that completes each: from minutes to days.
_CYCLE_BUCKETS = (10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800)
_CYCLE_TIMES = {
    CycleMeasure.FIRST_RESPONSE: Histogram(
        "soporte_first_response_seconds",
        "From a conversation (re)opening to an agent's first message in it.",
        buckets=_CYCLE_BUCKETS,
    ),
    CycleMeasure.RESOLUTION: Histogram(
        "soporte_resolution_seconds",
        "From a conversation (re)opening to its resolution.",
        buckets=_CYCLE_BUCKETS,
    ),
}
_AUDITED = Counter("soporte_audit_entries_total", "Entries of the audit stream stored.")
_AUDIT_DEAD_LETTERED = Counter(
    "soporte_audit_dead_lettered_total", "Entries of the audit stream that could not be stored."
)
_ERASURES = Counter("soporte_erasures_total", "Customers erased (DELETE /api/usuarios/<usuario>).")
_RETENTION_ERASED = Counter(
    "soporte_retention_erased_total", "Log entries erased for being older than the retention."
)
# How often the backlog gauges are refreshed, independently of the consumer loop (which can
# be stuck retrying a batch while Postgres is down: exactly when the backlog matters).
GAUGE_REFRESH_SECONDS = 2.0


def record_batch(accepted_at: Sequence[datetime], *, dead_lettered: int) -> None:
    """A batch was committed and acknowledged: the entries stored (when realtime accepted
    each) and how many went to the dead-letter stream instead."""
    now = time.time()
    for fecha in accepted_at:
        _PERSIST_LATENCY.observe(max(0.0, now - fecha.timestamp()))
    _PERSISTED.inc(len(accepted_at))
    _BATCH_SIZE.observe(len(accepted_at))
    _DEAD_LETTERED.inc(dead_lettered)


def record_audit(stored: int, *, dead_lettered: int) -> None:
    """A batch of the audit stream was committed and acknowledged."""
    _AUDITED.inc(stored)
    _AUDIT_DEAD_LETTERED.inc(dead_lettered)


def record_erasure() -> None:
    _ERASURES.inc()


def record_retention(erased: int) -> None:
    _RETENTION_ERASED.inc(erased)


def record_cycle_times(times: Sequence[CycleTime]) -> None:
    """Cycle times a committed batch completed (each cycle's once: soporte_history.cycles)."""
    for time_ in times:
        _CYCLE_TIMES[time_.measure].observe(max(0.0, time_.seconds))


async def refresh_backlog_gauges(redis: Redis) -> None:
    """Stream length, pending entries and consumer lag, from two cheap round trips."""
    try:
        status = await stream_status(redis)
    except ResponseError:  # no stream or group yet: nothing was ever sent
        return
    undelivered = await oldest_undelivered(redis, status)
    _STREAM_LENGTH.set(status.length)
    _STREAM_PENDING.set(status.pending)
    _CONSUMER_LAG.set(lag_seconds(status, undelivered, time.time()))


async def refresh_backlog_gauges_forever(redis: Redis) -> None:
    while True:
        try:
            await refresh_backlog_gauges(redis)
        except (RedisError, OSError):
            pass  # Redis away: the gauges keep their last values; readiness says why
        except Exception:
            log.exception("could not refresh the stream gauges")
        await asyncio.sleep(GAUGE_REFRESH_SECONDS)
