"""How far the consumer group is behind the stream, and the wait history reads need.

A history read first waits until everything accepted before it is in Postgres: every entry
up to the stream's last id at the time of the request was delivered to the group and none
of them is still pending. Then a client that fetches right after (re)connecting its
socket misses nothing that was in flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from soporte_common import keys
from soporte_history.retries import poll_until


@dataclass(frozen=True)
class StreamStatus:
    length: int
    pending: int
    last_generated: str
    last_delivered: str
    oldest_pending: str | None
    # Entries not yet delivered to the group (XINFO GROUPS `lag`); None when Redis cannot
    # tell (an entry deleted above the group's position).
    undelivered: int | None = None

    @property
    def unstored(self) -> int:
        """Entries not yet stored and acknowledged: the persistence backlog. (The stream's
        length also counts stored entries until the next trim, every 250 ms.)"""
        if self.undelivered is None:
            return self.length
        return self.pending + self.undelivered

    def keep_from(self) -> str:
        """The oldest id trimming must keep: the oldest pending entry, or else the first
        one after the last delivered (everything before it is acknowledged)."""
        if self.oldest_pending is not None:
            return self.oldest_pending
        ms, seq = entry_id_key(self.last_delivered)
        return f"{ms}-{seq + 1}"


def entry_id_key(entry_id: str) -> tuple[int, int]:
    """A stream id as a sort key: ids order by number, not as text."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def lag_seconds(status: StreamStatus, oldest_undelivered: str | None, now: float) -> float:
    """How old the oldest message that is not yet stored and acknowledged is: the oldest
    pending entry, or else the oldest entry not yet delivered to the group."""
    candidates = [i for i in (status.oldest_pending, oldest_undelivered) if i is not None]
    if not candidates:
        return 0.0
    oldest_ms = min(entry_id_key(i) for i in candidates)[0]
    return max(0.0, now - oldest_ms / 1000)


def is_settled(status: StreamStatus, target: tuple[int, int]) -> bool:
    """Every entry up to `target` was delivered to the group and none of them is pending."""
    delivered = entry_id_key(status.last_delivered) >= target
    return delivered and (
        status.oldest_pending is None or entry_id_key(status.oldest_pending) > target
    )


async def stream_status(redis: Redis, stream: str = keys.STREAM) -> StreamStatus:
    """One round trip: how far the group is behind the stream. ResponseError while the
    stream or the group does not exist yet."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.xinfo_stream(stream)
        pipe.xinfo_groups(stream)
        pipe.xpending(stream, keys.CONSUMER_GROUP)
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
        undelivered=None if group.get("lag") is None else int(group["lag"]),
    )


async def oldest_undelivered(redis: Redis, status: StreamStatus) -> str | None:
    """The id of the oldest entry not yet delivered to the group, if there is one."""
    if entry_id_key(status.last_generated) <= entry_id_key(status.last_delivered):
        return None
    after = await redis.xrange(keys.STREAM, min=f"({status.last_delivered}", count=1)
    return cast(bytes, after[0][0]).decode() if after else None


async def wait_until_settled(
    redis: Redis,
    timeout: float,  # noqa: ASYNC109
    streams: tuple[str, ...] = (keys.STREAM,),
) -> bool:
    """Wait until everything appended to `streams` before this call is in Postgres (or
    give up).

    `timeout` is a deadline, not a cancellation: giving up answers False (the caller says 503).
    """
    targets: dict[str, tuple[int, int]] = {}

    async def settled(stream: str) -> bool:
        try:
            status = await stream_status(redis, stream)
        except ResponseError:
            # No group yet: settled if nothing was ever sent, else the consumer is starting.
            return not await redis.exists(stream)
        target = targets.setdefault(stream, entry_id_key(status.last_generated))
        return is_settled(status, target)

    async def all_settled() -> bool:
        return all([await settled(stream) for stream in streams])

    return await poll_until(all_settled, timeout=timeout, first_delay=0.005, max_delay=0.1)
