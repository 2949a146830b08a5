"""The consumer group that moves every accepted message from the Redis stream to Postgres.

Guarantees (see docs/guarantees.md):
- an entry is acknowledged only after the transaction that stored it committed, so a crash
  anywhere leaves it pending, and it is read again (by this consumer on restart, or claimed
  by another after `claim_idle_ms`);
- storing is idempotent on the message id, so reading an entry twice stores it once;
- the stream is trimmed only below the oldest entry that is pending or not yet delivered,
  so trimming never drops a message the group has not acknowledged;
- a malformed entry goes to a dead-letter stream instead of blocking the group forever.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import asyncpg
from prometheus_client import Counter, Gauge, Histogram
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from tenacity import RetryCallState, retry, retry_if_exception_type, wait_exponential

from soporte_common import keys
from soporte_common.logging import get_logger
from soporte_common.messages import StreamEntry, db_id_to_stream, stream_id_to_db

log = get_logger(__name__)

PERSISTED = Counter("soporte_messages_persisted_total", "Messages stored in Postgres.")
DEAD_LETTERED = Counter(
    "soporte_messages_dead_lettered_total", "Stream entries that could not be stored."
)
PERSIST_LATENCY = Histogram(
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
BATCH_SIZE = Histogram(
    "soporte_consumer_batch_size",
    "Entries stored per transaction.",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
STREAM_LENGTH = Gauge("soporte_stream_length", "Entries in the stream (unacknowledged backlog).")
STREAM_PENDING = Gauge("soporte_stream_pending", "Entries delivered to a consumer, not yet acked.")
CONSUMER_LAG = Gauge(
    "soporte_consumer_lag_seconds",
    "Age of the oldest accepted message not yet stored and acknowledged (0 when caught up).",
)
# How often the backlog gauges are refreshed, independently of the consumer loop (which can
# be stuck retrying a batch while Postgres is down: exactly when the backlog matters).
GAUGE_REFRESH_SECONDS = 2.0
# How often acknowledged entries are trimmed away (the stream then holds only the backlog).
TRIM_INTERVAL_SECONDS = 0.25

INSERT_BATCH = """
WITH batch AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::timestamptz[], $7::text[])
        AS b(id, conversacion, de_usuario, para_usuario, mensaje, fecha, nombre)
), inserted AS (
    INSERT INTO mensajes (id, conversacion, de_usuario, para_usuario, mensaje, fecha)
    SELECT id, conversacion, de_usuario, para_usuario, mensaje, fecha FROM batch
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), latest AS (
    SELECT DISTINCT ON (conversacion) * FROM batch ORDER BY conversacion, id DESC
), named AS (
    -- The customer's display name: from their newest message in the batch (an agent's
    -- entry carries the agent's name), even when an agent wrote last.
    SELECT DISTINCT ON (conversacion) conversacion, nombre FROM batch
     WHERE de_usuario = conversacion ORDER BY conversacion, id DESC
)
INSERT INTO conversaciones AS c (usuario, nombre, ultimo_id, ultimo_de, ultimo_mensaje,
                                 ultima_fecha)
SELECT l.conversacion, n.nombre, l.id, l.de_usuario, l.mensaje, l.fecha
FROM latest l LEFT JOIN named n USING (conversacion)
ON CONFLICT (usuario) DO UPDATE SET
    -- A newer batch moves the summary on; an older one (stored late) only fills in a
    -- name that is still unknown.
    nombre = CASE WHEN EXCLUDED.ultimo_id > c.ultimo_id
                  THEN COALESCE(EXCLUDED.nombre, c.nombre)
                  ELSE COALESCE(c.nombre, EXCLUDED.nombre) END,
    ultimo_id = GREATEST(EXCLUDED.ultimo_id, c.ultimo_id),
    ultimo_de = CASE WHEN EXCLUDED.ultimo_id > c.ultimo_id
                     THEN EXCLUDED.ultimo_de ELSE c.ultimo_de END,
    ultimo_mensaje = CASE WHEN EXCLUDED.ultimo_id > c.ultimo_id
                          THEN EXCLUDED.ultimo_mensaje ELSE c.ultimo_mensaje END,
    ultima_fecha = CASE WHEN EXCLUDED.ultimo_id > c.ultimo_id
                        THEN EXCLUDED.ultima_fecha ELSE c.ultima_fecha END
