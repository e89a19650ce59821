"""Password rules (PWD-1, PWD-2): length, no truncation, NFC, offline blocklist, no derivation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH_WITHOUT_SECOND_FACTOR = 15
MIN_LENGTH_WITH_SECOND_FACTOR = 8
MAX_LENGTH = 256  # far above the 64 that must be accepted; bounds hashing work
# zxcvbn score 0-4: 0 and 1 fall within about 10^6 guesses, the reach of any blocklist attack.
MIN_STRENGTH = 2
_STRENGTH_WINDOW = 72  # zxcvbn refuses longer input; a weak start is weak whatever follows
# The hint for the pattern that made a password guessable; each names a response in domain.yml.
_HINTS = {
    "spatial": "password_hint_keyboard",
    "repeat": "password_hint_repeat",
    "sequence": "password_hint_sequence",
    "date": "password_hint_dates",
    "regex": "password_hint_dates",
    "dictionary": "password_hint_words",
}


@dataclass(frozen=True)
class PasswordRejected(Exception):
    """Why a new password cannot be used; ``reason`` and ``hint`` name responses in domain.yml."""

    reason: str
    hint: Optional[str] = None


@lru_cache(maxsize=1)
def blocklist() -> frozenset[str]:
    """30,000 common and breached passwords shipped offline inside the zxcvbn package."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) >= 3}


def check_new_password(
    password: str,
    confirmation: str,
    email: str,
    name: str,
    has_second_factor: bool,
    is_current: bool,
) -> str:
    """Returns the NFC-normalised password, or raises PasswordRejected with the reason."""
    password = unicodedata.normalize("NFC", password)
    if password != unicodedata.normalize("NFC", confirmation):
        raise PasswordRejected("password_mismatch")
    minimum = MIN_LENGTH_WITH_SECOND_FACTOR if has_second_factor else MIN_LENGTH_WITHOUT_SECOND_FACTOR
    if len(password) < minimum:
        raise PasswordRejected("password_too_short")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected("password_too_long")
    lowered = password.lower()
    if lowered in blocklist() or lowered.strip("0123456789!.") in blocklist():
        raise PasswordRejected("password_common")
    personal = _words(email.split("@")[0]) | _words(name)
    squashed = re.sub(r"[^a-z0-9]", "", lowered)
    if any(word in squashed for word in personal):
        raise PasswordRejected("password_personal")
    if is_current:
        raise PasswordRejected("password_same")
    _require_strength(password, personal)
    return password


def _require_strength(password: str, personal: set[str]) -> None:
    """Strength feedback from zxcvbn: a guessable password is refused with a hint about why."""
    result = zxcvbn(password[:_STRENGTH_WINDOW], user_inputs=sorted(personal))
    if result["score"] >= MIN_STRENGTH:
        return
    patterns = [match["pattern"] for match in result["sequence"] if match["pattern"] in _HINTS]
    raise PasswordRejected("password_weak", _HINTS[patterns[0]] if patterns else "password_hint_longer")
