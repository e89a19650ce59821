"""Proving who the customer is, reviewing their activity and securing the account (issue 4):
each action asks ``VerificationService`` and says its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import conversation_of
from actions.named_action import NamedAction
from recoverydesk.domain.accounts import ActivityEvent, parse_time
from recoverydesk.services import bootstrap as services
from recoverydesk.services.verification import Checking, CodeSending, LinkSending, SecureLink, Sending

_EVENT_WORDS = {
    "login": "Sign-in",
    "password_change": "Password changed",
    "email_change": "Email address changed",
    "phone_change": "Phone number changed",
    "mfa_change": "Two-factor settings changed",
    "transaction": "Payment",
    "profile_change": "Profile changed",
}


@dataclass(frozen=True)
class Steps:
    """A flow's step slot, and the steps it waits at for verification and for the bound factor."""

    slot: str
    unverified: str
    needs_factor: str

    def ask_to_verify(self, dispatcher: CollectingDispatcher) -> List[EventType]:
        """Nothing about the account is shown or changed before the customer is verified."""
        dispatcher.utter_message(response="utter_ask_email")
        return [SlotSet(self.slot, self.unverified)]

    def withhold_link(self, dispatcher: CollectingDispatcher, sending: LinkSending, purpose: str) -> List[EventType]:
        """IDV-3: a secure link needs verification; with a factor already bound, that factor as well."""
        if sending.result is SecureLink.NOT_VERIFIED:
            return self.ask_to_verify(dispatcher)
        dispatcher.utter_message(response="utter_ask_current_factor")
        return [SlotSet("code_purpose", f"second_factor_{purpose}"), SlotSet(self.slot, self.needs_factor)]


VERIFICATION = Steps("verify_step", unverified="ask_email", needs_factor="needs_second_factor")


def say_sent(dispatcher: CollectingDispatcher, sending: CodeSending) -> None:
    """Whether the mail server answers, said alike for every address (IDV-6)."""
    if sending.result is Sending.SENT:
        dispatcher.utter_message(response="utter_code_sent")
    else:
        dispatcher.utter_message(response="utter_code_not_sent", support_phone=sending.support_phone)


class ActionStartVerification(NamedAction, action_name="action_start_verification"):
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        verified = await services.current().verification.is_verified(tracker.sender_id)
        return [SlotSet("verify_step", "verified" if verified else "ask_email")]


class ActionSendCode(NamedAction, action_name="action_send_code"):
    """Same reply, status and timing for known, unknown, locked and MFA accounts (IDV-6)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        sending = await services.current().verification.send_code(
            tracker.sender_id, (tracker.latest_message or {}).get("text") or "", conversation_of(tracker).language
        )
        if sending.result is Sending.NO_ADDRESS:
            dispatcher.utter_message(response="utter_email_not_understood")
            return [SlotSet("verify_step", "ask_email")]
        if sending.result is Sending.TOO_MANY:
            dispatcher.utter_message(response="utter_too_many_codes", minutes=sending.minutes)
            return [SlotSet("verify_step", "code_sent")]
        if sending.result is Sending.CONTACTS_CHANGED:
            dispatcher.utter_message(response="utter_contact_recently_changed")
            return [SlotSet("verify_step", "needs_person")]
        say_sent(dispatcher, sending)
        return [SlotSet("verify_step", "code_sent"), SlotSet("code_purpose", "email")]


class ActionResendCode(NamedAction, action_name="action_resend_code"):
    """A resend replaces the old code and keeps the failure count (IDV-5)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = conversation_of(tracker).language
        sending = await services.current().verification.resend_code(tracker.sender_id, language)
        if sending.result is Sending.NOT_PENDING:
            return VERIFICATION.ask_to_verify(dispatcher)
        if sending.result is Sending.TOO_MANY:
            dispatcher.utter_message(response="utter_too_many_codes", minutes=sending.minutes)
            return []
        say_sent(dispatcher, sending)
        return []


