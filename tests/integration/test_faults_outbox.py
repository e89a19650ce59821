"""The durable outbox and the RL-4 limits, against a real Redis and a real SMTP server."""

import asyncio
import email
import email.policy
import secrets
import time

import pytest

from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.mail_outbox import MailOutbox
from recoverydesk.adapters.outbox import Backoff, Outbox, OutboxWorker, PermanentFailure
from recoverydesk.adapters.traffic_limits import Limit, LimitConfigError, OverLimit, TrafficLimits
from recoverydesk.domain.crypto import SecretBox
from tests.support.servers import SmtpServer

BOX = SecretBox(b"k" * 48)


def outbox(redis, backoff=Backoff(0.05, 0.2)) -> Outbox:
    return Outbox(redis, f"test-{secrets.token_hex(4)}", BOX, backoff)


async def test_a_repeated_key_queues_nothing_and_is_delivered_once(redis):
    box = outbox(redis)
    delivered = []

    async def deliver(payload):
        delivered.append(payload["n"])
        return {"ok": True}

    worker = OutboxWorker(box, deliver)
    assert (await box.put("k-1", {"n": 1}, ref="RD-1")).created
    again = await box.put("k-1", {"n": 2}, ref="RD-2")
    assert not again.created and again.ref == "RD-1"
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0
    assert (await box.put("k-1", {"n": 3})).created is False  # delivered keys stay known
    assert delivered == [1]
    assert await box.state("k-1") == "delivered" and await box.result("k-1") == {"ok": True}


async def test_failed_deliveries_are_retried_with_growing_delays_until_they_succeed(redis):
    box = outbox(redis, Backoff(0.2, 10))
    attempts = []

    async def deliver(payload):
        attempts.append(time.monotonic())
        if len(attempts) < 4:
            raise ConnectionError("receiver down")
        return {}

    worker = OutboxWorker(box, deliver)
    await box.put("k", {})
    deadline = time.monotonic() + 10
    while await box.state("k") != "delivered":
        assert time.monotonic() < deadline
        await worker.run_once()
        await asyncio.sleep(0.02)
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert len(attempts) == 4
    assert gaps[0] >= 0.15 and gaps[1] >= 0.3 and gaps[2] >= 0.6  # 0.2 s doubling, ±20 % jitter


async def test_two_workers_never_deliver_the_same_item(redis):
    box = outbox(redis)
    seen = []

    async def deliver(payload):
        await asyncio.sleep(0.01)
        seen.append(payload["n"])
        return {}

    for n in range(30):
        await box.put(f"k-{n}", {"n": n})
    first, second = OutboxWorker(box, deliver), OutboxWorker(Outbox(redis, box.name, BOX), deliver)
    while await box.pending():
        await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(seen) == list(range(30))


async def test_a_refused_delivery_is_given_up_and_an_expired_one_is_dropped(redis):
    box = outbox(redis)
    calls = []

    async def deliver(payload):
        calls.append(payload)
        raise PermanentFailure("malformed")

    worker = OutboxWorker(box, deliver)
    await box.put("refused", {"n": 1})
    await box.put("expired", {"n": 2}, ttl_seconds=0.01)
    await asyncio.sleep(0.05)
    await worker.run_once()
    assert await box.state("refused") == "failed" and await box.state("expired") == "failed"
    assert calls == [{"n": 1}]
    assert await box.pending() == 0


async def test_queued_mail_is_sealed_in_redis_and_sent_once_when_the_smtp_server_returns(redis):
    smtp = SmtpServer()  # not started: the mail server is down
    mail = MailOutbox(redis, BOX, Mailer("127.0.0.1", smtp.port, "desk@example.com", timeout_seconds=2))
    mail.outbox = Outbox(redis, f"mail-{secrets.token_hex(4)}", BOX, Backoff(30, 60))
    mail.worker.outbox = mail.outbox
    code = f"{secrets.randbelow(900000) + 100000}"
    assert not await mail.available()
    assert await mail.queue(["casey@example.com"], "Your code", f"The code is {code}.", key="code-mail-1")
    assert not await mail.queue(["casey@example.com"], "Your code", f"The code is {code}.", key="code-mail-1")
    await mail.worker.run_once()
    assert mail.worker.failing and await mail.outbox.pending() == 1
    stored = b"".join(
        [k + b"".join((await redis.hgetall(k)).values()) async for k in redis.scan_iter("rd:outbox:*:item:*")]
    )
    assert code.encode() not in stored

    smtp.start()
    try:
        assert await mail.available()
        await mail.worker.run_once()  # the probe sees the server back: no waiting out the 30 s backoff
        for _ in range(3):
            await mail.worker.run_once()
        assert len(smtp.received) == 1
        message = email.message_from_bytes(smtp.received[0].data, policy=email.policy.default)
        assert code in message.get_content() and message["Message-ID"] == "<code-mail-1@example.com>"
        assert await mail.outbox.state("code-mail-1") == "delivered"
    finally:
        smtp.stop()


async def test_messages_beyond_the_session_limit_are_refused_with_the_time_to_wait(redis):
    limits = TrafficLimits(redis, {"messages": (Limit(3, 60), Limit(1000, 60))})
    session = secrets.token_hex(8)
    for _ in range(3):
        await limits.take("messages", session, now=120.0)
    with pytest.raises(OverLimit) as refused:
        await limits.take("messages", session, now=150.0)
    assert refused.value.scope == "session" and refused.value.retry_after == 30
    await limits.take("messages", secrets.token_hex(8), now=150.0)  # someone else goes on
    await limits.take("messages", session, now=180.0)  # the next window


async def test_the_global_limit_spans_sessions_and_refusals_use_no_budget(redis):
    kind = f"k{secrets.token_hex(3)}"
    limits = TrafficLimits(redis, {kind: (Limit(100, 3600), Limit(2, 3600))})
    await limits.take(kind, "a", now=7200.0)
    await limits.take(kind, "b", now=7200.0)
    for _ in range(3):
        with pytest.raises(OverLimit) as refused:
            await limits.take(kind, "c", now=7300.0)
        assert refused.value.scope == "global" and refused.value.minutes == 59
    assert int(await redis.get(f"rd:limits:rl4:{kind}:global:2")) == 2


def test_limits_are_configured_from_the_environment(redis):
    limits = TrafficLimits.from_env(redis, {"RL_MESSAGES_PER_SESSION": "10/30", "RL_TICKETS_GLOBAL": "50/600"})
    assert limits.limits["messages"][0] == Limit(10, 30)
    assert limits.limits["tickets"][1] == Limit(50, 600)
    assert limits.limits["tickets"][0] == Limit(5, 3600)
    with pytest.raises(LimitConfigError, match="count/seconds"):
        TrafficLimits.from_env(redis, {"RL_MESSAGES_GLOBAL": "lots"})
