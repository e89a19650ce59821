"""The console's ticket header says when a messenger reply cannot reach the customer, and why."""

from helpdesk_plugin.web.console import reply_window_note


def test_a_closed_window_is_shown_with_its_reason():
    note = reply_window_note(
        {
            "reply_window": {
                "channel": "whatsapp",
                "open": False,
                "reason": "The customer's last message was 30 hours ago",
            }
        }
    )
    assert 'role="alert"' in note and "reply window is closed" in note and "30 hours ago" in note


def test_a_failed_send_is_shown_and_web_chat_shows_nothing():
    failed = reply_window_note(
        {"reply_window": {"channel": "telegram", "open": True, "last_failure": {"kind": "timeout", "at": "2026-01-01"}}}
    )
    assert "did not reach the customer" in failed and "timeout" in failed
    assert reply_window_note({"reply_window": None}) == ""
    assert reply_window_note({}) == ""


def test_a_window_only_a_person_may_still_use_says_so():
    note = reply_window_note(
        {"reply_window": {"channel": "facebook", "open": False, "reason": "25 hours ago", "agent_open": True}}
    )
    assert "bot can no longer reply" in note and "7 days" in note