WHERE EXCLUDED.ultimo_id > c.ultimo_id OR (c.nombre IS NULL AND EXCLUDED.nombre IS NOT NULL)
"""

# (id, fields). Redis < 7 gives (None, None) for an entry deleted from the stream that
# XAUTOCLAIM hands over, and empty fields when XREADGROUP re-reads it from the pending list.
RawEntry = tuple[bytes | None, dict[bytes, bytes] | None]
# An entry to dead-letter: its id and whatever fields it had.
Rejected = tuple[bytes, dict[bytes, bytes]]
# What XREADGROUP answers: [(stream, entries)].
ReadResponse = list[tuple[bytes, list[RawEntry]]]


@dataclass(frozen=True)
class StoredRow:
    id: int
    entry: StreamEntry
    fecha: datetime


@dataclass(frozen=True)
class StreamStatus:
    length: int
    pending: int
    last_generated: str
    last_delivered: str
    oldest_pending: str | None


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def lag_seconds(status: StreamStatus, oldest_undelivered: str | None, now: float) -> float:
    """How old the oldest message that is not yet stored and acknowledged is: the oldest
    pending entry, or else the oldest entry not yet delivered to the group."""
    candidates = [i for i in (status.oldest_pending, oldest_undelivered) if i is not None]
    if not candidates:
        return 0.0
    oldest_ms = min(_id_key(i) for i in candidates)[0]
    return max(0.0, now - oldest_ms / 1000)


def is_settled(status: StreamStatus, target: tuple[int, int]) -> bool:
    """Every entry up to `target` was delivered to the group and none of them is pending."""
    delivered = _id_key(status.last_delivered) >= target
    return delivered and (status.oldest_pending is None or _id_key(status.oldest_pending) > target)


def parse_entries(entries: list[RawEntry]) -> tuple[list[StoredRow], list[Rejected]]:
    """The rows to store, and the malformed entries to dead-letter. Entries deleted from
    the stream while pending (no fields left) are neither: there is nothing to keep."""
    rows: list[StoredRow] = []
    rejected: list[Rejected] = []
    for entry_id, fields in entries:
        if entry_id is None or not fields:  # trimmed away while pending: nothing to store
            continue
        try:
            entry = StreamEntry.from_redis(fields)
            rows.append(
                StoredRow(
                    stream_id_to_db(entry_id.decode()), entry, datetime.fromisoformat(entry.fecha)
                )
            )
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:
            log.error(
                "malformed stream entry; dead-lettered",
                message_id=entry_id.decode(errors="replace"),
                error=str(exc),
            )
            rejected.append((entry_id, fields))
    return rows, rejected


async def ensure_group(redis: Redis) -> None:
    try:
        await redis.xgroup_create(keys.STREAM, keys.CONSUMER_GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def stream_status(redis: Redis) -> StreamStatus:
    """One round trip: how far the group is behind the stream."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xinfo_stream(keys.STREAM)
        pipe.xinfo_groups(keys.STREAM)
        pipe.xpending(keys.STREAM, keys.CONSUMER_GROUP)
        info, groups, pending = await pipe.execute()
    group = next((g for g in groups if g["name"].decode() == keys.CONSUMER_GROUP), None)
    if group is None:
        raise ResponseError("the consumer group does not exist yet")
    return StreamStatus(
        length=int(info["length"]),
        pending=int(pending["pending"]),
        last_generated=info["last-generated-id"].decode(),
        last_delivered=group["last-delivered-id"].decode(),
        oldest_pending=pending["min"].decode() if pending["pending"] else None,
    )


async def wait_until_settled(redis: Redis, timeout: float) -> bool:  # noqa: ASYNC109
    """Wait until everything accepted before this call is in Postgres (or give up).

    `timeout` is a deadline, not a cancellation: giving up answers False (the caller says 503).
    """
    deadline = time.monotonic() + timeout
    target: tuple[int, int] | None = None
    delay = 0.005
    while True:
        try:
            status = await stream_status(redis)
        except ResponseError:
            if not await redis.exists(keys.STREAM):
                return True  # nothing was ever sent
            status = None
        if status is not None:
            target = target or _id_key(status.last_generated)
            if is_settled(status, target):
                return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "retrying after an error",
        call=getattr(state.fn, "__name__", "?"),
        attempt=state.attempt_number,
        error=str(error),
    )


