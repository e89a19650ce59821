"""The messenger channels' pure rules: authenticity checks, opaque ids, splitting, the reply window."""

from __future__ import annotations

import pytest

from recoverydesk.domain.message_splitting import split_text
from recoverydesk.domain.messenger_auth import body_signature, secret_matches, signature_problem
from recoverydesk.domain.messenger_identity import conversation_id, is_messenger_conversation, message_digest
from recoverydesk.domain.messenger_window import REPLY_WINDOW_SECONDS, closed_reason, needs_human_agent_tag


def test_the_telegram_secret_must_be_present_and_equal():
    assert secret_matches("s3cret", "s3cret")
    assert not secret_matches("s3cret", "s3cret ")
    assert not secret_matches("s3cret", None)
    assert not secret_matches(None, "s3cret")
    assert not secret_matches("", "")


def test_a_meta_signature_is_hmac_sha256_of_the_raw_body():
    body = b'{"object":"page"}'
    good = body_signature("app-secret", body)
    assert good.startswith("sha256=") and len(good) == 71
    assert signature_problem("app-secret", good, body) is None
    assert signature_problem("app-secret", good, body + b" ") == "mismatch"
    assert signature_problem("other-secret", good, body) == "mismatch"
    assert signature_problem("app-secret", None, body) == "missing"
    assert signature_problem(None, good, body) == "missing"
    assert signature_problem("app-secret", "sha1=" + "0" * 40, body) == "malformed"


def test_a_conversation_id_is_stable_opaque_and_per_channel():
    key = b"k" * 32
    first = conversation_id(key, "whatsapp", "34600111222")
    assert first == conversation_id(key, "whatsapp", "34600111222")
    assert "34600111222" not in first and first.startswith("whatsapp-")
    assert first != conversation_id(key, "facebook", "34600111222")
    assert first != conversation_id(b"x" * 32, "whatsapp", "34600111222")
    assert is_messenger_conversation(first)
    assert not is_messenger_conversation("Zk3-" + "a" * 40)
    assert message_digest(key, "telegram", "1") != message_digest(key, "telegram", "2")


def test_long_texts_are_split_at_the_limit_on_a_boundary_and_nothing_is_lost():
    paragraph = "word " * 300
    text = (paragraph.strip() + "\n\n") * 5
    parts = split_text(text, 2000)
    assert all(0 < len(p) <= 2000 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert split_text("x" * 4097, 4096) == ["x" * 4096, "x"]
    assert split_text("short", 4096) == ["short"]
    assert split_text("", 10) == []
    with pytest.raises(ValueError):
        split_text("a", 0)


def test_meta_channels_may_reply_only_within_24_hours_and_telegram_always():
    now = 1_000_000.0
    assert closed_reason("whatsapp", now - 60, now) is None
    closed = closed_reason("facebook", now - REPLY_WINDOW_SECONDS - 3600, now)
    assert closed is not None and "25 hours" in closed and "24 hours" in closed
    assert closed_reason("whatsapp", None, now) is not None
    assert closed_reason("telegram", now - 10 * REPLY_WINDOW_SECONDS, now) is None


def test_on_messenger_a_person_may_answer_for_7_days_with_the_human_agent_tag_and_on_whatsapp_not():
    now = 10_000_000.0
    late = now - REPLY_WINDOW_SECONDS - 3600
    assert closed_reason("facebook", late, now, from_agent=True) is None
    assert needs_human_agent_tag("facebook", late, now)
    assert not needs_human_agent_tag("facebook", now - 60, now)
    assert closed_reason("whatsapp", late, now, from_agent=True) is not None
    too_late = closed_reason("facebook", now - 8 * 24 * 3600, now, from_agent=True)
    assert too_late is not None and "7 days" in too_late
    assert not needs_human_agent_tag("facebook", now - 8 * 24 * 3600, now)
