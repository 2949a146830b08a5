"""Who is connected, across every replica: the per-user socket cap and agent presence.

Every open socket is a member of its user's sorted set in Redis, scored by the time it
stops counting unless its replica renews it (the heartbeat). A replica that dies without a
goodbye stops renewing, so its sockets stop counting within `ttl` and the next sweep (any
replica runs one every few seconds) notices. Every change goes through one Lua script
that recomputes the user's state and compares it with the last one published, so exactly
one caller learns of each change and announces it, however many replicas race.

An agent is `en_linea` while any of its sockets is connected and not idle (every tab
hidden for a while) and the agent has not set itself `ausente`; `ausente` while connected
otherwise; `desconectado` when no socket counts. Support is available while at least one
agent is `en_linea`. Redis's clock is the only clock, so replicas' clocks may disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import PresenceState
from soporte_common.tokens import Claims, Rol
from soporte_realtime.script_call import LUA_NOW_MS

# Functions every script below shares. `now` is Redis's clock in ms. Per-user keys are
# built inside the scripts from the prefixes in soporte_common.keys (one Redis, no cluster).
_LUA_COMMON = (
    LUA_NOW_MS
    + """
local function prune(usuario, now)
  local conn = '@SOCKETS@' .. usuario
  local expired = redis.call('ZRANGEBYSCORE', conn, '-inf', now)
  for i = 1, #expired, 500 do
    redis.call('SREM', '@IDLE@' .. usuario, unpack(expired, i, math.min(i + 499, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', conn, '-inf', now)
end
local function state_of(usuario)
  local live = redis.call('ZCARD', '@SOCKETS@' .. usuario)
  if live == 0 then return 'desconectado' end
  if redis.call('SISMEMBER', KEYS[2], usuario) == 1 then return 'ausente' end
  if redis.call('SCARD', '@IDLE@' .. usuario) >= live then return 'ausente' end
  return 'en_linea'
end
-- Publishes nothing itself: returns what changed, for the caller to announce.
local changes = {}
local function settle(usuario)
  local estado = state_of(usuario)
  if redis.call('HGET', KEYS[1], usuario) ~= estado then
    redis.call('HSET', KEYS[1], usuario, estado)
    table.insert(changes, usuario)
    table.insert(changes, redis.call('HGET', KEYS[4], usuario) or usuario)
    table.insert(changes, estado)
  end
end
local function availability()
  local any = '0'
  for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
    if v == 'en_linea' then any = '1' break end
  end
  if redis.call('GET', KEYS[3]) == any then return '' end
  redis.call('SET', KEYS[3], any)
  return any
end
local function touch(usuario, ttl)
  redis.call('PEXPIRE', '@SOCKETS@' .. usuario, ttl * 2)
  redis.call('PEXPIRE', '@IDLE@' .. usuario, ttl * 2)
end
"""
)


def _script(body: str) -> str:
    return (
        (_LUA_COMMON + body)
        .replace("@SOCKETS@", keys.USER_SOCKETS_PREFIX)
        .replace("@IDLE@", keys.IDLE_SOCKETS_PREFIX)
    )


# KEYS: 1 presence hash, 2 away agents, 3 availability flag, 4 known agents
# ARGV: 1 usuario, 2 sid, 3 is agent (1/0), 4 ttl ms, 5 cap (0: none), 6 display name
_JOIN = _script(
    """
local usuario, sid, agent = ARGV[1], ARGV[2], ARGV[3] == '1'
local ttl, cap = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()
prune(usuario, now)
local conn = '@SOCKETS@' .. usuario
if cap > 0 and redis.call('ZSCORE', conn, sid) == false and redis.call('ZCARD', conn) >= cap then
  return {'lleno'}
end
redis.call('ZADD', conn, now + ttl, sid)
touch(usuario, ttl)
if agent then
  redis.call('HSET', KEYS[4], usuario, ARGV[6])
  settle(usuario)
end
return {'ok', agent and availability() or '', unpack(changes)}
"""
)

# KEYS: as _JOIN. ARGV: 1 usuario, 2 sid, 3 is agent (1/0)
_LEAVE = _script(
    """
local usuario, sid = ARGV[1], ARGV[2]
redis.call('ZREM', '@SOCKETS@' .. usuario, sid)
redis.call('SREM', '@IDLE@' .. usuario, sid)
if ARGV[3] ~= '1' then return {'ok', ''} end
settle(usuario)
return {'ok', availability(), unpack(changes)}
"""
)

# KEYS: as _JOIN. ARGV: 1 usuario, 2 sid ('' for the whole agent), 3 away (1/0)
# A sid: that tab is idle (hidden) or back. No sid: the agent's own Away switch.
_SET_AWAY = _script(
    """
local usuario, sid, away = ARGV[1], ARGV[2], ARGV[3] == '1'
if sid == '' then
  if away then redis.call('SADD', KEYS[2], usuario) else redis.call('SREM', KEYS[2], usuario) end
elseif redis.call('ZSCORE', '@SOCKETS@' .. usuario, sid) then
  if away then
    redis.call('SADD', '@IDLE@' .. usuario, sid)
  else
    redis.call('SREM', '@IDLE@' .. usuario, sid)
  end
end
settle(usuario)
return {'ok', availability(), unpack(changes)}
"""
)

# KEYS: as _JOIN. ARGV: 1 ttl ms, then usuario, sid pairs.
# Renews the sockets this replica holds; answers the ones no longer there (swept while the
# replica was stalled), which the replica joins again if they are still open.
_RENEW = _script(
    """
local ttl = tonumber(ARGV[1])
local now = now_ms()
local missing = {}
for i = 2, #ARGV, 2 do
  local usuario, sid = ARGV[i], ARGV[i + 1]
  local conn = '@SOCKETS@' .. usuario
  local until_ms = redis.call('ZSCORE', conn, sid)
  if until_ms and tonumber(until_ms) > now then
    redis.call('ZADD', conn, now + ttl, sid)
    touch(usuario, ttl)
  else  -- it stopped counting: the replica joins it again if it is still open
    table.insert(missing, usuario)
    table.insert(missing, sid)
  end
end
return missing
"""
)

# KEYS: as _JOIN. Drops every agent's sockets that stopped counting; announces changes.
_SWEEP = _script(
    """
local now = now_ms()
for _, usuario in ipairs(redis.call('HKEYS', KEYS[4])) do
  prune(usuario, now)
  settle(usuario)
end
return {'ok', availability(), unpack(changes)}
"""
)


class TooManySocketsError(Exception):
    """The user already has the most sockets allowed open, across every replica."""


@dataclass(frozen=True)
class AgentPresence:
    nombre: str
    estado: PresenceState


@dataclass(frozen=True)
class PresenceChanges:
    """What one registry call changed: agents whose state changed, and whether support
    as a whole became available (True) or unavailable (False); None when it did not flip."""

    agents: dict[str, AgentPresence] = field(default_factory=dict)
    support_available: bool | None = None

    def __bool__(self) -> bool:
        return bool(self.agents) or self.support_available is not None


def _changes(result: Sequence[Any]) -> PresenceChanges:
    flip = _text(result[1])
    pairs = [_text(v) for v in result[2:]]
    return PresenceChanges(
        agents={
            pairs[i]: AgentPresence(pairs[i + 1], PresenceState(pairs[i + 2]))
            for i in range(0, len(pairs), 3)
        },
        support_available=None if flip == "" else flip == "1",
    )


class SocketRegistry:
    """The cluster-wide view of open sockets (see the module docstring)."""

    def __init__(self, redis: Redis, *, ttl_seconds: float, max_sockets_per_user: int) -> None:
        self.redis = redis
        self.ttl_ms = int(ttl_seconds * 1000)
        self.max_sockets_per_user = max_sockets_per_user
        self._join = redis.register_script(_JOIN)
        self._leave = redis.register_script(_LEAVE)
        self._set_away = redis.register_script(_SET_AWAY)
        self._renew = redis.register_script(_RENEW)
        self._sweep = redis.register_script(_SWEEP)
        self._keys = [keys.PRESENCE, keys.AWAY_AGENTS, keys.SUPPORT_AVAILABLE, keys.KNOWN_AGENTS]

    async def join(self, sid: str, claims: Claims) -> PresenceChanges:
        """Count a new socket, or raise TooManySocketsError (nothing counted then)."""
        agent = _flag(claims.rol == "admin")
        args: list[str | int] = [claims.user, sid, agent, self.ttl_ms, self.max_sockets_per_user]
        result = await self._join(keys=self._keys, args=[*args, claims.nombre])
        if result[0] == b"lleno":
            raise TooManySocketsError(claims.user)
        return _changes(result)

    async def leave(self, sid: str, usuario: str, rol: Rol) -> PresenceChanges:
        result = await self._leave(keys=self._keys, args=[usuario, sid, _flag(rol == "admin")])
        return _changes(result)

    async def set_idle(self, sid: str, usuario: str, idle: bool) -> PresenceChanges:
        """One of an agent's tabs went idle (hidden for a while) or came back."""
        result = await self._set_away(keys=self._keys, args=[usuario, sid, _flag(idle)])
        return _changes(result)

    async def set_away(self, usuario: str, away: bool) -> PresenceChanges:
        """The agent's own Away switch (every tab, every device)."""
        result = await self._set_away(keys=self._keys, args=[usuario, "", _flag(away)])
        return _changes(result)

    async def renew(
        self, sockets: Iterable[tuple[str, str]], batch: int = 500
    ) -> list[tuple[str, str]]:
        """Heartbeat for (usuario, sid) pairs this replica holds. Returns the pairs Redis no
        longer had (swept while this replica could not renew them): join them again if
        they are still open."""
        missing: list[tuple[str, str]] = []
        pending = list(sockets)
        for start in range(0, len(pending), batch):
            args: list[str | int] = [self.ttl_ms]
            for usuario, sid in pending[start : start + batch]:
                args += [usuario, sid]
            result = await self._renew(keys=self._keys, args=args)
            pairs = [_text(v) for v in result]
            missing += [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]
        return missing

    async def sweep(self) -> PresenceChanges:
        """Stop counting agents' sockets that nobody renewed; what changed."""
        return _changes(await self._sweep(keys=self._keys, args=[]))

    async def agents(self) -> dict[str, AgentPresence]:
        """Every agent who ever connected, with its display name and state."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(keys.KNOWN_AGENTS)
            pipe.hgetall(keys.PRESENCE)
            names, states = await pipe.execute()
        return {
            _text(usuario): AgentPresence(
                _text(nombre), PresenceState(_text(states.get(usuario, b"desconectado")))
            )
            for usuario, nombre in names.items()
        }

    async def support_available(self) -> bool:
        return await self.redis.get(keys.SUPPORT_AVAILABLE) == b"1"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _flag(value: bool) -> str:
    return "1" if value else "0"