# What the customer hears once a code is checked, and the step the verification moves to.
CHECKED = {
    Checking.ACCEPTED: ("utter_verified", "verified"),
    Checking.LOCKED: ("utter_locked_needs_person", "needs_person"),
    Checking.EXPIRED: ("utter_code_expired", "code_sent"),
}
WRONG_CODE = ("utter_code_wrong", "code_sent")  # any other outcome


class ActionVerifyCode(NamedAction, action_name="action_verify_code"):
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        checking = await services.current().verification.check_code(conversation_of(tracker))
        dispatcher.utter_message(response="utter_never_share_codes")
        if checking.result is Checking.NOT_PENDING:
            return VERIFICATION.ask_to_verify(dispatcher)
        if checking.result is Checking.WAIT:
            dispatcher.utter_message(response="utter_try_again_later", minutes=checking.minutes)
            return [SlotSet("verify_step", "code_sent")]
        response, step = CHECKED.get(checking.result, WRONG_CODE)
        dispatcher.utter_message(response=response)
        if checking.result is Checking.ACCEPTED:  # the open ticket, if any, learns who the customer is
            await services.current().escalation.add_to_ticket(conversation_of(tracker))
        return [SlotSet("verify_step", step)]


def describe(event: ActivityEvent) -> dict[str, str]:
    """The ``utter_activity_line`` values for one event."""
    when = parse_time(event.at).strftime("%d %b, %H:%M UTC")
    what = _EVENT_WORDS[event.kind]
    where = ", ".join(p for p in (event.place, event.device, f"IP {event.ip}" if event.ip else None) if p)
    return {"when": when, "what": event.detail or what, "where": where or "place unknown"}


class ActionReviewActivity(NamedAction, action_name="action_review_activity"):
    """Lists recent sign-ins and changes in plain words; the customer marks what wasn't them."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        review = await services.current().verification.review_activity(tracker.sender_id)
        if not review.verified:
            return VERIFICATION.ask_to_verify(dispatcher)
        if not review.events:
            dispatcher.utter_message(response="utter_no_recent_activity")
            return [SlotSet("activity_listed", [])]
        dispatcher.utter_message(response="utter_activity_intro")
        for number, event in enumerate(review.events, start=1):
            dispatcher.utter_message(response="utter_activity_line", number=str(number), **describe(event))
        dispatcher.utter_message(response="utter_ask_activity_not_me")
        return [SlotSet("activity_listed", [e.id for e in review.events])]


class ActionMarkActivity(NamedAction, action_name="action_mark_activity"):
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        marked = await services.current().verification.mark_activity(
            tracker.sender_id,
            tracker.get_slot("activity_listed") or [],
            (tracker.latest_message or {}).get("text") or "",
        )
        if marked is None:
            dispatcher.utter_message(response="utter_activity_all_known")
            return []
        dispatcher.utter_message(response="utter_activity_marked", count=str(len(marked.events)))
        await services.current().escalation.add_to_ticket(conversation_of(tracker), marked=marked)
        return [SlotSet("reported_activity", marked.events), SlotSet("suspicious_ips", marked.ips)]


class ActionSignOutEverywhere(NamedAction, action_name="action_sign_out_everywhere"):
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        count = await services.current().verification.sign_out_everywhere(tracker.sender_id)
        if count is None:
            return VERIFICATION.ask_to_verify(dispatcher)
        dispatcher.utter_message(response="utter_signed_out", count=str(count))
        await services.current().escalation.add_to_ticket(conversation_of(tracker), sessions_revoked=count)
        return [SlotSet("sessions_revoked", float(count))]


class ActionSendPasswordLink(NamedAction, action_name="action_send_password_link"):
    """IDV-3: basic is enough without a second factor; with one, the factor is asked for first."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        sending = await services.current().verification.send_password_link(
            tracker.sender_id, conversation_of(tracker).language
        )
        if sending.result is not SecureLink.SENT:
            return VERIFICATION.withhold_link(dispatcher, sending, "password")
        dispatcher.utter_message(response="utter_password_link", link=sending.link)
        return [SlotSet("verify_step", "verified")]
