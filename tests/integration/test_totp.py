"""TOTP rules with real codes at fixed times (TOTP-1..5), and their Redis store (replay, concurrency, expiry)."""

import asyncio
import secrets
from datetime import datetime, timedelta, timezone

import pyotp
import pytest

from recoverydesk.adapters.account_store import AccountStore
from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.totp_store import PENDING_TTL_SECONDS, Enrollment, TotpStore
from recoverydesk.domain import totp
from recoverydesk.domain.accounts import Account
from recoverydesk.domain.crypto import SecretBox

T = datetime(2026, 11, 23, 12, 0, 10, tzinfo=timezone.utc)
STEP = timedelta(seconds=30)
ROOT = b"r" * 48


def code_at(seed: str, moment: datetime) -> str:
    return pyotp.TOTP(seed).at(moment)


def test_seeds_are_160_bit_base32_and_unique():
    seeds = {totp.new_seed() for _ in range(50)}
    assert len(seeds) == 50 and all(len(s) == 32 and pyotp.TOTP(s).now().isdigit() for s in seeds)


def test_the_current_code_and_one_step_either_side_are_accepted():
    seed = totp.new_seed()
    for offset in (-1, 0, 1):
        assert totp.matching_step(seed, code_at(seed, T + offset * STEP), T) == totp.time_step(T) + offset


def test_codes_two_steps_away_are_rejected():
    seed = totp.new_seed()
    for offset in (-2, 2):
        code = code_at(seed, T + offset * STEP)
        if code not in {code_at(seed, T + o * STEP) for o in (-1, 0, 1)}:  # a 1-in-10^6 collision is not a bug
            assert totp.matching_step(seed, code, T) is None


def test_full_width_and_malformed_digits_are_rejected():
    seed = totp.new_seed()
    code = code_at(seed, T)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    assert pyotp.TOTP(seed).verify(full_width, for_time=T)  # what pyotp alone would let through
    for attempt in (full_width, code + "0", code[:5], f" {code}", "12345a", ""):
        assert totp.matching_step(seed, attempt, T) is None


def test_a_code_no_later_than_the_last_accepted_step_is_refused():
    seed = totp.new_seed()
    step = totp.time_step(T)
    assert totp.matching_step(seed, code_at(seed, T), T, after_step=step) is None
    assert totp.matching_step(seed, code_at(seed, T), T, after_step=step - 1) == step


def test_recovery_codes_carry_at_least_64_bits_and_are_distinct():
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(totp.looks_like_recovery_code(c) and len(c.replace("-", "")) == 16 for c in codes)  # 16 × 5 bits


@pytest.fixture
async def account(redis) -> Account:
    directory = AccountDirectory(redis, SecretBox(ROOT))
    return await directory.add(f"t{secrets.token_hex(4)}@example.com", "Terry Tester", "x" * 20)


def store(redis) -> TotpStore:
    return TotpStore(redis, SecretBox(ROOT), b"k" * 32)


async def test_enrollment_is_pending_for_ten_minutes_and_the_seed_is_sealed(redis, account):
    seed = await store(redis).start_enrollment(account.ref)
    raw = await redis.get(f"rd:account:{account.ref}:totp_pending")
    assert seed.encode() not in raw
    assert PENDING_TTL_SECONDS - 5 <= await redis.ttl(f"rd:account:{account.ref}:totp_pending") <= PENDING_TTL_SECONDS


async def test_the_first_valid_code_activates_and_is_not_accepted_again(redis, account):
    totps = store(redis)
    seed = await totps.start_enrollment(account.ref)
    assert (
        await totps.activate(account.ref, "000000" if code_at(seed, T) != "000000" else "111111", T)
        is Enrollment.WRONG_CODE
    )
    assert await totps.activate(account.ref, code_at(seed, T), T) is Enrollment.ACTIVATED
    assert (await AccountStore(redis).get(account.ref)).has_totp
    assert not await totps.verify(account.ref, code_at(seed, T), T)  # replay of the enrollment code
    assert await totps.verify(account.ref, code_at(seed, T + STEP), T + STEP)
    assert not await totps.verify(account.ref, code_at(seed, T + STEP), T + STEP)


