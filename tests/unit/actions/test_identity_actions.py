"""The verification actions say what ``VerificationService`` decided, and set the flow's slots."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet

from actions.identity import (
    ActionMarkActivity,
    ActionResendCode,
    ActionReviewActivity,
    ActionSendCode,
    ActionSendPasswordLink,
    ActionSignOutEverywhere,
    ActionStartVerification,
    ActionVerifyCode,
)
from recoverydesk.domain.accounts import ActivityEvent
from recoverydesk.services.verification import (
    ActivityReview,
    Checking,
    CodeChecking,
    CodeSending,
    LinkSending,
    MarkedActivity,
    SecureLink,
    Sending,
)
from tests.unit.actions.conftest import Answers, Fakes, Run, assert_asked_to_verify, run, tracker


class AddedToTicket:
    """A fake ``EscalationService.add_to_ticket``: keeps what each call added."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, conversation: Any, **added: Any) -> bool:
        self.calls.append(added)
        return True


async def send_code(fakes: Fakes, sending: CodeSending, text: str = "ana@example.test") -> Run:
    """``ActionSendCode`` run on the customer's ``text`` while the service answers ``sending``."""
    fakes.verification.send_code = Answers(sending)
    return await run(ActionSendCode(), tracker(text))


async def test_start_verification_skips_the_email_when_the_conversation_is_verified(fakes: Fakes) -> None:
    fakes.verification.is_verified = Answers(True)
    done = await run(ActionStartVerification(), tracker(sender_id="c-9"))
    assert done.events == [SlotSet("verify_step", "verified")]
    assert done.messages == []
    assert fakes.verification.is_verified.calls == [("c-9",)]


async def test_start_verification_asks_for_the_email_otherwise(fakes: Fakes) -> None:
    fakes.verification.is_verified = Answers(False)
    done = await run(ActionStartVerification(), tracker())
    assert done.events == [SlotSet("verify_step", "ask_email")]


async def test_send_code_passes_the_message_and_says_the_code_was_sent(fakes: Fakes) -> None:
    fakes.verification.send_code = Answers(CodeSending(Sending.SENT))
    done = await run(ActionSendCode(), tracker("it is ana@example.test", sender_id="c-1"))
    assert fakes.verification.send_code.calls == [("c-1", "it is ana@example.test", "en")]
    assert done.responses == ["utter_code_sent"]
    assert done.events == [SlotSet("verify_step", "code_sent"), SlotSet("code_purpose", "email")]


async def test_send_code_says_when_the_mail_server_is_down_with_the_phone_number(fakes: Fakes) -> None:
    done = await send_code(fakes, CodeSending(Sending.MAIL_DOWN, support_phone="+1 555 0100"))
    assert done.said("utter_code_not_sent")["support_phone"] == "+1 555 0100"
    assert done.slots() == {"verify_step": "code_sent", "code_purpose": "email"}


async def test_send_code_asks_again_without_an_address(fakes: Fakes) -> None:
    done = await send_code(fakes, CodeSending(Sending.NO_ADDRESS), "my email is broken")
    assert done.responses == ["utter_email_not_understood"]
    assert done.events == [SlotSet("verify_step", "ask_email")]


async def test_send_code_names_the_wait_when_too_many_codes_were_asked_for(fakes: Fakes) -> None:
    done = await send_code(fakes, CodeSending(Sending.TOO_MANY, minutes="12"))
    assert done.said("utter_too_many_codes")["minutes"] == "12"
    assert done.events == [SlotSet("verify_step", "code_sent")]


async def test_send_code_sends_a_recently_changed_contact_to_a_person(fakes: Fakes) -> None:
    done = await send_code(fakes, CodeSending(Sending.CONTACTS_CHANGED))
    assert done.responses == ["utter_contact_recently_changed"]
    assert done.events == [SlotSet("verify_step", "needs_person")]


async def test_resend_code_without_a_pending_code_asks_for_the_email(fakes: Fakes) -> None:
    fakes.verification.resend_code = Answers(CodeSending(Sending.NOT_PENDING))
    done = await run(ActionResendCode(), tracker())
    assert_asked_to_verify(done, SlotSet("verify_step", "ask_email"))


