"""What the channels ask of the core before Rasa sees a message, against a real Redis: RL-4 limits,
turn metrics, the typed-code hand-off and readiness."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.code_inbox import CodeInbox
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.traffic_limits import Limit, TrafficLimits
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.redaction import redact
from recoverydesk.services.channel_guard import ChannelGuard, OverLimit
from recoverydesk.services.readiness import Readiness
from recoverydesk.services.typed_codes import TypedCodes


async def test_a_session_over_its_message_limit_is_refused_and_others_go_on(redis):
    limits = TrafficLimits(redis, {"messages": (Limit(2, 60), Limit(1000, 60))})
    guard = ChannelGuard(limits, Metrics(redis), max_chars=5000)
    await guard.admit("guard_session_a")
    await guard.admit("guard_session_a")
    with pytest.raises(OverLimit) as limited:
        await guard.admit("guard_session_a")
    assert limited.value.scope == "session" and 0 < limited.value.retry_after <= 60
    await guard.admit("guard_session_b")


def _value(rendered: str, series: str) -> float:
    """A series' value in the exposition (0 when absent); the Redis is shared with the test stack's counts."""
    for line in rendered.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[-1])
    return 0.0


async def test_turns_and_outages_are_counted_and_only_answered_turns_timed(redis):
    metrics = Metrics(redis)
    guard = ChannelGuard(TrafficLimits(redis), metrics, max_chars=5000)
    series = (
        'recoverydesk_turns_total{channel="guardtest",outcome="answered"}',
        'recoverydesk_turns_total{channel="guardtest",outcome="refused_empty"}',
        'recoverydesk_errors_total{component="rasa",kind="redis_unavailable"}',
        "recoverydesk_turn_seconds_count",
    )
    before = await metrics.render()

    guard.turn_done("guardtest", "answered", 0.2)
    guard.turn_done("guardtest", "refused_empty", 0.1)
    guard.service_unavailable()

    after = await metrics.render()
    assert [_value(after, name) - _value(before, name) for name in series] == [1, 1, 1, 1]


async def test_a_typed_code_and_recovery_code_are_kept_sealed_for_the_checking_action(redis):
    inbox = CodeInbox(redis, SecretBox(b"c" * 32))
    codes = TypedCodes(inbox)
    await codes.keep("conv_typed", redact("my code is 482913"))
    await codes.keep("conv_typed", redact("use ABCD-EFGH-JKLM-NPQR please"))
    await codes.keep("conv_plain", redact("nothing secret here"))
    assert b"482913" not in (await redis.get("rd:code_inbox:conv_typed") or b"")
    assert await inbox.take("conv_typed") == "482913"
    assert await inbox.take("conv_typed", kind="recovery_code") == "ABCD-EFGH-JKLM-NPQR"
    assert await inbox.take("conv_plain") is None
    assert await inbox.take("conv_plain", kind="recovery_code") is None


async def test_readiness_says_whether_redis_answers(redis):
    assert await Readiness(redis).redis_answers() is True
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    assert await Readiness(down).redis_answers() is False
    await down.close()
