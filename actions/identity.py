"""Proving who the customer is, reviewing their activity and securing the account (issue 4).

The bot never asks for a secret: a 6-digit code goes to the registered address, and the
password is typed only on the secure page. Trust lives in Redis (``VerificationStore``)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from redis.exceptions import RedisError

from actions.crisis import record_contact
from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.one_time_codes import CODE_TTL_SECONDS, CodeCheck
from recoverydesk.adapters.rate_limits import RateLimited
from recoverydesk.domain.accounts import (
    EMAIL_IN_TEXT,
    Account,
    ActivityEvent,
    contacts_changed_since,
    normalise_email,
    parse_time,
)
from recoverydesk.domain.signing import derive_key
from recoverydesk.services import bootstrap as services
from recoverydesk.services.notices import support_phone

log = logging.getLogger("recoverydesk.identity")
CONTACT_TRUST_DAYS = 30
REVIEW_DAYS = 30
_background: set[asyncio.Task] = set()


def minutes(seconds: Optional[int]) -> str:
    return str(max(1, round((seconds or 0) / 60)))


def run_later(coroutine: Any) -> None:
    """Runs mail off the reply path, so a reply takes as long whether or not the address exists (IDV-6)."""
    task = asyncio.get_event_loop().create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def _mail_code(account: Account, code: str) -> None:
    """Into the durable outbox: retried while the mail server is down, dropped when the code expires."""
    try:
        await services.current().mail.queue(
            [account.email],
            messages.text("utter_email_code_subject"),
            messages.text("utter_email_code_body", code=code, minutes="10"),
            ttl_seconds=CODE_TTL_SECONDS,
        )
    except RedisError as exc:
        log.warning("identity.code_mail_not_queued", extra={"kind": type(exc).__name__})


async def _tell_code_sent(dispatcher: CollectingDispatcher) -> None:
    """Whether the mail server answers, said alike for every address (IDV-6)."""
    if await services.current().mail.available():
        dispatcher.utter_message(response="utter_code_sent")
    else:
        dispatcher.utter_message(response="utter_code_not_sent", support_phone=support_phone())


NOBODY = "nobody:"


def _nobody(address: str) -> str:
    """Stands in for an account when an address has none: counted and limited the same way, never accepted."""
    key = derive_key(services.current().settings.secret_key, "unknown-address")
    return NOBODY + hmac.new(key, normalise_email(address).encode(), hashlib.sha256).hexdigest()[:32]


def ask_to_verify(dispatcher: CollectingDispatcher) -> List[EventType]:
    """Nothing about the account is shown or changed before the customer is verified."""
    dispatcher.utter_message(response="utter_ask_email")
    return [SlotSet("verify_step", "ask_email")]


def ask_for_current_factor(dispatcher: CollectingDispatcher, purpose: str) -> EventType:
    """IDV-3: with a factor already bound, a reset or re-enrollment first needs that factor."""
    dispatcher.utter_message(response="utter_ask_current_factor")
    return SlotSet("code_purpose", f"second_factor_{purpose}")


class ActionStartVerification(Action):
    def name(self) -> Text:
        return "action_start_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        verified = await services.current().verification.get(tracker.sender_id)
        return [SlotSet("verify_step", "verified" if verified.at_least("basic") else "ask_email")]


class ActionSendCode(Action):
    """Same reply, status and timing for known, unknown, locked and MFA accounts (IDV-6)."""

    def name(self) -> Text:
        return "action_send_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        found = EMAIL_IN_TEXT.search(tracker.latest_message.get("text") or "")
        if not found:
            dispatcher.utter_message(response="utter_email_not_understood")
            return [SlotSet("verify_step", "ask_email")]
        s = services.current()
        try:
            await s.sends_per_conversation.take(tracker.sender_id)
        except RateLimited as limited:
            dispatcher.utter_message(response="utter_too_many_codes", minutes=minutes(limited.retry_after))
            return [SlotSet("verify_step", "code_sent")]
        account = await s.directory.store.by_email(found.group(0))
        if account is not None:
            since = datetime.now(timezone.utc) - timedelta(days=CONTACT_TRUST_DAYS)
            if contacts_changed_since(await s.directory.store.events(account.ref, since), since):
                dispatcher.utter_message(response="utter_contact_recently_changed")
                return [SlotSet("verify_step", "needs_person")]
        subject = account.ref if account else _nobody(found.group(0))
        await s.verification.set_pending(tracker.sender_id, subject)
        try:
            await s.sends_per_account.take(subject)  # counted alike for every address, so later resends match
            if account is not None:
                run_later(_mail_code(account, await s.codes.issue(account.ref, tracker.sender_id)))
        except RateLimited:
            log.info("identity.account_send_limit")
        await _tell_code_sent(dispatcher)
        return [SlotSet("verify_step", "code_sent"), SlotSet("code_purpose", "email")]


class ActionResendCode(Action):
    """A resend replaces the old code and keeps the failure count (IDV-5)."""

    def name(self) -> Text:
        return "action_resend_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        s = services.current()
        pending = await s.verification.pending(tracker.sender_id)
        if pending is None:
            return ask_to_verify(dispatcher)
        try:
            await s.sends_per_conversation.take(tracker.sender_id)
            if pending:
                await s.sends_per_account.take(pending)
                account = await s.directory.store.get(pending)
                if account is not None:
                    run_later(_mail_code(account, await s.codes.issue(pending, tracker.sender_id)))
        except RateLimited as limited:
            dispatcher.utter_message(response="utter_too_many_codes", minutes=minutes(limited.retry_after))
            return []
        await _tell_code_sent(dispatcher)
        return []


class ActionVerifyCode(Action):
    def name(self) -> Text:
        return "action_verify_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        s = services.current()
        code = await s.inbox.take(tracker.sender_id)
        pending = await s.verification.pending(tracker.sender_id)
        dispatcher.utter_message(response="utter_never_share_codes")
        if pending is None:
            return ask_to_verify(dispatcher)
        try:  # an address with no account is counted too, so it locks exactly like a real one (IDV-6)
            await s.failures.check("email_code", pending)
        except RateLimited as limited:
            if limited.retry_after is None:
                dispatcher.utter_message(response="utter_locked_needs_person")
                return [SlotSet("verify_step", "needs_person")]
            dispatcher.utter_message(response="utter_try_again_later", minutes=minutes(limited.retry_after))
            return [SlotSet("verify_step", "code_sent")]
        outcome = (
            CodeCheck.WRONG if pending.startswith(NOBODY) else await s.codes.check(pending, tracker.sender_id, code)
        )
        if outcome is CodeCheck.ACCEPTED:
            await s.failures.succeeded("email_code", pending)
            await s.verification.grant(tracker.sender_id, pending, "basic", "email_code")
            await record_contact(tracker)  # the daily report counts verification outcomes
            dispatcher.utter_message(response="utter_verified")
            return [SlotSet("verify_step", "verified")]
        if outcome is CodeCheck.EXPIRED:
            dispatcher.utter_message(response="utter_code_expired")
            return [SlotSet("verify_step", "code_sent")]
        await s.failures.failed("email_code", pending)
        dispatcher.utter_message(response="utter_code_wrong")
        return [SlotSet("verify_step", "code_sent")]


def describe(event: ActivityEvent) -> dict[str, str]:
    when = parse_time(event.at).strftime("%d %b, %H:%M UTC")
    what = {
        "login": "Sign-in",
        "password_change": "Password changed",
        "email_change": "Email address changed",
        "phone_change": "Phone number changed",
        "mfa_change": "Two-factor settings changed",
        "transaction": "Payment",
        "profile_change": "Profile changed",
    }[event.kind]
    where = ", ".join(p for p in (event.place, event.device, f"IP {event.ip}" if event.ip else None) if p)
    return {"when": when, "what": event.detail or what, "where": where or "place unknown"}


class ActionReviewActivity(Action):
    """Lists recent sign-ins and changes in plain words; the customer marks what wasn't them."""

    def name(self) -> Text:
        return "action_review_activity"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        s = services.current()
        verified = await s.verification.get(tracker.sender_id)
        if not verified.at_least("basic") or verified.account_ref is None:
            return ask_to_verify(dispatcher)
        since = datetime.now(timezone.utc) - timedelta(days=REVIEW_DAYS)
        events = await s.directory.store.events(verified.account_ref, since, limit=8)
        if not events:
            dispatcher.utter_message(response="utter_no_recent_activity")
            return [SlotSet("activity_listed", [])]
        dispatcher.utter_message(response="utter_activity_intro")
        for number, event in enumerate(events, start=1):
            dispatcher.utter_message(response="utter_activity_line", number=str(number), **describe(event))
        dispatcher.utter_message(response="utter_ask_activity_not_me")
        return [SlotSet("activity_listed", [e.id for e in events])]


