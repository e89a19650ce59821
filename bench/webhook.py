"""Webhook phase: Telegram updates posted at a fixed rate to the real Telegram webhook of our
stack, each from a new private chat saying hello; a recorder standing in for the Bot API (the
stack's ``TELEGRAM_API_URL``) stamps each ``sendMessage``. Reports turns/s, the latency from
posting the update to the first ``sendMessage`` for its chat (p50/p95), and errors: a webhook
answer other than 200, or no reply within the timeout."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import aiohttp
from aiohttp import web

from bench.stats import Latency

SECRET = secrets.token_urlsafe(24)
TOKEN = f"4242:{secrets.token_urlsafe(16)}"
REPLY_TIMEOUT_SECONDS = 30.0


def webhook_environment(api_port: int) -> dict[str, str]:
    """The stack's Telegram channel, pointed at the recorder's port."""
    return {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{api_port}",
    }


@dataclass(frozen=True)
class WebhookPlan:
    rasa_url: str
    api_port: int
    rate: float  # updates per second
    seconds: float


@dataclass
class WebhookOutcome:
    posted: dict[int, float] = field(default_factory=dict)
    replied: dict[int, float] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self) -> dict[str, Any]:
        latencies = [self.replied[chat] - at for chat, at in self.posted.items() if chat in self.replied]
        missing = len(self.posted) - len(latencies)
        errors = dict(self.errors)
        if missing:
            errors["no_reply"] = missing
        return {
            "updates": len(self.posted),
            "turns_per_s": round(len(latencies) / self.elapsed, 1) if self.elapsed else 0.0,
            "latency": Latency.of_seconds(latencies).to_dict(),
            "errors": sum(errors.values()),
            "error_kinds": errors,
        }


async def run_webhook(plan: WebhookPlan) -> WebhookOutcome:
    outcome = WebhookOutcome()
    all_replied = asyncio.Event()

    async def send_message(request: web.Request) -> web.Response:
        body = await request.json()
        chat = body.get("chat_id")
        if isinstance(chat, int) and chat not in outcome.replied:
            outcome.replied[chat] = time.monotonic()
            if len(outcome.replied) >= total:
                all_replied.set()
        return web.json_response({"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": chat}}})

    async def other(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/sendMessage", send_message)
    app.router.add_route("*", "/{tail:.*}", other)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", plan.api_port).start()
    total = int(plan.rate * plan.seconds)
    chats = itertools.count(7_000_000_000 + secrets.randbelow(10**8))
    url = f"{plan.rasa_url}/webhooks/telegram/webhook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT_SECONDS * 2)) as http:

            async def post(chat: int) -> None:
                update = {
                    "update_id": chat,  # unique across runs: a repeated id is (rightly) not a second turn
                    "message": {
                        "message_id": 1,
                        "from": {"id": chat, "is_bot": False, "first_name": "Bench", "language_code": "en"},
                        "chat": {"id": chat, "type": "private"},
                        "date": int(time.time()),
                        "text": "hello",
                    },
                }
                outcome.posted[chat] = time.monotonic()
                try:
                    async with http.post(url, json=update, headers=headers) as reply:
                        if reply.status != 200:
                            outcome.error(f"http_{reply.status}")
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    outcome.error(type(exc).__name__)

            started = time.monotonic()
            tasks = []
            for number in range(total):
                due = started + number / plan.rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                tasks.append(asyncio.ensure_future(post(next(chats))))
            await asyncio.gather(*tasks)
            try:
                await asyncio.wait_for(all_replied.wait(), REPLY_TIMEOUT_SECONDS)
            except asyncio.TimeoutError:
                pass  # counted as no_reply
            last = max(outcome.replied.values(), default=time.monotonic())
            outcome.elapsed = max(last, started + plan.seconds) - started
    finally:
        await runner.cleanup()
    return outcome


def summary_line(summary: dict[str, Any], rate: float) -> str:
    latency: Optional[dict] = summary.get("latency")
    return (
        f"    {summary['turns_per_s']} turns/s at {rate:g} updates/s, p50 {latency and latency['p50_ms']} ms, "
        f"p95 {latency and latency['p95_ms']} ms webhook to sendMessage, {summary['errors']} errors"
    )
