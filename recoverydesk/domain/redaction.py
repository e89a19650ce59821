"""Removes secrets from customer text before anything stores, logs or forwards it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

CODE_PLACEHOLDER = "[code removed]"
RECOVERY_CODE_PLACEHOLDER = "[recovery code removed]"
SECRET_PLACEHOLDER = "[secret removed]"

# A one-time or TOTP code typed on its own or inside a sentence ("my code is 123 456").
_CODE = re.compile(r"(?<![\w-])(\d{3})[ -]?(\d{3})(?![\w-])")
# Recovery codes are shown as four groups of four letters and digits (see recoverydesk/domain/totp.py).
_RECOVERY_CODE = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z2-9]{4}(?:-[A-Za-z2-9]{4}){3}(?![A-Za-z0-9-])")
# A base32 TOTP seed (160 bits = 32 characters), possibly spaced in groups of four.
_SEED = re.compile(r"(?<![A-Za-z0-9])(?:[A-Z2-7]{4} ?){7}[A-Z2-7]{4}(?![A-Za-z0-9])")
# Secure-link tokens and anything after "password is" / "pin:".
_LINK_TOKEN = re.compile(r"(/secure/[a-z-]+/)[A-Za-z0-9_-]{16,}")
# Words that describe a password rather than reveal it ("my password was changed"): kept, so the
# customer's report still means something to the NLU.
_NOT_A_SECRET = (
    "changed|reset|stolen|hacked|wrong|not|no|incorrect|invalid|expired|compromised|leaked|updated|working|"
    "locked|blocked|gone|too|also|being|been|now|still|suddenly|recently|definitely|rejected|refused|removed|"
    "deleted|never|just|already|used|taken|modified|altered|switched|guessed|exposed|shared|cracked|found|"
    "sent|accepted|unchanged|\\[secret"
)
_DECLARED_SECRET = re.compile(
    rf"\b(password|passcode|passwd|pin|pwd)(\s*(?:is|was|:|=)\s*)(?!(?:{_NOT_A_SECRET})\b)\S+", re.IGNORECASE
)
# The same in Spanish, Italian and Russian (issue 16): "mi contraseña es …", "la clave: …",
# "la mia password è …", "мой пароль: …", "пароль — …", with the words that describe a password
# rather than reveal it ("ha sido cambiada", "è stata cambiata", "был изменен") kept.
_NOT_A_SECRET_ES_IT_RU = (
    "cambiad[ao]s?|robad[ao]|incorrect[ao]|err[oó]ne[ao]|no|ya|nueva|vieja|otra|muy|demasiado|d[eé]bil|"
    "inv[aá]lid[ao]|caducad[ao]|bloquead[ao]|hackead[ao]|la\\s+misma|"
    "stata|cambiata|sbagliata|errata|rubata|non|gi[aà]|nuova|vecchia|scaduta|bloccata|troppo|debole|la\\s+stessa|"
    "был|была|не|уже|изменен|изменён|сменили|украли|неверн\\w*|неправильн\\w*|новый|старый|слабый|"
    "\\[secret"
)
_DECLARED_SECRET_ES_IT_RU = re.compile(
    r"(?<!\w)(contrase[ñn]a|clave|pin|password|parola\s+d['’]ordine|пароль|пин(?:-?код)?)"
    r"(\s*(?:es|era|fue|:|=|è|e['’]|é|—|–|-|это|был|была)\s*|\s+(?=\S*\d))"
    rf"(?!(?:{_NOT_A_SECRET_ES_IT_RU})(?!\w))\S+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Redacted:
    text: str
    code: Optional[str]  # the digits of the one code found, for the verification step only
    recovery_code: Optional[str] = None  # likewise, the one recovery code found

    @property
    def changed(self) -> bool:
        return (
            self.code is not None
            or self.recovery_code is not None
            or any(
                placeholder in self.text
                for placeholder in (SECRET_PLACEHOLDER, CODE_PLACEHOLDER, RECOVERY_CODE_PLACEHOLDER)
            )
        )


def redact(text: str) -> Redacted:
    """Returns the text with every secret replaced, and the one code it carried (if exactly one)."""
    recovery_codes = _RECOVERY_CODE.findall(text)
    cleaned = _RECOVERY_CODE.sub(RECOVERY_CODE_PLACEHOLDER, text)
    codes = [m.group(1) + m.group(2) for m in _CODE.finditer(cleaned)]
    cleaned = _CODE.sub(CODE_PLACEHOLDER, cleaned)
    cleaned = _SEED.sub(SECRET_PLACEHOLDER, cleaned)
    cleaned = _LINK_TOKEN.sub(lambda m: m.group(1) + SECRET_PLACEHOLDER, cleaned)
    cleaned = _DECLARED_SECRET.sub(lambda m: m.group(1) + m.group(2) + SECRET_PLACEHOLDER, cleaned)
    cleaned = _DECLARED_SECRET_ES_IT_RU.sub(lambda m: m.group(1) + m.group(2) + SECRET_PLACEHOLDER, cleaned)
    return Redacted(
        text=cleaned,
        code=codes[0] if len(codes) == 1 else None,
        recovery_code=recovery_codes[0] if len(recovery_codes) == 1 else None,
    )


def redact_text(text: str) -> str:
    return redact(text).text


_EMAIL_ADDRESS = re.compile(r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_email(text: str) -> str:
    """j***@example.com for every address in the text (PII-2)."""
    return _EMAIL_ADDRESS.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
