"""Fixtures of the adapter tests: a client of the session's test Redis."""

import pytest
from redis.asyncio import Redis


@pytest.fixture
async def redis(redis_server):
    client = Redis.from_url(redis_server.url)
    yield client
    await client.close()