async def test_an_older_step_is_refused_after_a_newer_one(redis, account):
    totps = store(redis)
    seed = await totps.start_enrollment(account.ref)
    assert await totps.activate(account.ref, code_at(seed, T + STEP), T + STEP) is Enrollment.ACTIVATED
    assert not await totps.verify(account.ref, code_at(seed, T), T + STEP)


async def test_two_concurrent_submissions_of_one_code_activate_exactly_once(redis, account):
    totps = store(redis)
    seed = await totps.start_enrollment(account.ref)
    results = await asyncio.gather(*(totps.activate(account.ref, code_at(seed, T), T) for _ in range(5)))
    assert results.count(Enrollment.ACTIVATED) == 1
    assert set(results) == {Enrollment.ACTIVATED, Enrollment.NOT_PENDING}


async def test_two_concurrent_step_up_codes_are_accepted_exactly_once(redis, account):
    totps = store(redis)
    seed = await totps.start_enrollment(account.ref)
    await totps.activate(account.ref, code_at(seed, T), T)
    later = T + 2 * STEP
    results = await asyncio.gather(*(totps.verify(account.ref, code_at(seed, later), later) for _ in range(5)))
    assert results.count(True) == 1


async def test_an_expired_enrollment_accepts_nothing(redis, account):
    totps = store(redis)
    seed = await totps.start_enrollment(account.ref)
    await redis.pexpire(f"rd:account:{account.ref}:totp_pending", 1)
    await asyncio.sleep(0.05)
    assert await totps.activate(account.ref, code_at(seed, T), T) is Enrollment.NOT_PENDING
    assert not (await AccountStore(redis).get(account.ref)).has_totp


async def test_re_enrollment_invalidates_the_old_seed_and_recovery_codes(redis, account):
    totps = store(redis)
    old = await totps.start_enrollment(account.ref)
    await totps.activate(account.ref, code_at(old, T), T)
    codes = await totps.issue_recovery_codes(account.ref)
    new = await totps.start_enrollment(account.ref)
    assert await totps.verify(
        account.ref, code_at(old, T + STEP), T + STEP
    )  # still active while the new one is pending
    assert await totps.activate(account.ref, code_at(new, T + 2 * STEP), T + 2 * STEP) is Enrollment.ACTIVATED
    assert not await totps.verify(account.ref, code_at(old, T + 3 * STEP), T + 3 * STEP)
    assert not await totps.use_recovery_code(account.ref, codes[0])
    assert await totps.verify(account.ref, code_at(new, T + 3 * STEP), T + 3 * STEP)


async def test_a_second_enrollment_replaces_the_pending_one(redis, account):
    totps = store(redis)
    first = await totps.start_enrollment(account.ref)
    second = await totps.start_enrollment(account.ref)
    if code_at(first, T) != code_at(second, T):
        assert await totps.activate(account.ref, code_at(first, T), T) is Enrollment.WRONG_CODE
    assert await totps.activate(account.ref, code_at(second, T), T) is Enrollment.ACTIVATED


async def test_recovery_codes_are_stored_hashed_and_work_once(redis, account):
    totps = store(redis)
    codes = await totps.issue_recovery_codes(account.ref)
    stored = await redis.smembers(f"rd:account:{account.ref}:recovery_codes")
    assert len(stored) == 10 and not any(c.replace("-", "").encode() in b"".join(stored) for c in codes)
    assert await totps.use_recovery_code(account.ref, codes[3].lower())
    assert not await totps.use_recovery_code(account.ref, codes[3])
    assert not await totps.use_recovery_code(account.ref, "AAAA-BBBB-CCCC-DDDD")
    assert await totps.recovery_codes_left(account.ref) == 9