async def test_resend_code_says_sent_and_changes_no_slot(fakes: Fakes) -> None:
    fakes.verification.resend_code = Answers(CodeSending(Sending.SENT))
    done = await run(ActionResendCode(), tracker(sender_id="c-2"))
    assert fakes.verification.resend_code.calls == [("c-2", "en")]
    assert done.responses == ["utter_code_sent"]
    assert done.events == []


async def test_resend_code_names_the_wait_at_the_limit(fakes: Fakes) -> None:
    fakes.verification.resend_code = Answers(CodeSending(Sending.TOO_MANY, minutes="3"))
    done = await run(ActionResendCode(), tracker())
    assert done.said("utter_too_many_codes")["minutes"] == "3"
    assert done.events == []


async def test_verify_code_accepted_reminds_never_to_share_codes_and_marks_verified(fakes: Fakes) -> None:
    fakes.verification.check_code = Answers(CodeChecking(Checking.ACCEPTED))
    fakes.escalation.add_to_ticket = Answers(True)
    done = await run(ActionVerifyCode(), tracker("[code]", slots={"verify_step": "code_sent"}, sender_id="c-3"))
    (conversation,) = fakes.verification.check_code.calls[0]
    assert conversation.id == "c-3" and conversation.slot("verify_step") == "code_sent"
    assert conversation.channel == "socketio"
    assert done.responses == ["utter_never_share_codes", "utter_verified"]
    assert done.events == [SlotSet("verify_step", "verified")]
    ((told,),) = fakes.escalation.add_to_ticket.calls  # the open ticket, if any, learns who the customer is
    assert told.id == "c-3"


async def test_verify_code_outcomes_map_to_their_responses_and_steps(fakes: Fakes) -> None:
    expected = {
        Checking.WRONG: (["utter_never_share_codes", "utter_code_wrong"], "code_sent"),
        Checking.EXPIRED: (["utter_never_share_codes", "utter_code_expired"], "code_sent"),
        Checking.LOCKED: (["utter_never_share_codes", "utter_locked_needs_person"], "needs_person"),
        Checking.WAIT: (["utter_never_share_codes", "utter_try_again_later"], "code_sent"),
        Checking.NOT_PENDING: (["utter_never_share_codes", "utter_ask_email"], "ask_email"),
    }
    for result, (responses, step) in expected.items():
        fakes.verification.check_code = Answers(CodeChecking(result, minutes="2"))
        done = await run(ActionVerifyCode(), tracker("[code]"))
        assert (done.responses, done.events) == (responses, [SlotSet("verify_step", step)]), result
    assert done.messages[-1].get("minutes") is None


async def test_verify_code_names_the_wait_after_failures(fakes: Fakes) -> None:
    fakes.verification.check_code = Answers(CodeChecking(Checking.WAIT, minutes="5"))
    done = await run(ActionVerifyCode(), tracker("[code]"))
    assert done.said("utter_try_again_later")["minutes"] == "5"


async def test_review_activity_lists_each_event_in_plain_words(fakes: Fakes) -> None:
    events = [
        ActivityEvent("ev-1", "login", "2024-03-05T10:15:00Z", ip="203.0.113.9", place="Lisbon", device="Firefox"),
        ActivityEvent("ev-2", "email_change", "2024-03-04T08:00:00Z"),
    ]
    fakes.verification.review_activity = Answers(ActivityReview(True, events))
    done = await run(ActionReviewActivity(), tracker())
    assert done.responses == [
        "utter_activity_intro",
        "utter_activity_line",
        "utter_activity_line",
        "utter_ask_activity_not_me",
    ]
    first, second = done.messages[1], done.messages[2]
    assert (first["number"], first["when"], first["what"]) == ("1", "05 Mar, 10:15 UTC", "Sign-in")
    assert first["where"] == "Lisbon, Firefox, IP 203.0.113.9"
    assert (second["number"], second["what"], second["where"]) == ("2", "Email address changed", "place unknown")
    assert done.events == [SlotSet("activity_listed", ["ev-1", "ev-2"])]


