"""The two-factor actions say what ``TwoFactorService`` decided, and set ``factor_step``."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.two_factor import ActionSendTotpLink, ActionVerifySecondFactor, ActionVerifyTotp
from recoverydesk.services.two_factor import FactorCheck, FactorChecking
from recoverydesk.services.verification import LinkSending, SecureLink
from tests.unit.actions.conftest import Answers, Fakes, assert_asked_to_verify, run, tracker


async def test_send_totp_link_explains_the_app_and_sends_the_link(fakes: Fakes) -> None:
    fakes.two_factor.send_enrollment_link = Answers(LinkSending(SecureLink.SENT, "https://bank.test/secure/totp/t"))
    done = await run(ActionSendTotpLink(), tracker(sender_id="c-5"))
    assert fakes.two_factor.send_enrollment_link.calls == [("c-5", "en")]
    assert done.responses == ["utter_totp_explain", "utter_totp_link"]
    assert done.said("utter_totp_link")["link"] == "https://bank.test/secure/totp/t"
    assert done.events == [SlotSet("code_purpose", "totp_enrollment"), SlotSet("factor_step", "link_sent")]


async def test_send_totp_link_asks_for_the_current_factor_when_one_is_bound(fakes: Fakes) -> None:
    fakes.two_factor.send_enrollment_link = Answers(LinkSending(SecureLink.NEEDS_CURRENT_FACTOR))
    done = await run(ActionSendTotpLink(), tracker())
    assert done.responses == ["utter_ask_current_factor"]
    assert done.events == [SlotSet("code_purpose", "second_factor_enrollment"), SlotSet("factor_step", "ask_current")]


async def test_send_totp_link_asks_an_unverified_customer_to_verify(fakes: Fakes) -> None:
    fakes.two_factor.send_enrollment_link = Answers(LinkSending(SecureLink.NOT_VERIFIED))
    done = await run(ActionSendTotpLink(), tracker())
    assert_asked_to_verify(done, SlotSet("factor_step", "unverified"))


async def test_verify_totp_enrolled_sends_the_recovery_codes_link(fakes: Fakes) -> None:
    fakes.two_factor.activate = Answers(FactorChecking(FactorCheck.ENROLLED, link="https://bank.test/secure/rc/r"))
    done = await run(ActionVerifyTotp(), tracker("[code]", slots={"code_purpose": "totp_enrollment"}))
    (conversation,) = fakes.two_factor.activate.calls[0]
    assert conversation.slot("code_purpose") == "totp_enrollment"
    assert done.responses == ["utter_never_share_codes", "utter_totp_enabled", "utter_recovery_codes_link"]
    assert done.said("utter_recovery_codes_link")["link"] == "https://bank.test/secure/rc/r"
    assert done.events == [SlotSet("code_purpose", None), SlotSet("factor_step", "enrolled")]


async def test_verify_totp_without_a_pending_enrollment_says_so(fakes: Fakes) -> None:
    fakes.two_factor.activate = Answers(FactorChecking(FactorCheck.NOT_PENDING))
    done = await run(ActionVerifyTotp(), tracker("[code]"))
    assert done.responses == ["utter_never_share_codes", "utter_totp_not_pending"]
    assert done.events == [SlotSet("factor_step", "retry")]


async def test_a_wrong_code_is_answered_by_how_often_it_failed(fakes: Fakes) -> None:
    expected = {
        FactorCheck.WRONG: (["utter_never_share_codes", "utter_totp_code_wrong"], "retry"),
        FactorCheck.WRONG_CHECK_CLOCK: (
            ["utter_never_share_codes", "utter_totp_code_wrong", "utter_totp_clock_hint"],
            "retry",
        ),
        FactorCheck.WRONG_OFFER_PERSON: (["utter_never_share_codes", "utter_totp_code_wrong"], "offer_person"),
    }
    for action, method in ((ActionVerifyTotp(), "activate"), (ActionVerifySecondFactor(), "step_up")):
        for result, (responses, step) in expected.items():
            setattr(fakes.two_factor, method, Answers(FactorChecking(result)))
            done = await run(action, tracker("[code]"))
            assert (done.responses, done.events) == (responses, [SlotSet("factor_step", step)]), (method, result)


async def test_a_locked_factor_offers_a_person_and_names_the_wait_when_there_is_one(fakes: Fakes) -> None:
    for action, method in ((ActionVerifyTotp(), "activate"), (ActionVerifySecondFactor(), "step_up")):
        setattr(fakes.two_factor, method, Answers(FactorChecking(FactorCheck.LOCKED, minutes="4")))
        done = await run(action, tracker("[code]"))
        assert done.said("utter_try_again_later")["minutes"] == "4"
        assert done.events == [SlotSet("factor_step", "offer_person")]
        setattr(fakes.two_factor, method, Answers(FactorChecking(FactorCheck.LOCKED)))
        done = await run(action, tracker("[code]"))
        assert done.responses == ["utter_never_share_codes"]
        assert done.events == [SlotSet("factor_step", "offer_person")]


async def test_checking_a_code_in_an_unverified_conversation_asks_for_the_email(fakes: Fakes) -> None:
    for action, method in ((ActionVerifyTotp(), "activate"), (ActionVerifySecondFactor(), "step_up")):
        setattr(fakes.two_factor, method, Answers(FactorChecking(FactorCheck.NOT_VERIFIED)))
        done = await run(action, tracker("[code]"))
        assert done.responses == ["utter_never_share_codes", "utter_ask_email"]
        assert done.events == [SlotSet("factor_step", "unverified")]


async def test_step_up_for_a_password_reset_says_strong_for_password(fakes: Fakes) -> None:
    fakes.two_factor.step_up = Answers(FactorChecking(FactorCheck.STRONG, purpose="password"))
    done = await run(ActionVerifySecondFactor(), tracker("[code]", slots={"code_purpose": "second_factor_password"}))
    assert done.responses == ["utter_never_share_codes"]
    assert done.events == [SlotSet("code_purpose", None), SlotSet("factor_step", "strong_for_password")]


async def test_step_up_with_a_recovery_code_says_how_many_are_left(fakes: Fakes) -> None:
    fakes.two_factor.step_up = Answers(FactorChecking(FactorCheck.STRONG, purpose="enrollment", recovery_codes_left=9))
    done = await run(ActionVerifySecondFactor(), tracker("[recovery code]"))
    assert done.responses == ["utter_never_share_codes", "utter_recovery_code_used"]
    assert done.said("utter_recovery_code_used")["left"] == "9"
    assert done.events == [SlotSet("code_purpose", None), SlotSet("factor_step", "strong_for_enrollment")]
