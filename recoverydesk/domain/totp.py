"""TOTP second factor (RFC 6238) and recovery codes: the rules, with no storage (SECURITY.md TOTP).

Storage (pending enrollment, the active seed, the last accepted step) is in ``totp_store``."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timezone
from typing import Optional

import pyotp

DIGITS = 6
STEP_SECONDS = 30
VALID_WINDOW = 1  # TOTP-2: at most one step either side, for clock drift
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O or 1/I
_CODE = re.compile(r"^[0-9]{6}$")  # ASCII only: pyotp would quietly accept full-width digits
_RECOVERY = re.compile(r"^[A-Za-z2-9]{4}(?:-?[A-Za-z2-9]{4}){3}$")


def new_seed() -> str:
    """160 random bits as base32 (TOTP-1)."""
    return pyotp.random_base32()


def provisioning_uri(seed: str, account_label: str, issuer: str) -> str:
    return pyotp.TOTP(seed, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_label, issuer_name=issuer
    )


def well_formed(code: str) -> bool:
    return bool(_CODE.fullmatch(code))


def time_step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def matching_step(seed: str, code: str, at: Optional[datetime] = None, after_step: int = -1) -> Optional[int]:
    """The time step the code belongs to (within ``VALID_WINDOW``), if it is later than ``after_step``.

    Returning the step lets the caller store it, so the same code is never accepted twice (TOTP-3)."""
    if not well_formed(code):
        return None
    totp = pyotp.TOTP(seed, digits=DIGITS, interval=STEP_SECONDS)
    now_step = time_step(at or datetime.now(timezone.utc))
    accepted = None
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        # Every candidate is compared, so timing does not tell which step matched.
        if hmac.compare_digest(totp.generate_otp(step), code) and step > after_step:
            accepted = step
    return accepted


def new_recovery_codes() -> list[str]:
    """Ten codes of 16 symbols from 32 (80 bits each, TOTP-5), shown as four groups of four."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        symbols = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(symbols[i : i + 4] for i in range(0, 16, 4)))
    return codes


def looks_like_recovery_code(text: str) -> bool:
    return bool(_RECOVERY.fullmatch(text.strip()))


def recovery_code_hash(key: bytes, code: str) -> str:
    """Codes carry 80 random bits, so a keyed hash is enough; the key lives outside Redis."""
    canonical = code.strip().replace("-", "").upper()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def account_label(email: str) -> str:
    """What the authenticator app lists next to the issuer: the masked address, enough to tell accounts apart."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