async def test_review_activity_with_nothing_recent_says_so(fakes: Fakes) -> None:
    fakes.verification.review_activity = Answers(ActivityReview(True, []))
    done = await run(ActionReviewActivity(), tracker())
    assert done.responses == ["utter_no_recent_activity"]
    assert done.events == [SlotSet("activity_listed", [])]


async def test_review_activity_asks_an_unverified_customer_to_verify(fakes: Fakes) -> None:
    fakes.verification.review_activity = Answers(ActivityReview(False))
    done = await run(ActionReviewActivity(), tracker())
    assert_asked_to_verify(done, SlotSet("verify_step", "ask_email"))


async def test_mark_activity_reports_the_marked_events_and_their_ips(fakes: Fakes) -> None:
    marked = [{"id": "ev-2", "kind": "login", "ip": "198.51.100.7"}]
    fakes.verification.mark_activity = Answers(MarkedActivity(marked, ["198.51.100.7"]))
    fakes.escalation.add_to_ticket = AddedToTicket()
    done = await run(ActionMarkActivity(), tracker("2 was not me", slots={"activity_listed": ["ev-1", "ev-2"]}))
    assert fakes.verification.mark_activity.calls == [("conversation-1", ["ev-1", "ev-2"], "2 was not me")]
    assert done.said("utter_activity_marked")["count"] == "1"
    assert done.events == [SlotSet("reported_activity", marked), SlotSet("suspicious_ips", ["198.51.100.7"])]
    assert fakes.escalation.add_to_ticket.calls == [{"marked": MarkedActivity(marked, ["198.51.100.7"])}]


async def test_mark_activity_with_no_number_means_all_was_known(fakes: Fakes) -> None:
    fakes.verification.mark_activity = Answers(None)
    done = await run(ActionMarkActivity(), tracker("all fine"))
    assert done.responses == ["utter_activity_all_known"]
    assert done.events == []


async def test_sign_out_everywhere_says_how_many_sessions_ended(fakes: Fakes) -> None:
    fakes.verification.sign_out_everywhere = Answers(3)
    fakes.escalation.add_to_ticket = AddedToTicket()
    done = await run(ActionSignOutEverywhere(), tracker())
    assert done.said("utter_signed_out")["count"] == "3"
    assert done.events == [SlotSet("sessions_revoked", 3.0)]
    assert fakes.escalation.add_to_ticket.calls == [{"sessions_revoked": 3}]  # added to the open ticket, if any


async def test_sign_out_everywhere_needs_a_verified_conversation(fakes: Fakes) -> None:
    fakes.verification.sign_out_everywhere = Answers(None)
    done = await run(ActionSignOutEverywhere(), tracker())
    assert_asked_to_verify(done, SlotSet("verify_step", "ask_email"))


async def test_send_password_link_sends_the_link(fakes: Fakes) -> None:
    fakes.verification.send_password_link = Answers(LinkSending(SecureLink.SENT, "https://bank.test/secure/p/x"))
    done = await run(ActionSendPasswordLink(), tracker())
    assert done.said("utter_password_link")["link"] == "https://bank.test/secure/p/x"
    assert done.events == [SlotSet("verify_step", "verified")]


async def test_send_password_link_asks_for_the_bound_factor_first(fakes: Fakes) -> None:
    fakes.verification.send_password_link = Answers(LinkSending(SecureLink.NEEDS_CURRENT_FACTOR))
    done = await run(ActionSendPasswordLink(), tracker())
    assert done.responses == ["utter_ask_current_factor"]
    assert done.events == [
        SlotSet("code_purpose", "second_factor_password"),
        SlotSet("verify_step", "needs_second_factor"),
    ]


async def test_send_password_link_asks_an_unverified_customer_to_verify(fakes: Fakes) -> None:
    fakes.verification.send_password_link = Answers(LinkSending(SecureLink.NOT_VERIFIED))
    done = await run(ActionSendPasswordLink(), tracker())
    assert_asked_to_verify(done, SlotSet("verify_step", "ask_email"))
