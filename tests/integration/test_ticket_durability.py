"""Tickets and audit entries acknowledged before a Redis restart are all there after it (AOF)."""

import asyncio
import json
import os
import subprocess
import sys
import time

import aiohttp

from recoverydesk.domain.signing import derive_key, sign
from recoverydesk.ops.stack import free_port, http_ok
from recoverydesk.settings import ROOT
from tests.support.servers import RedisServer, add_agent, sign_in


async def test_acknowledged_tickets_survive_a_redis_restart(tmp_path):
    redis = RedisServer(tmp_path / "redis", persistent=True).start()
    secret = "d" * 48
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis.url,
        "HELPDESK_PORT": str(port),
        "RECOVERYDESK_SECRET_KEY": secret,
        "RECOVERYDESK_VAR_DIR": str(tmp_path / "var"),
    }
    plugin = subprocess.Popen(  # noqa: ASYNC220 - starting a server returns at once
        [sys.executable, "-m", "helpdesk_plugin"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not http_ok(f"{base}/ready"):
            assert time.monotonic() < deadline and plugin.poll() is None
            await asyncio.sleep(0.2)
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

        agent = await add_agent(redis.url, secret.encode(), "supervisor")
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
        plugin.terminate()
        plugin.wait(10)
        redis.stop()
