"""RL-3 under concurrency: parallel requests for one account, as several action servers send them."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.rate_limits import RateLimited, SendingLimit


async def test_twenty_concurrent_code_requests_for_one_account_let_exactly_three_through(redis_server):
    # one client per request, as separate processes would be: no shared connection serialises them
    clients = [Redis.from_url(redis_server.url) for _ in range(20)]
    account = f"acct_{secrets.token_hex(6)}"
    now = time.time()
    try:
        await asyncio.gather(*(client.ping() for client in clients))

        async def request(client: Redis) -> bool:
            try:
                await SendingLimit(client, "account", limit=3).take(account, now)
            except RateLimited:
                return False
            return True

        outcomes = await asyncio.gather(*(request(client) for client in clients))
        assert outcomes.count(True) == 3
        assert await clients[0].zcard(f"rd:limits:sends:account:{account}") == 3
    finally:
        await asyncio.gather(*(client.close() for client in clients))


async def test_requests_at_the_same_instant_each_count(redis):
    limit = SendingLimit(redis, "account", limit=3)
    account, now = f"acct_{secrets.token_hex(6)}", time.time()
    for _ in range(3):
        await limit.take(account, now)
    with pytest.raises(RateLimited) as limited:
        await limit.take(account, now)
    assert limited.value.retry_after == 3601
