from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis

from soporte_auth.app import create_app
from soporte_auth.settings import AuthSettings
from soporte_stack.testing import RunningStack


@pytest.fixture
def settings(infra: RunningStack) -> AuthSettings:
    return AuthSettings(
        database_url=infra.database_url, redis_url=infra.redis_url, login_failures_allowed=3
    )


@pytest.fixture
async def clean(infra: RunningStack) -> None:
    """Each test starts with no accounts and an empty Redis."""
    conn = await asyncpg.connect(infra.database_url)
    await conn.execute("TRUNCATE usuarios, sitios CASCADE")
    await conn.close()
    redis = Redis.from_url(infra.redis_url)
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture
async def client(settings: AuthSettings, clean: None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
            yield c


@pytest.fixture
async def redis(infra: RunningStack) -> AsyncIterator[Redis]:
    client = Redis.from_url(infra.redis_url)
    yield client
    await client.aclose()
