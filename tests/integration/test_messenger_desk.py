"""The messenger channels' core against a real Redis and the fake platform: replay guard, reply
window, failures kept for the console and counted, sealed addresses, short-lived grants."""

from __future__ import annotations

import time

from recoverydesk.adapters import keys
from recoverydesk.adapters.messenger_api import PlatformApi
from recoverydesk.adapters.messenger_store import MessengerStore
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.messenger_window import REPLY_WINDOW_SECONDS
from recoverydesk.services.messengers import MessengerDesk

SECRET = b"s" * 48


def desk(redis, timeout: float = 2.0) -> MessengerDesk:
    return MessengerDesk(MessengerStore(redis, SecretBox(SECRET)), PlatformApi(timeout), Metrics(redis), b"k" * 32)


async def failures(redis, channel: str, kind: str) -> float:
    value = await redis.hget(
        keys.METRICS, f'recoverydesk_channel_send_failures_total{{channel="{channel}",kind="{kind}"}}'
    )
    return float(value or 0)


async def test_a_platform_message_id_is_handled_once_and_the_address_is_sealed(redis):
    messengers = desk(redis)
    first = await messengers.admit("whatsapp", "34600111222", "34600111222", f"wamid.{time.time()}", 60)
    assert first is not None and first.startswith("whatsapp-")
    again = await messengers.admit("whatsapp", "34600111222", "34600111222", f"wamid.{time.time()}-x", 60)
    assert again == first
    wamid = f"wamid.same.{time.time()}"
    assert await messengers.admit("whatsapp", "34600111222", "34600111222", wamid, 60) == first
    assert await messengers.admit("whatsapp", "34600111222", "34600111222", wamid, 60) is None
    stored = await redis.hgetall(keys.messenger_conversation(first))
    assert b"34600111222" not in b"".join(k + v for k, v in stored.items())
    assert await messengers.address(first) == "34600111222"


async def test_a_send_outside_the_window_is_not_attempted_and_the_agent_is_told_why(redis, fake_platform):
    fake_platform.reset()
    messengers = desk(redis)
    conversation = messengers.conversation_id("facebook", "p-1")
    await messengers.store.inbound(conversation, "facebook", "p-1", at=time.time() - REPLY_WINDOW_SECONDS - 60)
    before = await failures(redis, "facebook", "window_closed")
    sent = await messengers.deliver("facebook", conversation, f"{fake_platform.url}/me/messages", {"message": {}})
    await messengers.metrics.flush()
    assert not sent.ok and sent.kind == "window_closed"
    assert fake_platform.received() == []
    assert await failures(redis, "facebook", "window_closed") == before + 1
    window = await messengers.reply_window(conversation)
    assert window["open"] is False and "24 hours" in window["reason"]
    assert window["last_failure"]["kind"] == "window_closed"


async def test_a_platform_that_is_down_or_slow_is_a_counted_failure_never_an_exception(redis, fake_platform):
    messengers = desk(redis, timeout=1.0)
    conversation = messengers.conversation_id("telegram", "42")
    await messengers.store.inbound(conversation, "telegram", "42")
    try:
        fake_platform.reset()
        fake_platform.mode = "down"
        down = await messengers.deliver(
            "telegram", conversation, f"{fake_platform.url}/botT/sendMessage", {"text": "x"}
        )
        fake_platform.mode, fake_platform.delay = "slow", 3.0
        slow = await messengers.deliver(
            "telegram", conversation, f"{fake_platform.url}/botT/sendMessage", {"text": "x"}
        )
        fake_platform.mode = "normal"
        ok = await messengers.deliver(
            "telegram", conversation, f"{fake_platform.url}/botT/sendMessage", {"chat_id": 42}
        )
        refused = await messengers.deliver("telegram", conversation, "http://127.0.0.1:9/botT/sendMessage", {})
    finally:
        fake_platform.reset()
        await messengers.api.close()
    assert (down.ok, down.kind) == (False, "http_503")
    assert (slow.ok, slow.kind) == (False, "timeout")
    assert ok.ok and ok.result["result"]["chat"]["id"] == 42
    assert (refused.ok, refused.kind) == (False, "unreachable")


async def test_making_the_desk_calls_no_platform(redis, fake_platform):
    fake_platform.reset()
    desk(redis)
    assert fake_platform.received() == []


async def test_a_grant_on_a_messenger_chat_id_is_short_lived_and_a_web_chat_grant_is_not(redis):
    store = VerificationStore(redis, messenger_ttl_seconds=300)
    messenger = desk(redis).conversation_id("telegram", str(time.time()))
    await store.grant(messenger, "acct-1", "basic", "email_code")
    await store.grant("w" * 40, "acct-1", "basic", "email_code")
    assert 0 < await redis.ttl(keys.verification(messenger)) <= 300
    assert await redis.ttl(keys.verification("w" * 40)) > 300


async def test_a_platform_identity_verifies_no_one(redis):
    messengers = desk(redis)
    conversation = await messengers.admit("telegram", "777", "777", f"u{time.time()}", 60)
    assert (await VerificationStore(redis).get(conversation)).level == "none"
