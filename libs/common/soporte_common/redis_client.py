"""One way to open Redis: bounded timeouts (a hung Redis becomes an error the caller can
report, not a hung request), a few quick retries across a reconnect, and a pool that makes
a burst of callers wait their turn for a connection instead of failing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import hiredis
from redis.asyncio import BlockingConnectionPool, Connection, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError


def pack(command: Sequence[Any]) -> bytes:
    """One command in Redis's wire format, by hiredis's C packer (str, bytes, int, float
    arguments). Everything of Soporte that writes commands packs them here."""
    # hiredis's stub types the argument as a one-element tuple; any length is packed.
    packed: bytes = hiredis.pack_command(cast(Any, tuple(command)))
    return packed


class HiredisPackingConnection(Connection):
    """redis-py's asyncio connection packs each command in Python, a loop per argument (its
    sync one uses hiredis's C packer). The accept path's pipelined script calls, some 40
    arguments each, spent ~8% of a loaded realtime replica there (docs/performance.md)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        # A command name with literal arguments in it ("SCRIPT LOAD") goes as separate ones.
        if isinstance(args[0], str):
            args = (*args[0].encode().split(), *args[1:])
        elif b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        try:
            return [pack(args)]
        except TypeError as exc:  # what redis-py's own encoder refuses (None, a bool...)
            raise DataError(str(exc)) from exc


def connect_redis(
    url: str,
    *,
    socket_timeout: float = 5.0,
    max_connections: int = 64,
    retries: int = 2,
    retry_timeouts: bool = True,
) -> Redis:
    """`retries=0` for commands that must not run twice (a timed-out write may have landed).
    `retry_timeouts=False` retries only a broken connection (Redis restarted), never a
    command that timed out: a stalled Redis then costs one timeout, not one per retry."""
    errors: list[type[RedisError]] = [RedisConnectionError]
    if retry_timeouts:
        errors.append(RedisTimeoutError)
    pool = BlockingConnectionPool.from_url(
        url,
        connection_class=HiredisPackingConnection,
        max_connections=max_connections,
        timeout=socket_timeout,  # how long a caller may wait for a free connection
        socket_timeout=socket_timeout,
        socket_connect_timeout=2.0,
        # A connection idle for a second is PINGed before use: after a Redis restart, stale
        # connections are replaced instead of failing the first command sent on them.
        health_check_interval=1,
        # With an explicit pool, redis-py takes the retry policy from the pool's connections.
        retry=Retry(
            ExponentialBackoff(cap=0.5, base=0.05), retries=retries, supported_errors=tuple(errors)
        ),
        retry_on_error=errors,
    )
    return Redis(connection_pool=pool)
