"""The account-security core against a real Redis: codes (IDV-5), limits (RL-1..3), links, passwords (PWD-1..3)."""

import asyncio
import time
import unicodedata

import pytest

from recoverydesk.adapters.code_inbox import CodeInbox
from recoverydesk.adapters.one_time_codes import CODE_TTL_SECONDS, CodeCheck, OneTimeCodes, new_code
from recoverydesk.adapters.rate_limits import FailureCounter, RateLimited, SendingLimit, delay_after
from recoverydesk.adapters.secure_links import LINK_TTL_SECONDS, SecureLinks
from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.password_policy import PasswordRejected, blocklist, check_new_password
from recoverydesk.domain.passwords import hash_password, verify_password

KEY = b"k" * 32


def test_codes_are_six_digits():
    codes = {new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150


async def test_a_code_is_accepted_only_once(redis):
    codes = OneTimeCodes(redis, KEY)
    code = await codes.issue("acct_1", "conv_1")
    assert await codes.check("acct_1", "conv_1", code) is CodeCheck.ACCEPTED
    assert await codes.check("acct_1", "conv_1", code) is CodeCheck.EXPIRED


async def test_a_resend_replaces_the_old_code(redis):
    codes = OneTimeCodes(redis, KEY)
    old = await codes.issue("acct_2", "conv_2")
    new = await codes.issue("acct_2", "conv_2")
    if old != new:
        assert await codes.check("acct_2", "conv_2", old) is CodeCheck.WRONG
    assert await codes.check("acct_2", "conv_2", new) is CodeCheck.ACCEPTED


async def test_codes_expire_after_ten_minutes_and_only_a_hash_is_stored(redis):
    codes = OneTimeCodes(redis, KEY)
    code = await codes.issue("acct_3", "conv_3")
    ttl = await redis.ttl("rd:otp:acct_3:conv_3")
    assert CODE_TTL_SECONDS - 5 <= ttl <= CODE_TTL_SECONDS
    assert code.encode() not in await redis.get("rd:otp:acct_3:conv_3")


async def test_two_concurrent_checks_of_one_code_accept_exactly_once(redis):
    codes = OneTimeCodes(redis, KEY)
    code = await codes.issue("acct_4", "conv_4")
    results = await asyncio.gather(*(codes.check("acct_4", "conv_4", code) for _ in range(5)))
    assert results.count(CodeCheck.ACCEPTED) == 1


def test_delay_grows_from_thirty_seconds_to_an_hour():
    assert [delay_after(n) for n in (1, 4, 5, 6, 7)] == [0, 0, 30, 60, 120]
    assert delay_after(50) == 3600


async def test_failures_lock_with_growing_delay_and_a_success_resets(redis):
    counter = FailureCounter(redis)
    now = time.time()
    for _ in range(5):
        await counter.check("email_code", "acct_5", now)
        await counter.failed("email_code", "acct_5", now)
    with pytest.raises(RateLimited) as limited:
        await counter.check("email_code", "acct_5", now)
    assert 25 <= limited.value.retry_after <= 31
    await counter.check("email_code", "acct_5", now + 31)  # the delay has passed
    await counter.succeeded("email_code", "acct_5")
    await counter.check("email_code", "acct_5", now)


async def test_a_hundred_failures_in_a_row_need_a_person(redis):
    counter = FailureCounter(redis)
    await redis.hset("rd:limits:failures:totp:acct_6", mapping={"count": 100, "locked_until": 0})
    with pytest.raises(RateLimited) as limited:
        await counter.check("totp", "acct_6")
    assert limited.value.retry_after is None


async def test_code_sending_is_limited_to_three_an_hour_per_account(redis):
    limit = SendingLimit(redis, "account", limit=3)
    now = time.time()
    for minute in range(3):
        await limit.take("acct_7", now + minute)
    with pytest.raises(RateLimited) as limited:
        await limit.take("acct_7", now + 3)
    assert 3500 < limited.value.retry_after <= 3600
    await limit.take("acct_7", now + 3601)


async def test_links_are_single_use_expiring_and_stored_hashed(redis):
    links = SecureLinks(redis, "https://help.example.com")
    url = await links.issue("acct_8", "conv_8", "password")
    token = url.rsplit("/", 1)[1]
    assert url.startswith("https://help.example.com/secure/password/")
    assert [k async for k in redis.scan_iter(f"*{token}*")] == []
    assert (await links.peek(token, "totp")) is None
    grant = await links.consume(token, "password")
    assert grant.account_ref == "acct_8" and await links.consume(token, "password") is None
    assert LINK_TTL_SECONDS["password"] <= 15 * 60


async def test_the_code_inbox_hands_a_code_over_once_and_sealed(redis):
    inbox = CodeInbox(redis, SecretBox(KEY))
    await inbox.put("conv_9", "482913")
    assert b"482913" not in await redis.get("rd:code_inbox:conv_9")
    assert await inbox.take("conv_9") == "482913"
    assert await inbox.take("conv_9") is None


async def test_verification_is_bound_to_the_conversation(redis):
    store = VerificationStore(redis)
    await store.grant("conv_10", "acct_10", "basic", "email_code")
    assert (await store.get("conv_10")).at_least("basic")
    assert (await store.get("conv_11")).level == "none"


def check(password, confirmation=None, has_second_factor=False, is_current=False):
    return check_new_password(
        password,
        password if confirmation is None else confirmation,
        "jane.doe@example.com",
        "Jane Doe",
        has_second_factor,
        is_current,
    )


@pytest.mark.parametrize(
    "password, reason, second_factor",
    [
        ("fourteen-chars", "password_too_short", False),
        ("seven77", "password_too_short", True),
        ("password12345678", "password_common", False),
        ("JaneDoeRocks-2026!", "password_personal", False),
        ("x" * 257, "password_too_long", False),
    ],
)
def test_weak_passwords_are_rejected_with_the_reason(password, reason, second_factor):
    with pytest.raises(PasswordRejected) as rejected:
        check(password, has_second_factor=second_factor)
    assert rejected.value.reason == reason


def test_length_rules_and_no_composition_rules():
    assert check("fifteen chars ok")  # 16 characters, no digits or symbols needed
    assert check("kelpTarn", has_second_factor=True)
    assert check("a" * 0 + "sixty four characters long passphrase that is accepted whole ok!!")


def test_mismatch_and_current_password_are_rejected():
    with pytest.raises(PasswordRejected):
        check("glacier-orbit-velvet-canyon", "glacier-orbit-velvet-canyoN")
    with pytest.raises(PasswordRejected) as rejected:
        check("glacier-orbit-velvet-canyon", is_current=True)
    assert rejected.value.reason == "password_same"


def test_unicode_is_normalised_and_never_truncated():
    decomposed = unicodedata.normalize("NFD", "café-mountain-river-lantern")
    stored = hash_password(decomposed)
    assert verify_password(stored, unicodedata.normalize("NFC", decomposed))
    long_password = "p" * 100 + "-distinct-tail"
    assert not verify_password(hash_password(long_password), "p" * 100 + "-different-tail")


def test_hashes_are_argon2id():
    assert hash_password("glacier-orbit-velvet-canyon").startswith("$argon2id$")


def test_the_blocklist_ships_offline_with_at_least_ten_thousand_entries():
    assert len(blocklist()) >= 10_000 and "password" in blocklist()


@pytest.mark.parametrize(
    "password, hint",
    [
        ("aaaaaaaaaaaaaaaaaaaa", "password_hint_repeat"),
        ("abcdefghijklmnopqrs", "password_hint_sequence"),
        ("asdfghjkl;asdfgh", "password_hint_keyboard"),
        ("password1password1", "password_hint_repeat"),
    ],
)
def test_guessable_passwords_are_refused_with_a_hint_about_why(password, hint):
    with pytest.raises(PasswordRejected) as rejected:
        check_new_password(
            password, password, "casey@example.com", "Casey Jones", has_second_factor=False, is_current=False
        )
    assert rejected.value == PasswordRejected("password_weak", hint)


def test_a_long_password_of_unrelated_words_is_strong_enough():
    password = "glacier orbit velvet canyon " * 3  # longer than zxcvbn looks at; the rest still counts for length
    assert check_new_password(password, password, "casey@example.com", "Casey Jones", False, False) == password
