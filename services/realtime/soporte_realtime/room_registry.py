"""Which replica needs which room's emits: the room registry (docs/architecture.md,
"Scaling the realtime tier").

A message's emit goes only to the replicas holding a socket in one of its rooms, each on
its own channel (keys.replica_channel), published by the accept script in the same atomic
step that appends the message (accept_script.py). So adding replicas does not add work
per message to every replica: a replica whose sockets do not want an emit never reads it.

Each replica counts its own sockets per room and writes the count, capped at 2, to the
room's hash: the script only needs to know whether a replica holds no socket, just one
(which may be the sender, who gets no echo), or more; so a room is written when its count
crosses 0, 1 or 2, not at every connect. A socket's rooms are written before its connect
completes, so everything accepted after the client is connected reaches it; what was
accepted before is in its catch-up.

Writes go through the replica's one pipelined connection (redis_pipe.py), in the order the
counts changed, and carry absolute values, so the last one wins. A replica renews its
deadline with every write and every heartbeat; one that dies stops renewing and any
replica's sweep forgets its rooms. A write or heartbeat that finds the replica forgotten
(it stalled past the deadline, or Redis lost its data) writes every room again, and the
replica tells its clients to catch up (what was accepted meanwhile did not reach it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from soporte_common import keys
from soporte_common.logging import get_logger
from soporte_realtime.periodic import PeriodicJobs
from soporte_realtime.redis_pipe import ScriptArg
from soporte_realtime.script_call import ARG, KEY, LUA_NOW_MS, BatchedScript, ScriptCall

log = get_logger(__name__)

# A replica's count in a room's hash: "1" (one socket) or this ("two or more").
MANY: Final = 2


@dataclass(frozen=True)
class CountsCall(ScriptCall):
    """Renew the replica's deadline and write its counts (room, count; 0 removes it)."""

    replicas: str = field(metadata=KEY)  # keys.REALTIME_REPLICAS
    rooms_of_replica: str = field(metadata=KEY)  # keys.replica_rooms(replica)
    replica: str = field(metadata=ARG)
    ttl_ms: int = field(metadata=ARG)
    replace: int = field(metadata=ARG)  # 1: first forget every room written before
    counts: tuple[tuple[str, int], ...] = ()

    def trailing_args(self) -> list[ScriptArg]:
        return [value for pair in self.counts for value in pair]


# What both scripts below share: Redis's clock, and forgetting every room a replica wrote.
_LIBRARY: Final = (
    LUA_NOW_MS
    + f"""
local function forget_rooms(replica, rooms_of_replica)
  for _, room in ipairs(redis.call('SMEMBERS', rooms_of_replica)) do
    redis.call('HDEL', '{keys.ROOM_REPLICAS_PREFIX}' .. room, replica)
  end
  redis.call('DEL', rooms_of_replica)
end
"""
)

# Returns 1 if the replica was not registered (it was forgotten, or this is its first write).
COUNTS_SCRIPT: Final = (
    CountsCall.bindings()
    + _LIBRARY
    + f"""
local added = redis.call('ZADD', replicas, now_ms() + ttl_ms, replica)
if replace == '1' then forget_rooms(replica, rooms_of_replica) end
for i = {CountsCall.first_trailing_arg()}, #ARGV, 2 do
  local room, count = ARGV[i], ARGV[i + 1]
  if count == '0' then
    redis.call('HDEL', '{keys.ROOM_REPLICAS_PREFIX}' .. room, replica)
    redis.call('SREM', rooms_of_replica, room)
  else
    redis.call('HSET', '{keys.ROOM_REPLICAS_PREFIX}' .. room, replica, count)
    redis.call('SADD', rooms_of_replica, room)
  end
end
return added
"""
)


@dataclass(frozen=True)
class SweepCall(ScriptCall):
    replicas: str = field(metadata=KEY)


# Forgets every replica past its deadline; returns their ids. (A replica's rooms key is
# keys.replica_rooms's name, with the Lua variable spliced in where the id goes.)
SWEEP_SCRIPT: Final = (
    SweepCall.bindings()
    + _LIBRARY
    + f"""
local dead = redis.call('ZRANGEBYSCORE', replicas, '-inf', now_ms())
for _, replica in ipairs(dead) do
  forget_rooms(replica, '{keys.replica_rooms("' .. replica .. '")}')
  redis.call('ZREM', replicas, replica)
end
return dead
"""
)


