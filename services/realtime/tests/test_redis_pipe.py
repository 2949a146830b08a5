"""The replica's pipelined script connection (redis_pipe.py) against a real Valkey: replies
reach their callers in order, and a flushed script, a killed connection and a stalled
server each end in an answer, never a hang."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from soporte_common.redis_client import connect_redis
from soporte_realtime.redis_pipe import RedisPipe
from soporte_stack.testing import RunningStack

pytestmark = pytest.mark.integration

# Echoes its key and argument; refuses the argument "no" with an error reply.
ECHO = """
if ARGV[1] == 'no' then return redis.error_reply('refused ' .. KEYS[1]) end
redis.call('RPUSH', 'calls', ARGV[1])
return {KEYS[1], ARGV[1]}
"""


async def test_each_call_of_a_burst_gets_its_own_reply_in_order(redis: Redis) -> None:
    pipe = RedisPipe(redis)
    sha = pipe.register(ECHO)
    sent = [str(i) for i in range(200)]
    sent[7] = "no"
    replies = await asyncio.gather(
        *(pipe.evalsha(sha, [f"k{i}"], [arg]) for i, arg in enumerate(sent)),
        return_exceptions=True,
    )
    await pipe.close()
    refused = replies.pop(7)
    assert isinstance(refused, ResponseError) and str(refused) == "refused k7"
    assert replies == [[f"k{i}".encode(), arg.encode()] for i, arg in enumerate(sent) if i != 7]
    # Run by Redis in the order they were made.
    assert [c.decode() for c in await redis.lrange("calls", 0, -1)] == [
        a for a in sent if a != "no"
    ]


async def test_a_flushed_script_and_a_killed_connection_are_recovered(redis: Redis) -> None:
    pipe = RedisPipe(redis)
    sha = pipe.register(ECHO)
    assert await pipe.evalsha(sha, ["a"], ["1"]) == [b"a", b"1"]
    await redis.script_flush()  # Redis forgot it: the call goes again with the whole script
    assert await pipe.evalsha(sha, ["b"], ["2"]) == [b"b", b"2"]
    await redis.script_flush()
    await redis.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    # The next call opens a new connection, which loads the script first.
    async with asyncio.timeout(5):
        while True:
            try:
                assert await pipe.evalsha(sha, ["c"], ["3"]) == [b"c", b"3"]
                break
            except RedisConnectionError:  # made before the loss was noticed
                await asyncio.sleep(0.05)
    await pipe.close()
    assert [c.decode() for c in await redis.lrange("calls", 0, -1)] == ["1", "2", "3"]


async def test_a_stalled_redis_fails_the_calls_in_time_then_serves_again(
    infra: RunningStack, redis: Redis
) -> None:
    client = connect_redis(infra.redis_url, socket_timeout=0.3, retries=0)
    pipe = RedisPipe(client)
    sha = pipe.register(ECHO)
    assert await pipe.evalsha(sha, ["a"], ["1"]) == [b"a", b"1"]
    await redis.execute_command("CLIENT", "PAUSE", "3000", "ALL")
    try:
        async with asyncio.timeout(2.5):  # an answer before the pause ends
            with pytest.raises(RedisTimeoutError):
                await pipe.evalsha(sha, ["b"], ["2"])
    finally:
        await redis.execute_command("CLIENT", "UNPAUSE")
    assert await pipe.evalsha(sha, ["c"], ["3"]) == [b"c", b"3"]
    await pipe.close()
    await client.aclose()
