"""Customer-facing texts in each language: English from domain.yml's responses, the others from
``locales/<code>.yml`` (same names, variants, placeholders and buttons; issue #16), so that every
sentence a customer reads lives in one translatable place. Used by the chat's NLG
(``bot/rasa_plugins/language_nlg.py``) and by everything outside the chat (emails, secure pages).

A variant may carry ``plural: <placeholder>`` and a ``text`` mapping CLDR plural categories
(``one``, ``few``, ``many``, ``other``) to texts; ``resolve_plural`` picks the category with
Babel's CLDR rules for the language and the placeholder's number."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Mapping, Optional

import yaml
from babel import Locale
from babel.dates import format_datetime

from recoverydesk.settings import ROOT

DOMAIN = ROOT / "domain.yml"
LOCALES = ROOT / "locales"
SOURCE_LANGUAGE = "en"
PLURAL = "plural"


@lru_cache(maxsize=8)
def responses(language: str = SOURCE_LANGUAGE) -> dict[str, list[dict[str, Any]]]:
    """Every response's variants in ``language``; a response the language's file lacks (or a
    language without a file) is the English one. Read once per process and language."""
    english: dict[str, list[dict[str, Any]]] = yaml.safe_load(DOMAIN.read_text())["responses"]
    if language == SOURCE_LANGUAGE:
        return english
    path = LOCALES / f"{language}.yml"
    translated = (yaml.safe_load(path.read_text()) or {}).get("responses") or {} if path.exists() else {}
    return {name: translated.get(name) or variants for name, variants in english.items()}


def plural_category(language: str, number: Any) -> str:
    """The CLDR plural category (one, few, many, other) of ``number`` in ``language``."""
    try:
        value = float(number) if not isinstance(number, int) else number
    except (TypeError, ValueError):
        return "other"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(Locale.parse(language).plural_form(value))


def resolve_plural(variant: Mapping[str, Any], values: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The variant with its ``text`` chosen for the number in its ``plural`` placeholder."""
    resolved = dict(variant)
    name = resolved.pop(PLURAL, None)
    forms = resolved.get("text")
    if isinstance(forms, Mapping):
        category = plural_category(language, values.get(name)) if name else "other"
        resolved["text"] = forms.get(category) or forms.get("other") or next(iter(forms.values()))
    return resolved


def when(moment: datetime, language: Optional[str] = None) -> str:
    """A moment as a customer reads it in their language (Babel's CLDR formats), always in UTC."""
    stamp = format_datetime(
        moment.astimezone(timezone.utc), "d MMMM y, HH:mm", tzinfo=timezone.utc, locale=language or SOURCE_LANGUAGE
    )
    return f"{stamp} UTC"


def text(name: str, language: Optional[str] = None, **values: Any) -> str:
    """The response's default text (its last variant) in ``language`` with ``{placeholders}`` filled."""
    variant = resolve_plural(responses(language or SOURCE_LANGUAGE)[name][-1], values, language or SOURCE_LANGUAGE)
    template = str(variant["text"])
    return template.format(**values) if values else template


# How an email names the channel a customer used, per language. (Kept here, next to the responses,
# until the next model training can take them into domain.yml and locales/ as responses.)
_CHANNEL_NAMES = {
    "en": {"webchat": "the web chat", "socketio": "the web chat", "rest": "our messaging service",
           "recovery": "the recovery chat", "other": "our {channel} channel"},
    "es": {"webchat": "el chat web", "socketio": "el chat web", "rest": "nuestro servicio de mensajería",
           "recovery": "el chat de recuperación", "other": "nuestro canal de {channel}"},
    "it": {"webchat": "la chat web", "socketio": "la chat web", "rest": "il nostro servizio di messaggistica",
           "recovery": "la chat di recupero", "other": "il nostro canale {channel}"},
    "ru": {"webchat": "веб-чат", "socketio": "веб-чат", "rest": "наш сервис сообщений",
           "recovery": "чат восстановления доступа", "other": "наш канал {channel}"},
}


def channel_name(channel: str, language: Optional[str] = None) -> str:
    """How an email names the channel a customer used, in the email's language."""
    names = _CHANNEL_NAMES.get(language or SOURCE_LANGUAGE, _CHANNEL_NAMES[SOURCE_LANGUAGE])
    return names.get(channel) or names["other"].format(channel=channel)


def recovery_chat(language: Optional[str] = None) -> str:
    """The recovery chat, as a confirmation email names where a change was made."""
    return channel_name("recovery", language)