class RoomRegistry:
    def __init__(
        self,
        redis: Redis,
        *,
        replica: str,
        ttl_seconds: float,
        sweep_seconds: float,
        on_forgotten: Callable[[], Awaitable[None]],
    ) -> None:
        self.replica = replica
        self._ttl_ms = int(ttl_seconds * 1000)
        self._on_forgotten = on_forgotten
        self._counts: Counter[str] = Counter()  # this replica's sockets per room
        self._write = BatchedScript(redis, COUNTS_SCRIPT)
        self._sweep = BatchedScript(redis, SWEEP_SCRIPT)
        self._stale = False  # a write failed: the next heartbeat writes every room
        self._renew_seconds = ttl_seconds / 3  # two heartbeats may fail in a row
        self._sweep_seconds = sweep_seconds
        self._upkeep = PeriodicJobs("room registry")

    async def start(self) -> None:
        """Register (no room yet), then keep the heartbeat and the sweep going."""
        try:
            await self.write_all()
        except RedisError as exc:  # the first heartbeat registers it
            log.warning("could not register this replica yet", error=str(exc))
        self._upkeep.every(self._renew_seconds, self.renew)
        self._upkeep.every(self._sweep_seconds, self.sweep)

    async def stop(self) -> None:
        await self._upkeep.stop()

    async def joined(self, rooms: Iterable[str]) -> None:
        """A socket joined `rooms`: written before returning. RedisError if it could not
        be (the socket is then not counted)."""
        rooms = list(rooms)
        try:
            await self._change(rooms, +1)
        except Exception:
            self._count(rooms, -1)
            raise

    async def left(self, rooms: Iterable[str]) -> None:
        """A socket left `rooms`. If Redis cannot be told, the next heartbeat tells it (an
        emit meanwhile reaches this replica for nothing: it has no socket for it)."""
        try:
            await self._change(list(rooms), -1)
        except Exception as exc:
            log.warning("could not unregister a socket's rooms", error=str(exc))

    async def write_all(self) -> None:
        """Every room again, replacing what Redis holds for this replica: at start, after
        resubscribing (Redis may have restarted empty), when it was forgotten."""
        self._stale = False
        try:
            await self._call(replace=True, counts=self._counts.items())
        except Exception:
            self._stale = True
            raise

    async def renew(self) -> None:
        """The heartbeat: renew the deadline (and write every room if a write failed)."""
        if self._stale:
            await self.write_all()
        elif await self._call(replace=False, counts=()):
            await self._forgotten()

    async def sweep(self) -> None:
        """Forget the replicas that stopped renewing (any replica may run it)."""
        dead = await self._sweep(SweepCall(replicas=keys.REALTIME_REPLICAS))
        if dead:
            log.warning("forgot the rooms of dead replicas", replicas=[r.decode() for r in dead])

    async def _change(self, rooms: list[str], delta: int) -> None:
        changed = self._count(rooms, delta)
        if not changed:
            return
        try:
            forgotten = await self._call(replace=False, counts=changed)
        except Exception:
            self._stale = True  # Redis may hold more or less than this replica counts
            raise
        if forgotten:
            await self._forgotten()

    def _count(self, rooms: list[str], delta: int) -> list[tuple[str, int]]:
        """Apply `delta`; the rooms whose capped count changed, with the new one."""
        changed = []
        for room in rooms:
            before = min(self._counts[room], MANY)
            self._counts[room] += delta
            after = min(self._counts[room], MANY)
            if self._counts[room] <= 0:
                del self._counts[room]
            if after != before:
                changed.append((room, after))
        return changed

    async def _call(self, *, replace: bool, counts: Iterable[tuple[str, int]]) -> bool:
        """Whether the replica had been forgotten."""
        capped = tuple((room, min(count, MANY)) for room, count in counts)
        added = await self._write(
            CountsCall(
                replicas=keys.REALTIME_REPLICAS,
                rooms_of_replica=keys.replica_rooms(self.replica),
                replica=self.replica,
                ttl_ms=self._ttl_ms,
                replace=int(replace),
                counts=capped,
            )
        )
        return bool(added)

    async def _forgotten(self) -> None:
        log.warning("this replica's rooms were forgotten; writing them again")
        await self.write_all()
        await self._on_forgotten()
