"""VerificationService with in-memory fakes: same outcome for known and unknown addresses (IDV-6),
sending limits, lockout, the recent-contact-change hold, and what a verified conversation may do."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest

from recoverydesk.adapters.one_time_codes import CodeCheck
from recoverydesk.adapters.rate_limits import FREE_FAILURES, HARD_LIMIT, RateLimited
from recoverydesk.domain.accounts import Account, ActivityEvent
from recoverydesk.domain.conversation import Conversation
from recoverydesk.services.verification import (
    Checking,
    SecureLink,
    Sending,
    Verification,
    VerificationService,
)
from tests.unit.services.fakes import FakeAccounts, FakeDesk

ANA = Account(ref="acc-ana", email="ana@example.test", name="Ana Lima", created_at="2023-01-01T00:00:00Z")


def ago(days: float) -> str:
    moment = datetime.now(timezone.utc) - timedelta(days=days)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class FakeCodes:
    def __init__(self) -> None:
        self.live: dict[tuple[str, str], str] = {}
        self.issued = 0

    async def issue(self, account_ref: str, conversation_id: str) -> str:
        self.issued += 1
        code = f"{100000 + self.issued}"
        self.live[(account_ref, conversation_id)] = code
        return code

    async def check(self, account_ref: str, conversation_id: str, code: Optional[str]) -> CodeCheck:
        live = self.live.get((account_ref, conversation_id))
        if live is None:
            return CodeCheck.EXPIRED
        if code is None or not hmac.compare_digest(live, code):
            return CodeCheck.WRONG
        del self.live[(account_ref, conversation_id)]
        return CodeCheck.ACCEPTED


class FakeLimit:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken: list[str] = []

    async def take(self, subject: str) -> None:
        if self.taken.count(subject) >= self.limit:
            raise RateLimited(600)
        self.taken.append(subject)


@dataclass
class Desk(FakeDesk):
    """A VerificationService over fakes, with the fakes at hand."""

    accounts: FakeAccounts = field(default_factory=lambda: FakeAccounts(ANA))
    codes: FakeCodes = field(default_factory=FakeCodes)
    per_account: FakeLimit = field(default_factory=lambda: FakeLimit(3))
    per_conversation: FakeLimit = field(default_factory=lambda: FakeLimit(5))

    def service(self) -> VerificationService:
        return self.wire(
            VerificationService,
            sessions=self.accounts,
            sends_per_account=self.per_account,
            sends_per_conversation=self.per_conversation,
            unknown_address_key=b"k" * 32,
            support_phone="+1 555 0100",
        )


@pytest.fixture
def desk() -> Desk:
    return Desk()


async def test_known_and_unknown_addresses_get_the_same_outcome_and_count(desk: Desk) -> None:
    service = desk.service()
    known = await service.send_code("c-known", "my email is ANA@example.test")
    unknown = await service.send_code("c-unknown", "my email is bob@example.test")
    await desk.background.drain()
    assert known == unknown
    assert known.result is Sending.SENT
    assert desk.per_conversation.taken == ["c-known", "c-unknown"]
    assert len(desk.per_account.taken) == 2 and desk.per_account.taken[0] == "acc-ana"
    assert desk.verifications.pendings["c-unknown"].startswith("nobody:")
    assert [m["to"] for m in desk.mail.queued] == [["ana@example.test"]]
    assert desk.codes.live[("acc-ana", "c-known")] in desk.mail.queued[0]["body"]
    assert desk.mail.queued[0]["ttl_seconds"] == 600  # an expired code is not worth sending


async def test_the_same_unknown_address_always_stands_for_the_same_nobody(desk: Desk) -> None:
    service = desk.service()
    await service.send_code("c-1", "bob@example.test")
    await service.send_code("c-2", "Bob@Example.test ")
    assert desk.verifications.pendings["c-1"] == desk.verifications.pendings["c-2"]


async def test_a_message_without_an_address_is_not_counted(desk: Desk) -> None:
    sending = await desk.service().send_code("c-1", "I forgot it")
    assert sending.result is Sending.NO_ADDRESS
    assert desk.per_conversation.taken == [] and desk.verifications.pendings == {}


async def test_the_conversations_sending_limit_names_the_wait(desk: Desk) -> None:
    desk.per_conversation = FakeLimit(1)
    service = desk.service()
    await service.send_code("c-1", "ana@example.test")
    sending = await service.send_code("c-1", "ana@example.test")
    assert (sending.result, sending.minutes) == (Sending.TOO_MANY, "10")


async def test_the_accounts_sending_limit_is_silent_and_sends_nothing_more(desk: Desk) -> None:
    desk.per_account = FakeLimit(1)
    service = desk.service()
    await service.send_code("c-1", "ana@example.test")
    again = await service.send_code("c-2", "ana@example.test")
    await desk.background.drain()
    assert again.result is Sending.SENT
    assert len(desk.mail.queued) == 1


async def test_a_recently_changed_contact_is_not_trusted_with_a_code(desk: Desk) -> None:
    desk.accounts.history["acc-ana"] = [ActivityEvent("ev-1", "email_change", ago(3))]
    sending = await desk.service().send_code("c-1", "ana@example.test")
    await desk.background.drain()
    assert sending.result is Sending.CONTACTS_CHANGED
    assert desk.verifications.pendings == {} and desk.mail.queued == []


async def test_a_contact_change_older_than_30_days_is_trusted(desk: Desk) -> None:
    desk.accounts.history["acc-ana"] = [ActivityEvent("ev-1", "phone_change", ago(45))]
    assert (await desk.service().send_code("c-1", "ana@example.test")).result is Sending.SENT


async def test_a_mail_server_that_does_not_answer_is_said_with_the_phone_number(desk: Desk) -> None:
    desk.mail.up = False
    sending = await desk.service().send_code("c-1", "ana@example.test")
    await desk.background.drain()
    assert (sending.result, sending.support_phone) == (Sending.MAIL_DOWN, "+1 555 0100")
    assert len(desk.mail.queued) == 1  # queued all the same: the outbox retries


async def test_the_right_code_verifies_the_conversation_and_records_the_contact(desk: Desk) -> None:
    service = desk.service()
    await service.send_code("c-1", "ana@example.test")
    await desk.failures.failed("email_code", "acc-ana")
    desk.inbox.put("c-1", desk.codes.live[("acc-ana", "c-1")])
    checking = await service.check_code(Conversation("c-1", slots={"verify_step": "code_sent"}))
    assert checking.result is Checking.ACCEPTED
    assert desk.verifications.granted["c-1"] == Verification("acc-ana", "basic", ["email_code"])
    assert desk.failures.counts == {}
    ((contact, _),) = desk.contacts.saved
    assert (contact.conversation_id, contact.verification) == ("c-1", "basic")


async def test_a_wrong_code_is_counted_and_locks_after_the_free_failures(desk: Desk) -> None:
    service = desk.service()
    await service.send_code("c-1", "ana@example.test")
    for _ in range(FREE_FAILURES):
        desk.inbox.put("c-1", "000000")
        assert (await service.check_code(Conversation("c-1"))).result is Checking.WRONG
    desk.inbox.put("c-1", desk.codes.live[("acc-ana", "c-1")])
    checking = await service.check_code(Conversation("c-1"))
    assert (checking.result, checking.minutes) == (Checking.WAIT, "2")
    assert "c-1" not in desk.verifications.granted


async def test_at_the_hard_limit_a_person_must_unlock(desk: Desk) -> None:
    service = desk.service()
    await service.send_code("c-1", "ana@example.test")
    desk.failures.counts[("email_code", "acc-ana")] = HARD_LIMIT
    assert (await service.check_code(Conversation("c-1"))).result is Checking.LOCKED


async def test_an_unknown_address_never_verifies_but_locks_like_a_real_one(desk: Desk) -> None:
    service = desk.service()
    await service.send_code("c-1", "bob@example.test")
    nobody = desk.verifications.pendings["c-1"]
    desk.inbox.put("c-1", "123456")
    assert (await service.check_code(Conversation("c-1"))).result is Checking.WRONG
    assert desk.failures.counts[("email_code", nobody)] == 1
    assert desk.verifications.granted == {}


async def test_no_live_code_is_expired_and_no_pending_code_asks_for_the_email(desk: Desk) -> None:
    service = desk.service()
    assert (await service.check_code(Conversation("c-1"))).result is Checking.NOT_PENDING
    desk.verifications.pendings["c-1"] = "acc-ana"
    desk.inbox.put("c-1", "123456")
    assert (await service.check_code(Conversation("c-1"))).result is Checking.EXPIRED
    assert desk.failures.counts == {}


async def test_a_resend_replaces_the_code_and_keeps_the_failure_count(desk: Desk) -> None:
    service = desk.service()
    assert (await service.resend_code("c-1")).result is Sending.NOT_PENDING
    await service.send_code("c-1", "ana@example.test")
    first = desk.codes.live[("acc-ana", "c-1")]
    await desk.failures.failed("email_code", "acc-ana")
    assert (await service.resend_code("c-1")).result is Sending.SENT
    await desk.background.drain()
    assert desk.codes.live[("acc-ana", "c-1")] != first
    assert len(desk.mail.queued) == 2
    assert desk.failures.counts[("email_code", "acc-ana")] == 1


async def test_a_resend_for_an_unknown_address_is_counted_and_sends_nothing(desk: Desk) -> None:
    service = desk.service()
    await service.send_code("c-1", "bob@example.test")
    for _ in range(2):
        assert (await service.resend_code("c-1")).result is Sending.SENT
    sending = await service.resend_code("c-1")
    await desk.background.drain()
    assert (sending.result, sending.minutes) == (Sending.TOO_MANY, "10")  # three sends per address
    assert desk.mail.queued == []


async def test_activity_is_shown_only_to_a_verified_conversation_and_only_the_last_30_days(desk: Desk) -> None:
    service = desk.service()
    desk.accounts.history["acc-ana"] = [
        ActivityEvent("ev-old", "login", ago(40)),
        ActivityEvent("ev-new", "login", ago(1)),
        ActivityEvent("ev-mid", "password_change", ago(10)),
    ]
    assert not (await service.review_activity("c-1")).verified
    await desk.verifications.grant("c-1", "acc-ana", "basic", "email_code")
    review = await service.review_activity("c-1")
    assert review.verified and [e.id for e in review.events] == ["ev-new", "ev-mid"]


async def test_marked_activity_follows_the_numbers_typed_and_collects_their_ips(desk: Desk) -> None:
    service = desk.service()
    desk.accounts.history["acc-ana"] = [
        ActivityEvent("ev-1", "login", ago(1), ip="203.0.113.9"),
        ActivityEvent("ev-2", "login", ago(2), ip="198.51.100.7"),
        ActivityEvent("ev-3", "transaction", ago(3)),
    ]
    await desk.verifications.grant("c-1", "acc-ana", "basic", "email_code")
    marked = await service.mark_activity("c-1", ["ev-1", "ev-2", "ev-3"], "3 and 1 were not me, nor 7")
    assert marked is not None
    assert [e["id"] for e in marked.events] == ["ev-1", "ev-3"]
    assert marked.ips == ["203.0.113.9"]
    assert await service.mark_activity("c-1", ["ev-1"], "none of them") is None


async def test_signing_out_everywhere_needs_a_verified_conversation(desk: Desk) -> None:
    service = desk.service()
    assert await service.sign_out_everywhere("c-1") is None
    await desk.verifications.grant("c-1", "acc-ana", "basic", "email_code")
    assert await service.sign_out_everywhere("c-1") == 2
    assert desk.accounts.revoked == ["acc-ana"]


async def test_a_password_link_needs_the_second_factor_when_one_is_bound(desk: Desk) -> None:
    desk.accounts.accounts["acc-ana"] = Account("acc-ana", "ana@example.test", "Ana Lima", has_totp=True)
    service = desk.service()
    assert (await service.send_password_link("c-1")).result is SecureLink.NOT_VERIFIED
    await desk.verifications.grant("c-1", "acc-ana", "basic", "email_code")
    assert (await service.send_password_link("c-1")).result is SecureLink.NEEDS_CURRENT_FACTOR
    await desk.verifications.grant("c-1", "acc-ana", "strong", "totp")
    sending = await service.send_password_link("c-1")
    assert (sending.result, sending.link) == (SecureLink.SENT, "https://bank.test/secure/password/token-1")
    assert desk.links.issued == [("acc-ana", "c-1", "password")]


async def test_a_password_link_without_a_second_factor_needs_only_basic(desk: Desk) -> None:
    service = desk.service()
    await desk.verifications.grant("c-1", "acc-ana", "basic", "email_code")
    assert (await service.send_password_link("c-1")).result is SecureLink.SENT
