"""The C packer the services' Redis connections use writes exactly what redis-py's own
packer writes, and refuses what it refuses."""

from typing import Any

import pytest
from redis.asyncio import Connection
from redis.exceptions import DataError

from soporte_common.redis_client import HiredisPackingConnection, connect_redis

COMMANDS: list[tuple[Any, ...]] = [
    ("EVALSHA", "a" * 40, 3, "k:1", "k:2", "k:3", 100, 60000, "", b"\x00head", "ñandú 🙂", 7),
    ("SCRIPT LOAD", "return redis.call('PING')"),
    (b"CONFIG GET", b"maxmemory"),
    ("XADD", "mensajes", "*", "mensaje", "x" * 200_000),  # past the chunking cutoff
    ("SET", "k", "v", "EX", 10),
    ("ZADD", "z", 1.5, "m"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: str(c[0]))
def test_it_packs_what_redis_py_packs(command: tuple[Any, ...]) -> None:
    ours = b"".join(HiredisPackingConnection().pack_command(*command))
    theirs = b"".join(bytes(part) for part in Connection().pack_command(*command))
    assert ours == theirs


@pytest.mark.parametrize("value", [None, True, object()])
def test_it_refuses_what_redis_py_refuses(value: Any) -> None:
    with pytest.raises(DataError):
        Connection().pack_command("SET", "k", value)
    with pytest.raises(DataError):
        HiredisPackingConnection().pack_command("SET", "k", value)


def test_every_service_connection_uses_it() -> None:
    redis = connect_redis("redis://127.0.0.1:1/0")
    assert redis.connection_pool.connection_class is HiredisPackingConnection
