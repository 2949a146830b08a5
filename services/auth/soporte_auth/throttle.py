"""Slows password guessing without letting a stranger lock an agent out.

Every attempt is counted *before* its password is checked, in one atomic step, so however
many guesses arrive at once, at most the limit of them are ever checked. Two counters:

- per username and client address (`login_failures_allowed`, 10 in 5 minutes): a guesser
  pauses; the real user, from another address, does not;
- per username from every address (`login_failures_allowed_per_user`, 100): a guessing
  botnet pauses too, except for the addresses the user logged in from lately, so even then
  the real user still gets in.

A successful login clears its address's counter, takes its attempt back from the total
and remembers the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

from soporte_common import keys

# KEYS: this address's attempts, every address's attempts, the known addresses.
# ARGV: allowed per address, allowed per user, lockout ms, the address.
# Returns {1, 0} when the attempt may go ahead (counted), {0, ms to wait} otherwise.
_BEGIN: Final = """
local mine = tonumber(redis.call('GET', KEYS[1]) or '0')
if mine >= tonumber(ARGV[1]) then return {0, redis.call('PTTL', KEYS[1])} end
local all = tonumber(redis.call('GET', KEYS[2]) or '0')
if all >= tonumber(ARGV[2]) and not redis.call('ZSCORE', KEYS[3], ARGV[4]) then
  return {0, redis.call('PTTL', KEYS[2])}
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, 0}
"""
# KEYS: as above. ARGV: the address, now (ms), how long an address stays known (ms).
_SUCCEEDED: Final = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -21)
redis.call('PEXPIRE', KEYS[3], ARGV[3])
"""
KNOWN_FOR_MS: Final = 30 * 86_400_000  # an address stays known for 30 days after a login


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_seconds: int = 0


class LoginThrottle:
    def __init__(
        self,
        redis: Redis,
        *,
        allowed: int,
        allowed_per_user: int,
        lockout_seconds: int,
    ) -> None:
        self.redis = redis
        self.allowed = allowed
        self.allowed_per_user = allowed_per_user
        self.lockout_ms = lockout_seconds * 1000
        self._begin = redis.register_script(_BEGIN)
        self._succeeded = redis.register_script(_SUCCEEDED)

    @staticmethod
    def _keys(usuario: str, address: str) -> list[str]:
        return [
            keys.login_attempts_from(usuario, address),
            keys.login_attempts(usuario),
            keys.login_known_addresses(usuario),
        ]

    async def begin(self, usuario: str, address: str) -> Verdict:
        """Count an attempt, or say how long this address must wait for this username."""
        allowed, wait_ms = await self._begin(
            self._keys(usuario, address),
            [self.allowed, self.allowed_per_user, self.lockout_ms, address],
        )
        if allowed:
            return Verdict(True)
        return Verdict(False, max(1, -(-int(wait_ms) // 1000)))

    async def succeeded(self, usuario: str, address: str, *, now_ms: int) -> None:
        await self._succeeded(self._keys(usuario, address), [address, now_ms, KNOWN_FOR_MS])
