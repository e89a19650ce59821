"""The secure TOTP pages' use cases against a real Redis: a seed once per link, recovery codes only with a factor."""

from __future__ import annotations

import pyotp
import pytest

from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.secure_links import SecureLinks
from recoverydesk.adapters.totp_store import Enrollment, TotpStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.services.totp_enrollment import CodesOutcome, TotpEnrollment

KEY = b"t" * 32
TOTP_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def parts(redis):
    box = SecretBox(KEY)
    links = SecureLinks(redis, "https://help.example.test")
    directory = AccountDirectory(redis, box)
    totp = TotpStore(redis, box, b"r" * 32)
    return links, directory, totp, TotpEnrollment(links, directory, totp, "Example Bank")


async def token(links: SecureLinks, account_ref: str, purpose: str) -> str:
    return (await links.issue(account_ref, "conv_totp", purpose)).rsplit("/", 1)[1]


async def test_an_enrollment_link_shows_a_pending_seed_once(parts):
    links, directory, totp, service = parts
    account = await directory.add("enrol@example.com", "En Rol", "old password one two")
    link = await token(links, account.ref, "totp")

    started = await service.start(link)

    assert started is not None
    assert (started.issuer, started.label) == ("Example Bank", "e***@example.com")
    assert started.uri.startswith("otpauth://totp/") and started.seed in started.uri
    assert started.seed not in repr(started)
    assert await totp.has_pending(account.ref)
    assert await totp.activate(account.ref, pyotp.TOTP(started.seed).now()) is Enrollment.ACTIVATED
    assert await service.start(link) is None  # the link was used up


async def test_an_enrollment_link_for_another_purpose_or_nobody_shows_nothing(parts):
    links, directory, totp, service = parts
    account = await directory.add("wrong.purpose@example.com", "Wrong Purpose", "old password one two")
    password_link = await token(links, account.ref, "password")
    gone = await token(links, "acct_gone", "totp")

    assert await service.start(password_link) is None
    assert await service.start(gone) is None
    assert not await totp.has_pending(account.ref)


async def test_recovery_codes_are_issued_once_per_link_and_only_with_an_authenticator(parts):
    links, directory, totp, service = parts
    with_totp = await directory.add("codes@example.com", "Co Des", "old password one two", totp_secret=TOTP_SEED)
    without = await directory.add("no.codes@example.com", "No Codes", "old password one two")
    link = await token(links, with_totp.ref, "recovery-codes")

    issued = await service.recovery_codes(link)

    assert issued.outcome is CodesOutcome.ISSUED and len(issued.codes) == 10
    assert await totp.recovery_codes_left(with_totp.ref) == 10
    assert await totp.use_recovery_code(with_totp.ref, issued.codes[0])
    assert (await service.recovery_codes(link)).outcome is CodesOutcome.INVALID_LINK
    refused = await service.recovery_codes(await token(links, without.ref, "recovery-codes"))
    assert refused.outcome is CodesOutcome.NOT_AVAILABLE and refused.codes == []
    assert await totp.recovery_codes_left(without.ref) == 0


async def test_asking_whether_an_enrollment_link_works_uses_nothing_up(parts):
    links, directory, totp, service = parts
    account = await directory.add("peek@example.com", "Pe Ek", "old password one two")
    link = await token(links, account.ref, "totp")

    assert await service.enrollment_ready(link) and await service.enrollment_ready(link)
    assert not await totp.has_pending(account.ref)  # no seed is made by looking
    assert await service.start(link) is not None
    assert not await service.enrollment_ready(link)
    assert not await service.enrollment_ready(await token(links, account.ref, "password"))


async def test_asking_whether_a_recovery_codes_link_works_issues_no_codes(parts):
    links, directory, totp, service = parts
    with_totp = await directory.add("peek.codes@example.com", "Pe Ek", "old password one two", totp_secret=TOTP_SEED)
    without = await directory.add("peek.none@example.com", "No Ne", "old password one two")
    link = await token(links, with_totp.ref, "recovery-codes")

    assert await service.recovery_codes_ready(link) is CodesOutcome.READY
    assert await service.recovery_codes_ready(link) is CodesOutcome.READY
    assert await totp.recovery_codes_left(with_totp.ref) == 0
    assert (await service.recovery_codes(link)).outcome is CodesOutcome.ISSUED
    assert await service.recovery_codes_ready(link) is CodesOutcome.INVALID_LINK
    refused = await service.recovery_codes_ready(await token(links, without.ref, "recovery-codes"))
    assert refused is CodesOutcome.NOT_AVAILABLE
