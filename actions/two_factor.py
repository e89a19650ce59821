"""TOTP two-factor enrollment walked through in chat, and step-up with the bound factor (issue 5).

The seed is shown only on the secure page; the customer types the app's 6-digit code into the
chat, where the channel seals it away (``CodeInbox``) before Rasa sees the message."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from redis.exceptions import RedisError

from actions.crisis import record_contact
from actions.identity import ask_for_current_factor, minutes, run_later
from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.rate_limits import FREE_FAILURES, RateLimited
from recoverydesk.adapters.totp_store import Enrollment
from recoverydesk.domain.accounts import Account, new_event
from recoverydesk.services import bootstrap as services

log = logging.getLogger("recoverydesk.two_factor")
FACTOR = "totp"  # one failure counter for every check of the second factor (RL-1)
CLOCK_HINT_AFTER = 2


async def _notify_enabled(account: Account) -> None:
    when = datetime.now(timezone.utc).strftime("%d %B %Y at %H:%M UTC")
    try:
        await services.current().mail.queue(
            account.notify_addresses(),
            messages.text("utter_email_totp_enabled_subject"),
            messages.text("utter_email_totp_enabled_body", when=when, channel="the recovery chat"),
        )
    except RedisError as exc:
        log.warning("two_factor.enabled_mail_not_queued", extra={"kind": type(exc).__name__})


def ask_to_verify(dispatcher: CollectingDispatcher) -> List[EventType]:
    """Verification comes first; the customer asks for two-factor again once verified."""
    dispatcher.utter_message(response="utter_ask_email")
    return [SlotSet("factor_step", "unverified")]


async def _verified_account(tracker: Tracker) -> tuple[Optional[Account], bool]:
    """The conversation's verified account (``basic`` at least) and whether the level is ``strong``."""
    s = services.current()
    verified = await s.verification.get(tracker.sender_id)
    if verified.account_ref is None or not verified.at_least("basic"):
        return None, False
    return await s.directory.store.get(verified.account_ref), verified.at_least("strong")


async def _count_failure(dispatcher: CollectingDispatcher, ref: str) -> List[EventType]:
    failures = await services.current().failures.failed(FACTOR, ref)
    dispatcher.utter_message(response="utter_totp_code_wrong")
    if failures >= FREE_FAILURES:  # the rules then offer a person (utter_factor_locked)
        return [SlotSet("factor_step", "offer_person")]
    if failures >= CLOCK_HINT_AFTER:
        dispatcher.utter_message(response="utter_totp_clock_hint")
    return [SlotSet("factor_step", "retry")]


async def _account_to_check(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> tuple[Optional[Account], List[EventType]]:
    """The verified account whose factor may be checked now, or the events that say why not."""
    dispatcher.utter_message(response="utter_never_share_codes")
    account, _ = await _verified_account(tracker)
    if account is None:
        return None, ask_to_verify(dispatcher)
    try:
        await services.current().failures.check(FACTOR, account.ref)
    except RateLimited as limited:
        if limited.retry_after is not None:
            dispatcher.utter_message(response="utter_try_again_later", minutes=minutes(limited.retry_after))
        return None, [SlotSet("factor_step", "offer_person")]
    return account, []


class ActionSendTotpLink(Action):
    """Explains authenticator apps and sends the enrollment page's link (10 minutes, once)."""

    def name(self) -> Text:
        return "action_send_totp_link"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        account, strong = await _verified_account(tracker)
        if account is None:
            return ask_to_verify(dispatcher)
        if account.has_totp and not strong:
            return [ask_for_current_factor(dispatcher, "enrollment"), SlotSet("factor_step", "ask_current")]
        link = await services.current().links.issue(account.ref, tracker.sender_id, "totp")
        dispatcher.utter_message(response="utter_totp_explain")
        dispatcher.utter_message(response="utter_totp_link", link=link)
        return [SlotSet("code_purpose", "totp_enrollment"), SlotSet("factor_step", "link_sent")]


class ActionVerifyTotp(Action):
    """The first valid code from the new app activates it; the old seed stops working (TOTP-4)."""

    def name(self) -> Text:
        return "action_verify_totp"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        s = services.current()
        code = await s.inbox.take(tracker.sender_id) or ""
        account, refused = await _account_to_check(dispatcher, tracker)
        if account is None:
            return refused
        outcome = await s.totp.activate(account.ref, code)
        if outcome is Enrollment.NOT_PENDING:
            dispatcher.utter_message(response="utter_totp_not_pending")
            return [SlotSet("factor_step", "retry")]
        if outcome is Enrollment.WRONG_CODE:
            return await _count_failure(dispatcher, account.ref)
        await s.failures.succeeded(FACTOR, account.ref)
        await s.verification.grant(tracker.sender_id, account.ref, "strong", "totp")
        await record_contact(tracker)
        enrolled = new_event("mfa_change", detail="Authenticator app set up through the recovery chat")
        await s.directory.store.add_event(account.ref, enrolled)
        await s.directory.recovered(account.ref)
        run_later(_notify_enabled(account))
        link = await s.links.issue(account.ref, tracker.sender_id, "recovery-codes")
        dispatcher.utter_message(response="utter_totp_enabled")
        dispatcher.utter_message(response="utter_recovery_codes_link", link=link)
        log.info("two_factor.enrolled")
        return [SlotSet("code_purpose", None), SlotSet("factor_step", "enrolled")]


class ActionVerifySecondFactor(Action):
    """Step-up: the current authenticator code, or one recovery code, makes the verification strong."""

    def name(self) -> Text:
        return "action_verify_second_factor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        s = services.current()
        code = await s.inbox.take(tracker.sender_id)
        recovery_code = await s.inbox.take(tracker.sender_id, kind="recovery_code")
        account, refused = await _account_to_check(dispatcher, tracker)
        if account is None:
            return refused
        if recovery_code is not None:
            method = "recovery_code"
            accepted = await s.totp.use_recovery_code(account.ref, recovery_code)
        else:
            method = "totp"
            accepted = await s.totp.verify(account.ref, code or "")
        if not accepted:
            return await _count_failure(dispatcher, account.ref)
        await s.failures.succeeded(FACTOR, account.ref)
        await s.verification.grant(tracker.sender_id, account.ref, "strong", method)
        if method == "recovery_code":
            left = await s.totp.recovery_codes_left(account.ref)
            dispatcher.utter_message(response="utter_recovery_code_used", left=str(left))
        purpose = "password" if tracker.get_slot("code_purpose") == "second_factor_password" else "enrollment"
        return [SlotSet("code_purpose", None), SlotSet("factor_step", f"strong_for_{purpose}")]
