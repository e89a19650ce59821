"""TwoFactorService with in-memory fakes: the enrollment link, activation, step-up and lockout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pytest

from recoverydesk.adapters.rate_limits import FREE_FAILURES, HARD_LIMIT
from recoverydesk.adapters.totp_store import Enrollment
from recoverydesk.domain.accounts import Account
from recoverydesk.domain.conversation import Conversation
from recoverydesk.services.two_factor import FactorCheck, TwoFactorService
from recoverydesk.services.verification import SecureLink, Verification
from tests.unit.services.fakes import FakeAccounts, FakeDesk

GOOD = "246810"
ANA = Account(
    ref="acc-ana",
    email="ana@example.test",
    name="Ana Lima",
    has_totp=True,
    previous_emails=["ana.old@example.test"],
    email_changed_at="2999-01-01T00:00:00Z",  # "recent" for NOT-1 whatever today is
)


class FakeTotp:
    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.recovery_codes = {"acc-ana": {"AAAA-BBBB", "CCCC-DDDD"}}

    async def activate(self, ref: str, code: str) -> Enrollment:
        if ref not in self.pending:
            return Enrollment.NOT_PENDING
        if code != GOOD:
            return Enrollment.WRONG_CODE
        self.pending.discard(ref)
        return Enrollment.ACTIVATED

    async def verify(self, ref: str, code: str) -> bool:
        return code == GOOD

    async def use_recovery_code(self, ref: str, code: str) -> bool:
        if code in self.recovery_codes.get(ref, set()):
            self.recovery_codes[ref].discard(code)
            return True
        return False

    async def recovery_codes_left(self, ref: str) -> int:
        return len(self.recovery_codes.get(ref, set()))


@dataclass
class Desk(FakeDesk):
    accounts: FakeAccounts = field(default_factory=lambda: FakeAccounts(ANA))
    totp: FakeTotp = field(default_factory=FakeTotp)

    def service(self) -> TwoFactorService:
        return self.wire(TwoFactorService, history=self.accounts, recovery=self.accounts)

    async def verified(self, level: str = "basic", conversation: str = "c-1") -> None:
        await self.verifications.grant(conversation, "acc-ana", level, "email_code")


@pytest.fixture
def desk() -> Desk:
    return Desk()


def chat(code_purpose: Optional[str] = None) -> Conversation:
    return Conversation("c-1", slots={"code_purpose": code_purpose})


async def test_the_enrollment_link_needs_verification_and_then_the_bound_factor(desk: Desk) -> None:
    service = desk.service()
    assert (await service.send_enrollment_link("c-1")).result is SecureLink.NOT_VERIFIED
    await desk.verified("basic")
    assert (await service.send_enrollment_link("c-1")).result is SecureLink.NEEDS_CURRENT_FACTOR
    await desk.verified("strong")
    sending = await service.send_enrollment_link("c-1")
    assert (sending.result, sending.link) == (SecureLink.SENT, "https://bank.test/secure/totp/token-1")


async def test_the_first_good_code_enrolls_makes_the_conversation_strong_and_notifies(desk: Desk) -> None:
    await desk.verified("basic")
    desk.totp.pending.add("acc-ana")
    await desk.failures.failed("totp", "acc-ana")
    desk.inbox.put("c-1", GOOD)
    checking = await desk.service().activate(chat("totp_enrollment"))
    await desk.background.drain()
    assert checking.result is FactorCheck.ENROLLED
    assert checking.link == "https://bank.test/secure/recovery-codes/token-1"
    assert desk.verifications.granted["c-1"] == Verification("acc-ana", "strong", ["email_code", "totp"])
    assert desk.failures.counts == {}
    assert [e.kind for e in desk.accounts.history["acc-ana"]] == ["mfa_change"]
    assert desk.accounts.held == ["acc-ana"]  # NOT-2: risky changes wait after a recovery
    assert desk.mail.queued[0]["to"] == ["ana@example.test", "ana.old@example.test"]
    assert desk.contacts.saved[0][0].verification == "strong"


async def test_wrong_codes_hint_at_the_clock_then_offer_a_person_then_lock(desk: Desk) -> None:
    await desk.verified("basic")
    desk.totp.pending.add("acc-ana")
    service = desk.service()
    results = []
    for _ in range(FREE_FAILURES):
        desk.inbox.put("c-1", "000000")
        results.append((await service.activate(chat())).result)
    assert results == [
        FactorCheck.WRONG,
        FactorCheck.WRONG_CHECK_CLOCK,
        FactorCheck.WRONG_CHECK_CLOCK,
        FactorCheck.WRONG_CHECK_CLOCK,
        FactorCheck.WRONG_OFFER_PERSON,
    ]
    desk.inbox.put("c-1", GOOD)
    locked = await service.activate(chat())
    assert (locked.result, locked.minutes) == (FactorCheck.LOCKED, "2")
    desk.failures.counts[("totp", "acc-ana")] = HARD_LIMIT
    desk.inbox.put("c-1", GOOD)
    for_good = await service.step_up(chat())
    assert (for_good.result, for_good.minutes) == (FactorCheck.LOCKED, "")  # a person must unlock it
    assert desk.verifications.granted["c-1"].level == "basic"


async def test_activation_without_a_pending_enrollment_and_without_verification(desk: Desk) -> None:
    service = desk.service()
    assert (await service.activate(chat())).result is FactorCheck.NOT_VERIFIED
    await desk.verified("basic")
    desk.inbox.put("c-1", GOOD)
    assert (await service.activate(chat())).result is FactorCheck.NOT_PENDING
    assert desk.failures.counts == {}


async def test_step_up_with_the_app_is_strong_for_what_was_asked(desk: Desk) -> None:
    await desk.verified("basic")
    service = desk.service()
    desk.inbox.put("c-1", GOOD)
    checking = await service.step_up(chat("second_factor_password"))
    assert (checking.result, checking.purpose, checking.recovery_codes_left) == (FactorCheck.STRONG, "password", None)
    assert desk.verifications.granted["c-1"].level == "strong"
    desk.inbox.put("c-1", GOOD)
    assert (await service.step_up(chat("second_factor_enrollment"))).purpose == "enrollment"


async def test_step_up_with_a_recovery_code_uses_it_once_and_says_how_many_are_left(desk: Desk) -> None:
    await desk.verified("basic")
    service = desk.service()
    desk.inbox.put("c-1", "AAAA-BBBB", kind="recovery_code")
    checking = await service.step_up(chat())
    assert (checking.result, checking.recovery_codes_left) == (FactorCheck.STRONG, 1)
    assert desk.verifications.granted["c-1"].methods == ["email_code", "recovery_code"]
    desk.inbox.put("c-1", "AAAA-BBBB", kind="recovery_code")
    assert (await service.step_up(chat())).result is FactorCheck.WRONG
    assert desk.failures.counts[("totp", "acc-ana")] == 1


async def test_step_up_with_no_code_is_wrong(desk: Desk) -> None:
    await desk.verified("basic")
    assert (await desk.service().step_up(chat())).result is FactorCheck.WRONG