class ActionMarkActivity(Action):
    def name(self) -> Text:
        return "action_mark_activity"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        s = services.current()
        listed: list[str] = tracker.get_slot("activity_listed") or []
        numbers = {int(n) for n in re.findall(r"\b\d{1,2}\b", tracker.latest_message.get("text") or "")}
        chosen = [listed[n - 1] for n in sorted(numbers) if 0 < n <= len(listed)]
        verified = await s.verification.get(tracker.sender_id)
        if not chosen or verified.account_ref is None:
            dispatcher.utter_message(response="utter_activity_all_known")
            return []
        events = {e.id: e for e in await s.directory.store.events(verified.account_ref, limit=50)}
        marked = [events[i].to_dict() for i in chosen if i in events]
        ips = sorted({e["ip"] for e in marked if e.get("ip")})
        dispatcher.utter_message(response="utter_activity_marked", count=str(len(marked)))
        return [SlotSet("reported_activity", marked), SlotSet("suspicious_ips", ips)]


class ActionSignOutEverywhere(Action):
    def name(self) -> Text:
        return "action_sign_out_everywhere"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        s = services.current()
        verified = await s.verification.get(tracker.sender_id)
        if not verified.at_least("basic") or verified.account_ref is None:
            return ask_to_verify(dispatcher)
        count = await s.directory.sessions.revoke_all(verified.account_ref)
        dispatcher.utter_message(response="utter_signed_out", count=str(count))
        return [SlotSet("sessions_revoked", float(count))]


class ActionSendPasswordLink(Action):
    """IDV-3: basic is enough without a second factor; with one, the factor is asked for first."""

    def name(self) -> Text:
        return "action_send_password_link"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        s = services.current()
        verified = await s.verification.get(tracker.sender_id)
        account = await s.directory.store.get(verified.account_ref) if verified.account_ref else None
        if account is None or not verified.at_least("basic"):
            return ask_to_verify(dispatcher)
        if account.has_totp and not verified.at_least("strong"):
            return [ask_for_current_factor(dispatcher, "password"), SlotSet("verify_step", "needs_second_factor")]
        link = await s.links.issue(account.ref, tracker.sender_id, "password")
        dispatcher.utter_message(response="utter_password_link", link=link)
        return [SlotSet("verify_step", "verified")]
