"""Fixtures of the adapter tests: a client of the session's test Redis, and, for modules that start
their own helpdesk plugin as a ``helpdesk`` fixture, its address and a supervisor's token."""

import pytest
from redis.asyncio import Redis


@pytest.fixture
async def redis(redis_server):
    client = Redis.from_url(redis_server.url)
    yield client
    await client.close()


@pytest.fixture(scope="module")
def plugin(helpdesk):
    return helpdesk.url, helpdesk.redis_url


@pytest.fixture(scope="module")
def token(helpdesk):
    return helpdesk.sign_in()
