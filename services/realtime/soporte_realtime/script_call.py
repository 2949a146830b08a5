"""Calling a Lua script with named fields instead of positions.

A call is a frozen dataclass whose fields are the script's KEYS (`field(metadata=KEY)`)
and ARGV (`field(metadata=ARG)`); a `field(metadata=PART)` holds another call whose fields
come at that place, so scripts that share a context (soporte_realtime.conversation_lua)
declare it once. The script's first lines bind each field to a Lua local of the same name
(`bindings()`), generated from the dataclass, so a position is never written twice. Values
a call adds after its named ARGV (a stream entry's field/value pairs) come from
`trailing_args()`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Final, get_type_hints

from redis.asyncio import Redis

from soporte_realtime.redis_pipe import ScriptArg, pipe_for

# Redis's clock in ms, for scripts whose deadlines every replica must read alike (a
# replica's own clock may disagree with another's).
LUA_NOW_MS: Final = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

_ROLE: Final = "lua"
# A field's metadata: passed in KEYS (a key the script touches, declared as Redis
# requires), in ARGV, or another ScriptCall whose KEYS and ARGV come at that place.
KEY: Final = {_ROLE: "KEYS"}
ARG: Final = {_ROLE: "ARGV"}
PART: Final = {_ROLE: "part"}


@dataclass(frozen=True)
class ScriptCall:
    def keys(self) -> list[str]:
        return [str(value) for value in self._values("KEYS")]

    def args(self) -> list[ScriptArg]:
        return [*self._values("ARGV"), *self.trailing_args()]

    def trailing_args(self) -> list[ScriptArg]:
        return []

    def _values(self, table: str) -> list[ScriptArg]:
        out: list[ScriptArg] = []
        for name, role in _layout(type(self)):
            if role == "part":
                out += getattr(self, name)._values(table)
            elif role == table:
                out.append(getattr(self, name))
        return out

    @classmethod
    def names(cls, table: str) -> list[str]:
        """The Lua names bound to KEYS or ARGV, in position order."""
        hints = get_type_hints(cls)
        out: list[str] = []
        for f in fields(cls):
            role = f.metadata.get(_ROLE)
            if role == "part":
                out += hints[f.name].names(table)
            elif role == table:
                out.append(f.name)
        return out

    @classmethod
    def bindings(cls) -> str:
        """`local stream = KEYS[1]` ... for every named field, in the order calls send."""
        return "\n".join(
            f"local {name} = {table}[{position}]"
            for table in ("KEYS", "ARGV")
            for position, name in enumerate(cls.names(table), start=1)
        )

    @classmethod
    def first_trailing_arg(cls) -> int:
        """The ARGV position where `trailing_args()` start."""
        return len(cls.names("ARGV")) + 1


_LAYOUTS: dict[type[ScriptCall], tuple[tuple[str, str | None], ...]] = {}


def _layout(call: type[ScriptCall]) -> tuple[tuple[str, str | None], ...]:
    """Each field's name and role, in order: read once per class, not on every call (a
    call is made for every message)."""
    layout = _LAYOUTS.get(call)
    if layout is None:
        layout = _LAYOUTS[call] = tuple((f.name, f.metadata.get(_ROLE)) for f in fields(call))
    return layout


class BatchedScript:
    """A script callable with a ScriptCall, through the client's pipe (redis_pipe.py): calls
    of one event-loop turn go out together."""

    def __init__(self, redis: Redis, script: str) -> None:
        self._pipe = pipe_for(redis)
        self._sha = self._pipe.register(script)

    async def __call__(self, call: ScriptCall) -> list[Any]:
        """The script's answer; RedisError if Redis fails (a timed-out call may have been
        applied)."""
        result: list[Any] = await self._pipe.evalsha(self._sha, call.keys(), call.args())
        return result
