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

from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import attrgetter
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
        return [str(value) for value in _getter(type(self), "KEYS")(self)]

    def args(self) -> list[ScriptArg]:
        return [*_getter(type(self), "ARGV")(self), *self.trailing_args()]

    def trailing_args(self) -> list[ScriptArg]:
        return []

    @classmethod
    def names(cls, table: str) -> list[str]:
        """The Lua names bound to KEYS or ARGV, in position order."""
        return [path.rpartition(".")[2] for path in _paths(cls, table)]

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


def _paths(call: type[ScriptCall], table: str) -> list[str]:
    """The attribute path of each value sent in KEYS or ARGV, in position order: a PART's
    fields as `part.field`."""
    hints = get_type_hints(call)
    out: list[str] = []
    for f in fields(call):
        role = f.metadata.get(_ROLE)
        if role == "part":
            out += [f"{f.name}.{path}" for path in _paths(hints[f.name], table)]
        elif role == table:
            out.append(f.name)
    return out


_GETTERS: dict[tuple[type[ScriptCall], str], Callable[[ScriptCall], tuple[Any, ...]]] = {}


def _getter(call: type[ScriptCall], table: str) -> Callable[[ScriptCall], tuple[Any, ...]]:
    """A call's KEYS or ARGV values, read by one `attrgetter` built once per class: a call
    is made for every message, and walking the fields each time was a measurable share of
    an accept's Python (docs/performance.md)."""
    getter = _GETTERS.get((call, table))
    if getter is None:
        getter = _GETTERS[call, table] = _build_getter(_paths(call, table))
    return getter


def _build_getter(paths: list[str]) -> Callable[[ScriptCall], tuple[Any, ...]]:
    # attrgetter of one name returns the value, not a 1-tuple; of none, it cannot be built.
    if len(paths) > 1:
        return attrgetter(*paths)
    if paths:
        get_one = attrgetter(paths[0])
        return lambda value: (get_one(value),)
    return lambda _: ()


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
