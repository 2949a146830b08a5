"""The consumer group that moves every entry of a Redis stream to Postgres: the
conversation log (`mensajes`) and the audit trail (`soporte:auditoria`), each by its own
`Sink` (which stream, how its entries parse, how a batch is stored), the same loop for both.

Guarantees (see docs/guarantees.md):
- an entry is acknowledged only after the transaction that stored it committed, so a crash
  anywhere leaves it pending, and it is read again (by this consumer on restart, or claimed
  by another after `claim_idle_ms`);
- storing is idempotent on the entry id, so reading an entry twice stores it once;
- the stream is trimmed only below the oldest entry that is pending or not yet delivered,
  so trimming never drops a message the group has not acknowledged;
- a malformed entry goes to a dead-letter stream instead of blocking the group forever.

This module is the loop: what to read when, and acknowledging. How each type of log entry
is stored is in soporte_history.projections (the log's sink), the audit trail's in
soporte_history.audit_log, the group's position in stream_status, the metrics in metrics,
the retry policies in retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, cast

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from soporte_common import keys
from soporte_common.logging import get_logger
from soporte_history.retries import postgres_retry, redis_retry
from soporte_history.stream_status import stream_status

log = get_logger(__name__)

# How often acknowledged entries are trimmed away (the stream then holds only the backlog).
TRIM_INTERVAL_SECONDS = 0.25

# (id, fields). An entry deleted from the stream while pending comes back from XREADGROUP
# with empty fields (XAUTOCLAIM drops such entries from the pending list itself).
RawEntry = tuple[bytes, dict[bytes, bytes]]
# An entry to dead-letter: its id and whatever fields it had.
Rejected = tuple[bytes, dict[bytes, bytes]]
# What XREADGROUP answers: [(stream, entries)].
ReadResponse = list[tuple[bytes, list[RawEntry]]]


class Parsed(Protocol):
    """An entry ready to store: its id and its fields as read (dead-lettered whole if
    Postgres refuses it), and what kind of entry it is (for the logs)."""

    @property
    def entry_id(self) -> bytes: ...

    @property
    def fields(self) -> dict[bytes, bytes]: ...

    @property
    def kind(self) -> str: ...


ItemT = TypeVar("ItemT", bound=Parsed)


@dataclass(frozen=True)
class Sink(Generic[ItemT]):
    """What one stream is stored as."""

    stream: str
    dead_letters: str  # where malformed entries and those Postgres refuses go
    # The entries to store, and the malformed ones (entries deleted while pending: neither).
    parse: Callable[[Sequence[RawEntry]], tuple[list[ItemT], list[Rejected]]]
    # A batch in one transaction (idempotent: an entry stored twice is stored once).
    store: Callable[[asyncpg.Pool, Sequence[ItemT]], Awaitable[None]]
    # After commit and acknowledgement: the entries stored, how many were dead-lettered.
    committed: Callable[[Sequence[ItemT], int], None]


async def ensure_group(redis: Redis, stream: str = keys.STREAM) -> None:
    try:
        await redis.xgroup_create(stream, keys.CONSUMER_GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class StreamConsumer(Generic[ItemT]):
    def __init__(
        self,
        redis: Redis,
        db: asyncpg.Pool,
        *,
        sink: Sink[ItemT],
        name: str,
        batch: int,
        claim_idle_ms: int,
        linger_ms: int = 0,
    ) -> None:
        self.redis = redis
        self.db = db
        self.sink = sink
        self.stream = sink.stream
        self.name = name
        self.batch = batch
        self.claim_idle_ms = claim_idle_ms
        self.linger_ms = linger_ms
        self._last_commit = 0.0
        # Stored and committed, not yet acknowledged: the acknowledgement rides with the
        # next read (a crash before it leaves them pending: read again, stored once).
        self._unacked: list[bytes] = []
        # Through a backlog, the batch being stored while the next one is read and parsed
        # (history-api and Postgres both busy, neither waiting for the other). One batch is
        # stored at a time, so batches still commit in the order they were read.
        self._storing: asyncio.Task[list[bytes]] | None = None
        # Set when entries were acknowledged: only then is there anything to trim (an idle
        # consumer does not poll Redis four times a second). True at start: a previous run
        # may have left acknowledged entries behind.
        self._acked_since_trim = True

    async def run(self) -> None:
        """Forever: own pending entries first, then new ones, claiming dead consumers' too."""
        log.info("consumer starting", consumer=self.name, stream=self.stream)
        await self._consume()

    async def _consume(self) -> None:
        await redis_retry(ensure_group)(self.redis, self.stream)
        await self._drain_own_pending()
        try:
            await self._consume_new()
        finally:  # stopping: a batch being stored is rolled back, its entries stay pending
            if self._storing is not None:
                self._storing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._storing

    async def _consume_new(self) -> None:
        last_claim = last_trim = 0.0
        backlog = False  # the last read filled a batch: more is waiting
        while True:
            try:
                if time.monotonic() - last_claim > self.claim_idle_ms / 2000:
                    last_claim = time.monotonic()
                    await self._claim_abandoned()
                if self._acked_since_trim and time.monotonic() - last_trim > TRIM_INTERVAL_SECONDS:
                    last_trim = time.monotonic()
                    await self.trim()
                wait = self._last_commit + self.linger_ms / 1000 - time.monotonic()
                if wait > 0 and not backlog:
                    # Under load, at most one read and one transaction per linger period,
                    # so each stores many messages; a trickle (commits further apart) is
                    # read and stored at once, and a backlog (full batches) without pause.
                    await asyncio.sleep(wait)
                # While a batch is being stored, the read does not wait for new entries.
                entries = await self._read_new(block_ms=None if self._storing else 1000)
                backlog = len(entries) >= self.batch
                parsed = self.sink.parse(entries) if entries else None
                if self._storing is not None:
                    storing, self._storing = self._storing, None
                    self._unacked += await storing
                if parsed is not None:
                    settling = self._settle_parsed(entries, *parsed)
                    if backlog:
                        self._storing = asyncio.create_task(settling)
                    else:
                        self._unacked += await settling
                    self._last_commit = time.monotonic()
            except (RedisError, OSError) as exc:
                log.warning("stream unavailable; retrying", stream=self.stream, error=str(exc))
                await asyncio.sleep(0.5)
                await redis_retry(ensure_group)(self.redis, self.stream)
            except Exception:
                # Last resort: a consumer that dies silently stops persistence for everyone.
                log.exception("unexpected consumer error; continuing")
                await asyncio.sleep(1)

    async def _read_new(self, *, block_ms: int | None) -> list[RawEntry]:
        """New entries; the last batch's acknowledgement goes first, in the same round
        trip (it is sent before the read blocks)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            if self._unacked:
                pipe.xack(self.stream, keys.CONSUMER_GROUP, *self._unacked)
            pipe.xreadgroup(
                keys.CONSUMER_GROUP, self.name, {self.stream: ">"}, count=self.batch, block=block_ms
            )
            *_, response = await pipe.execute()
        if self._unacked:
            self._unacked = []
            self._acked_since_trim = True
        return [
            entry for _, entries in cast(ReadResponse | None, response) or [] for entry in entries
        ]

    async def _drain_own_pending(self) -> None:
        while True:
            response = cast(
                ReadResponse | None,
                await redis_retry(self.redis.xreadgroup)(
                    keys.CONSUMER_GROUP,
                    self.name,
                    {self.stream: "0"},
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
                self.stream,
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
            if start in (b"0-0", "0-0"):
                return

    async def process(self, entries: list[RawEntry]) -> None:
        """Store what can be stored, dead-letter the rest, then acknowledge every entry."""
        unacked = await self._settle(entries)
        await redis_retry(self._ack)(unacked, [])
        self._acked_since_trim = True

    async def _settle(self, entries: list[RawEntry]) -> list[bytes]:
        """Store what can be stored and dead-letter the rest; returns the ids still to
        acknowledge (none once a batch had entries to dead-letter: those are acknowledged
        with their dead letters, in one transaction)."""
        return await self._settle_parsed(entries, *self.sink.parse(entries))

    async def _settle_parsed(
        self, entries: list[RawEntry], batch: list[ItemT], rejected: list[Rejected]
    ) -> list[bytes]:
        refused = await self._store(batch) if batch else []
        rejected += refused
        entry_ids = [entry_id for entry_id, _ in entries]
        if rejected:
            await redis_retry(self._ack)(entry_ids, rejected)
            self._acked_since_trim = True
        refused_ids = {entry_id for entry_id, _ in refused}
        stored = [item for item in batch if item.entry_id not in refused_ids]
        self.sink.committed(stored, len(rejected))
        if entry_ids:
            # One line per batch (never per message at INFO): a message id from realtime's
            # `message accepted` falls between first_id and last_id of the batch that stored
            # it; DEBUG adds a `message stored` line per message (docs/operations.md).
            log.info(
                "batch stored",
                consumer=self.name,
                stream=self.stream,
                count=len(stored),
                first_id=entry_ids[0].decode(),
                last_id=entry_ids[-1].decode(),
                dead_lettered=len(rejected),
            )
        return [] if rejected else entry_ids

    async def _store(self, batch: list[ItemT]) -> list[Rejected]:
        """Store the batch in one transaction; returns the entries Postgres refused."""
        try:
            await postgres_retry(self.sink.store)(self.db, batch)
            return []
        except asyncpg.PostgresError as exc:
            if len(batch) == 1:
                [item] = batch
                log.error(
                    "postgres refused an entry; dead-lettered",
                    stream=self.stream,
                    message_id=item.entry_id.decode(),
                    tipo=item.kind,
                    error=str(exc),
                )
                return [(item.entry_id, item.fields)]
            # One bad entry must not hold back the rest: store them one by one.
            refused: list[Rejected] = []
            for item in batch:
                refused += await self._store([item])
            return refused

    async def _ack(self, entry_ids: list[bytes], rejected: list[Rejected]) -> None:
        if not entry_ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for entry_id, fields in rejected:
                letter: dict[bytes, bytes] = {b"id": entry_id, **fields}
                pipe.xadd(self.sink.dead_letters, letter)  # type: ignore[arg-type]
            pipe.xack(self.stream, keys.CONSUMER_GROUP, *entry_ids)
            await pipe.execute()

    async def trim(self) -> None:
        """Drop acknowledged entries: everything older than the oldest unacked one."""
        status = await stream_status(self.redis, self.stream)
        # Exact trimming: the stream's length is then the backlog (what is not stored yet).
        await self.redis.xtrim(self.stream, minid=status.keep_from(), approximate=False)
        self._acked_since_trim = False
