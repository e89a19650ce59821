"""The rules that decide which language a conversation is in (issue #16, CONTRACT "Languages").

Pure functions, no detector: the statistical guess comes from ``bot/rasa_plugins/language.py``;
here is what makes a message too short or too neutral to count, what an explicit request for a
language looks like in each of the four languages, how a channel's hint (a BCP 47 tag such as
``es-ES`` or Telegram's ``ru``) maps to one of ours, and the order in which the conversation's
language is decided (what the customer asked for or wrote, else the channel's hint, else the
default)."""

from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional, Sequence

SUPPORTED = ("en", "es", "it", "ru")
MIN_WORDS = 3  # fewer distinct words than this never decide the language ("ok", "sì grazie", "2, 3")
# The detector's guess decides only when it is at least this sure, and this far ahead of the runner-up
# (chosen on the held-out and training phrasings: no message decided in the wrong language).
MIN_CONFIDENCE = 0.45
MIN_MARGIN = 0.08
# Three words are thin evidence ("save new password" reads as Italian to the detector): more is asked.
THREE_WORD_CONFIDENCE = 0.6
THREE_WORD_MARGIN = 0.3
MAX_REQUEST_WORDS = 9  # "could we please switch to Spanish, I don't speak English well" is longer: DIET's

_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
# What redaction left in place of a secret, and names every language keeps: no evidence either way.
_NOT_LANGUAGE = re.compile(
    r"\[[^\]]*removed\]|recovery desk|whatsapp|telegram|messenger|totp|google authenticator", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# Names of each language as customers write them in any of the four languages (accents optional).
_NAMES: Mapping[str, str] = {
    "en": r"english|ingl[eé]s|inglese|английск\w*|по[- ]?английски",
    "es": r"spanish|espa[nñ]ol|castellano|spagnolo|испанск\w*|по[- ]?испански",
    "it": r"italian|italiano|italiana|итальянск\w*|по[- ]?итальянски",
    "ru": r"russian|ruso|russo|русск\w*|по[- ]?русски",
}
# Words that turn a language name into a request: "in English", "en español", "parliamo italiano",
# "можно по-русски", "на русском", "¿hablas español?", "switch to Italian".
_CUES = (
    r"\b(?:in|en|a|al|to|into|on|на|по)\b|speak|talk|write|switch|change|habl\w*|escrib\w*|cambi\w*|"
    r"parl\w*|scriv\w*|passa\w*|можно|давайте|говорит\w*|пишите|перейд\w*|пожалуйста|please|por favor|per favore"
)


def content_words(text: str) -> list[str]:
    """The words that can tell a language: no addresses, links, numbers, codes or emoji."""
    cleaned = _NOT_LANGUAGE.sub(" ", _URL.sub(" ", _EMAIL.sub(" ", text)))
    return [word.lower() for word in _WORD.findall(cleaned)]


def too_short_to_tell(text: str) -> bool:
    """A reply like "ok", "2, 3", a code, an address, an emoji or two words never decides the language."""
    return len(set(content_words(text))) < MIN_WORDS


def requested_language(text: str, languages: Sequence[str] = SUPPORTED) -> Optional[str]:
    """The language a short message asks for ("¿podemos hablar en español?", "можно по-русски?",
    "in English please", "parliamo in italiano"), or None. A long message that merely names a
    language ("my card was used in Spain ... an email in English") is not a request."""
    words = content_words(text)
    if not words or len(words) > MAX_REQUEST_WORDS:
        return None
    lowered = text.lower()
    asked = []
    for code in languages:
        names = _NAMES.get(code)
        if names is None:
            continue
        name = re.search(rf"(?<!\w)(?:{names})(?!\w)", lowered)
        if name is None:
            continue
        bare = len(words) <= 3 and re.fullmatch(rf"\W*(?:{names})\W*(?:\w+\W*)?", lowered) is not None
        cued = re.search(_CUES, lowered) is not None
        if bare or cued:
            asked.append(code)
    return asked[0] if len(asked) == 1 else None


def language_of_hint(hint: object, languages: Sequence[str] = SUPPORTED) -> Optional[str]:
    """One of ``languages`` from a BCP 47 tag ("es-ES", "ru", "pt-BR" → None), or None."""
    if not isinstance(hint, str) or not hint:
        return None
    primary = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
    return primary if primary in languages else None


def language_of_accept_header(header: Optional[str], languages: Sequence[str] = SUPPORTED) -> Optional[str]:
    """The first of ``languages`` an ``Accept-Language`` header prefers, or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                weight = float(match.group(1))
            except ValueError:
                continue
        code = language_of_hint(tag, languages)
        if code is not None and weight > 0:
            ranked.append((-weight, position, code))
    return sorted(ranked)[0][2] if ranked else None


def conversation_language(
    slot_value: object, hints: Iterable[object], languages: Sequence[str] = SUPPORTED, default: str = "en"
) -> str:
    """The language to answer in: the ``language`` slot (set by what the customer wrote or asked),
    else the newest usable channel hint, else ``default``."""
    if isinstance(slot_value, str) and slot_value in languages:
        return slot_value
    for hint in hints:
        code = language_of_hint(hint, languages)
        if code is not None:
            return code
    return default if default in languages else languages[0]
