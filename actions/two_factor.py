"""TOTP two-factor enrollment walked through in chat, and step-up with the bound factor (issue 5):
each action asks ``TwoFactorService`` and says its outcome."""

from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import conversation_of
from actions.identity import Steps
from actions.named_action import NamedAction
from recoverydesk.services import bootstrap as services
from recoverydesk.services.two_factor import FactorCheck, FactorChecking
from recoverydesk.services.verification import SecureLink

# Verification comes first; the customer asks for two-factor again once verified.
TWO_FACTOR = Steps("factor_step", unverified="unverified", needs_factor="ask_current")


def refused(dispatcher: CollectingDispatcher, checking: FactorChecking) -> List[EventType]:
    """What the customer hears when the code was not checked or not accepted."""
    if checking.result is FactorCheck.NOT_VERIFIED:
        return TWO_FACTOR.ask_to_verify(dispatcher)
    if checking.result is FactorCheck.LOCKED:
        if checking.minutes:
            dispatcher.utter_message(response="utter_try_again_later", minutes=checking.minutes)
        return [SlotSet("factor_step", "offer_person")]
    dispatcher.utter_message(response="utter_totp_code_wrong")
    if checking.result is FactorCheck.WRONG_OFFER_PERSON:  # the rules then offer a person (utter_factor_locked)
        return [SlotSet("factor_step", "offer_person")]
    if checking.result is FactorCheck.WRONG_CHECK_CLOCK:
        dispatcher.utter_message(response="utter_totp_clock_hint")
    return [SlotSet("factor_step", "retry")]


class ActionSendTotpLink(NamedAction, action_name="action_send_totp_link"):
    """Explains authenticator apps and sends the enrollment page's link (10 minutes, once)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        sending = await services.current().two_factor.send_enrollment_link(
            tracker.sender_id, conversation_of(tracker).language
        )
        if sending.result is not SecureLink.SENT:
            return TWO_FACTOR.withhold_link(dispatcher, sending, "enrollment")
        dispatcher.utter_message(response="utter_totp_explain")
        dispatcher.utter_message(response="utter_totp_link", link=sending.link)
        return [SlotSet("code_purpose", "totp_enrollment"), SlotSet("factor_step", "link_sent")]


class ActionVerifyTotp(NamedAction, action_name="action_verify_totp"):
    """The first valid code from the new app activates it; the old seed stops working (TOTP-4)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        checking = await services.current().two_factor.activate(conversation_of(tracker))
        dispatcher.utter_message(response="utter_never_share_codes")
        if checking.result is FactorCheck.NOT_PENDING:
            dispatcher.utter_message(response="utter_totp_not_pending")
            return [SlotSet("factor_step", "retry")]
        if checking.result is not FactorCheck.ENROLLED:
            return refused(dispatcher, checking)
        dispatcher.utter_message(response="utter_totp_enabled")
        dispatcher.utter_message(response="utter_recovery_codes_link", link=checking.link)
        return [SlotSet("code_purpose", None), SlotSet("factor_step", "enrolled")]


class ActionVerifySecondFactor(NamedAction, action_name="action_verify_second_factor"):
    """Step-up: the current authenticator code, or one recovery code, makes the verification strong."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        checking = await services.current().two_factor.step_up(conversation_of(tracker))
        dispatcher.utter_message(response="utter_never_share_codes")
        if checking.result is not FactorCheck.STRONG:
            return refused(dispatcher, checking)
        if checking.recovery_codes_left is not None:
            dispatcher.utter_message(response="utter_recovery_code_used", left=str(checking.recovery_codes_left))
        return [SlotSet("code_purpose", None), SlotSet("factor_step", f"strong_for_{checking.purpose}")]
