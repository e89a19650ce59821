"""Tickets and audit entries acknowledged before a Redis restart are all there after it (AOF)."""

import asyncio
import json

import aiohttp

from recoverydesk.domain.signing import derive_key, sign
from tests.support.servers import HelpdeskPlugin, RedisServer, add_agent, sign_in


async def test_acknowledged_tickets_survive_a_redis_restart(tmp_path):
    redis = RedisServer(tmp_path / "redis", persistent=True).start()
    secret = "d" * 48
    plugin = HelpdeskPlugin(redis.url, secret, tmp_path / "var")
    base = plugin.url
    try:
        await asyncio.to_thread(plugin.start)
        key = derive_key(secret.encode(), "tickets")
        acknowledged = []
        async with aiohttp.ClientSession() as http:
            for number in range(40):
                body = json.dumps(
                    {"category": "other", "priority": "low", "conversation_id": f"durable-{number:04d}-" + "x" * 30}
                ).encode()
                headers = {
                    "Idempotency-Key": f"durable-{number:04d}",
                    "Content-Type": "application/json",
                    **sign(key, body),
                }
                async with http.post(f"{base}/api/v1/tickets", data=body, headers=headers) as reply:
                    assert reply.status == 201
                    acknowledged.append((await reply.json())["id"])

        redis.stop()  # a clean shutdown flushes the append-only file
        redis.start()

        agent = await add_agent(plugin.settings(), "supervisor")
        token = None
        for _ in range(20):  # the plugin reconnects on its next command
            try:
                token = await sign_in(base, agent)
                break
            except AssertionError:
                await asyncio.sleep(0.25)
        assert token
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            async with http.get(f"{base}/api/v1/tickets") as reply:
                listed = {t["id"] for t in (await reply.json())["tickets"]}
            async with http.get(f"{base}/api/v1/tickets/{acknowledged[0]}/audit") as reply:
                actions = [e["action"] for e in (await reply.json())["entries"]]
        assert set(acknowledged) <= listed
        assert actions[0] == "ticket.created"
    finally:
        plugin.stop()
        redis.stop()
