"""Slows password guessing: after N failures for one username, logins pause for a while."""

from __future__ import annotations

from redis.asyncio import Redis

from soporte_common import keys


class LoginThrottle:
    def __init__(self, redis: Redis, *, allowed: int, lockout_seconds: int) -> None:
        self.redis = redis
        self.allowed = allowed
        self.lockout_seconds = lockout_seconds

    async def locked(self, usuario: str) -> bool:
        failures = await self.redis.get(keys.login_failures(usuario))
        return failures is not None and int(failures) >= self.allowed

    async def failed(self, usuario: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(keys.login_failures(usuario))
            pipe.expire(keys.login_failures(usuario), self.lockout_seconds)
            await pipe.execute()