# Redis briefly gone (restart, failover): wait and try again, for as long as it takes.
redis_retry = retry(
    retry=retry_if_exception_type((RedisError, OSError)),
    wait=wait_exponential(multiplier=0.05, max=2),
    before_sleep=_log_retry,
)
# Postgres down or restarting: keep the batch (nothing is acked), try again.
postgres_retry = retry(
    retry=retry_if_exception_type(
        (
            asyncpg.PostgresConnectionError,
            asyncpg.OperatorInterventionError,
            asyncpg.InterfaceError,
            OSError,
            TimeoutError,
        )
    ),
    wait=wait_exponential(multiplier=0.1, max=2),
    before_sleep=_log_retry,
)


class StreamConsumer:
    def __init__(
        self,
        redis: Redis,
        db: asyncpg.Pool,
        *,
        name: str,
        batch: int,
        claim_idle_ms: int,
        linger_ms: int = 0,
    ) -> None:
        self.redis = redis
        self.db = db
        self.name = name
        self.batch = batch
        self.claim_idle_ms = claim_idle_ms
        self.linger_ms = linger_ms
        self._last_commit = 0.0
        # Set when entries were acknowledged: only then is there anything to trim (an idle
        # consumer does not poll Redis four times a second). True at start: a previous run
        # may have left acknowledged entries behind.
        self._acked_since_trim = True

    async def run(self) -> None:
        """Forever: own pending entries first, then new ones, claiming dead consumers' too."""
        log.info("consumer starting", consumer=self.name)
        gauges = asyncio.create_task(self._refresh_gauges_forever(), name="stream-gauges")
        try:
            await self._consume()
        finally:
            gauges.cancel()

    async def _refresh_gauges_forever(self) -> None:
        while True:
            try:
                await self.refresh_gauges()
            except (RedisError, OSError):
                pass  # Redis away: the gauges keep their last values; readiness says why
            except Exception:
                log.exception("could not refresh the stream gauges")
            await asyncio.sleep(GAUGE_REFRESH_SECONDS)

    async def refresh_gauges(self) -> None:
        """Stream length, pending entries and consumer lag, from two cheap round trips."""
        try:
            status = await stream_status(self.redis)
        except ResponseError:  # no stream or group yet: nothing was ever sent
            return
        oldest_undelivered = None
        if _id_key(status.last_generated) > _id_key(status.last_delivered):
            after = await self.redis.xrange(keys.STREAM, min=f"({status.last_delivered}", count=1)
            if after:
                oldest_undelivered = cast(bytes, after[0][0]).decode()
        STREAM_LENGTH.set(status.length)
        STREAM_PENDING.set(status.pending)
        CONSUMER_LAG.set(lag_seconds(status, oldest_undelivered, time.time()))

    async def _consume(self) -> None:
        await redis_retry(ensure_group)(self.redis)
        await self._drain_own_pending()
        last_claim = last_trim = 0.0
        while True:
            try:
                if time.monotonic() - last_claim > self.claim_idle_ms / 2000:
                    last_claim = time.monotonic()
                    await self._claim_abandoned()
                if self._acked_since_trim and time.monotonic() - last_trim > TRIM_INTERVAL_SECONDS:
                    last_trim = time.monotonic()
                    await self.trim()
                entries = await self._read_new(block_ms=1000)
                wait = self._last_commit + self.linger_ms / 1000 - time.monotonic()
                if entries and len(entries) < self.batch and wait > 0:
                    # Under load, at most one transaction per linger period, so each stores
                    # many messages; a trickle (commits further apart) is stored at once.
                    await asyncio.sleep(wait)
                    entries += await self._read_new(block_ms=None, count=self.batch - len(entries))
                if entries:
                    await self.process(entries)
                    self._last_commit = time.monotonic()
            except (RedisError, OSError) as exc:
                log.warning("stream unavailable; retrying", error=str(exc))
                await asyncio.sleep(0.5)
                await redis_retry(ensure_group)(self.redis)
            except Exception:
                # Last resort: a consumer that dies silently stops persistence for everyone.
                log.exception("unexpected consumer error; continuing")
                await asyncio.sleep(1)

    async def _read_new(self, *, block_ms: int | None, count: int | None = None) -> list[RawEntry]:
        response = cast(
            ReadResponse | None,
            await self.redis.xreadgroup(
                keys.CONSUMER_GROUP,
                self.name,
                {keys.STREAM: ">"},
                count=count or self.batch,
                block=block_ms,
            ),
        )
        return [entry for _, entries in response or [] for entry in entries]

    async def _drain_own_pending(self) -> None:
        while True:
            response = cast(
                ReadResponse | None,
                await redis_retry(self.redis.xreadgroup)(
                    keys.CONSUMER_GROUP,
                    self.name,
                    {keys.STREAM: "0"},
                    count=self.batch,
                ),
            )
            entries = response[0][1] if response else []
            if not entries:
                return
            log.info("re-reading own pending entries", count=len(entries))
            await self.process(entries)

    async def _claim_abandoned(self) -> None:
        start: bytes | str = "0-0"
        while True:
            result = await self.redis.xautoclaim(
                keys.STREAM,
                keys.CONSUMER_GROUP,
                self.name,
                self.claim_idle_ms,
                start_id=start,
                count=self.batch,
            )
            start = cast(bytes, result[0])
            entries = cast(list[RawEntry], result[1])
            if entries:
                log.info("claimed abandoned entries", count=len(entries))
                await self.process(entries)
                if any(entry_id is None for entry_id, _ in entries):
                    # Redis < 7 hands over entries deleted from the stream without their
                    # ids; they are now pending on us, and reading our own pending
                    # entries gives the ids, so they can be acknowledged.
                    await self._drain_own_pending()
            if start in (b"0-0", "0-0"):
                return

    async def process(self, entries: list[RawEntry]) -> None:
        rows, rejected = parse_entries(entries)
        if rows:
            rejected += await self._store(rows)
        entry_ids = [entry_id for entry_id, _ in entries if entry_id is not None]
        await redis_retry(self._ack)(entry_ids, rejected)
        self._acked_since_trim = True
        now = time.time()
        for row in rows:
            PERSIST_LATENCY.observe(max(0.0, now - row.fecha.timestamp()))
        PERSISTED.inc(len(rows))
        BATCH_SIZE.observe(len(rows))
        if entry_ids:
            # One line per batch (never per message at INFO): a message id from realtime's
            # `message accepted` falls between first_id and last_id of the batch that stored
            # it; DEBUG adds a `message stored` line per message (docs/operations.md).
            log.info(
                "batch stored",
                consumer=self.name,
                count=len(rows),
                first_id=entry_ids[0].decode(),
                last_id=entry_ids[-1].decode(),
                acked=len(entry_ids),
                dead_lettered=len(rejected),
            )

    async def _store(self, rows: list[StoredRow]) -> list[Rejected]:
        """Store the batch in one statement; returns the entries Postgres refused."""
        try:
            await postgres_retry(self._insert)(rows)
            return []
        except asyncpg.PostgresError as exc:
            if len(rows) == 1:
                row = rows[0]
                log.error(
                    "postgres refused a message; dead-lettered",
                    message_id=db_id_to_stream(row.id),
                    error=str(exc),
                )
                return [
                    (
                        db_id_to_stream(row.id).encode(),
                        {k.encode(): v.encode() for k, v in row.entry.model_dump().items()},
                    )
                ]
            # One bad row must not hold back the rest: store them one by one.
            refused: list[Rejected] = []
            for row in rows:
                refused += await self._store([row])
            return refused

    async def _insert(self, rows: list[StoredRow]) -> None:
        await self.db.execute(
            INSERT_BATCH,
            [r.id for r in rows],
            [r.entry.conversacion for r in rows],
            [r.entry.de for r in rows],
            [r.entry.para for r in rows],
            [r.entry.mensaje for r in rows],
            [r.fecha for r in rows],
            [r.entry.nombre for r in rows],
        )
        for row in rows:
            log.debug("message stored", message_id=db_id_to_stream(row.id))

    async def _ack(self, entry_ids: list[bytes], rejected: list[Rejected]) -> None:
        if not entry_ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for entry_id, fields in rejected:
                letter: dict[bytes, bytes] = {b"id": entry_id, **fields}
                pipe.xadd(keys.DEAD_LETTER_STREAM, letter)  # type: ignore[arg-type]
            pipe.xack(keys.STREAM, keys.CONSUMER_GROUP, *entry_ids)
            await pipe.execute()
        DEAD_LETTERED.inc(len(rejected))

    async def trim(self) -> None:
        """Drop acknowledged entries: everything older than the oldest unacked one."""
        status = await stream_status(self.redis)
        # Keep the oldest pending entry, or else everything after the last delivered one.
        ms, seq = _id_key(status.last_delivered)
        keep_from = status.oldest_pending or f"{ms}-{seq + 1}"
        # Exact trimming: the stream's length is then the backlog (what is not stored yet).
        await self.redis.xtrim(keys.STREAM, minid=keep_from, approximate=False)
        self._acked_since_trim = False
