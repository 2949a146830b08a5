"""What one client address may ask of auth: at most `auth_rate_per_minute` registrations,
logins and visitor creations a minute, counted in Redis so every replica shares the
count. A route takes the limit by depending on `PerAddressRate`; more are refused with 429
and Retry-After before any work is done."""

from __future__ import annotations

from typing import Final

from fastapi import Request
from redis.asyncio import Redis

from soporte_common import keys
from soporte_common.contract import ErrorCode
from soporte_common.logging import get_logger
from soporte_common.web import ApiError

log = get_logger(__name__)

WINDOW_MS: Final = 60_000
# KEYS: the address's counter. ARGV: the window (ms). Returns {count, ms left in window}.
_COUNT: Final = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""


def client_address(request: Request) -> str:
    """The client's address: the TCP peer, or what a trusted proxy said it is (uvicorn's
    proxy headers, set from SOPORTE_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "desconocida"


class AddressRate:
    def __init__(self, redis: Redis, *, per_minute: int) -> None:
        self.per_minute = per_minute
        self._count = redis.register_script(_COUNT)

    async def check(self, address: str, route: str) -> None:
        """Count one request from `address`; ApiError 429 past the limit."""
        count, left_ms = await self._count([keys.auth_requests(address)], [WINDOW_MS])
        if int(count) <= self.per_minute:
            return
        if int(count) == self.per_minute + 1:  # once per address and window, not per request
            log.warning("too many auth requests from one address", direccion=address, ruta=route)
        retry_after = max(1, -(-int(left_ms) // 1000))
        raise ApiError(429, ErrorCode.TOO_MANY_REQUESTS, headers={"Retry-After": str(retry_after)})
