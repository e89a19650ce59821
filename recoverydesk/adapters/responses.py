"""Customer-facing texts in each language: English from domain.yml's responses, the others from
``locales/<code>.yml`` (same names, variants, placeholders and buttons; issue #16), so that every
sentence a customer reads lives in one translatable place. Used by the chat's NLG
(``bot/rasa_plugins/language_nlg.py``) and by everything outside the chat (emails, secure pages).

A variant may carry ``plural: <placeholder>`` and a ``text`` mapping CLDR plural categories
(``one``, ``few``, ``many``, ``other``) to texts; ``resolve_plural`` picks the category with
Babel's CLDR rules for the language and the placeholder's number."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping, Optional

import yaml
from babel import Locale

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


def text(name: str, language: Optional[str] = None, **values: Any) -> str:
    """The response's default text (its last variant) in ``language`` with ``{placeholders}`` filled."""
    variant = resolve_plural(responses(language or SOURCE_LANGUAGE)[name][-1], values, language or SOURCE_LANGUAGE)
    template = str(variant["text"])
    return template.format(**values) if values else template


_CHANNEL_NAMES = {"webchat": "the web chat", "socketio": "the web chat", "rest": "our messaging service"}


def channel_name(channel: str) -> str:
    """How an email names the channel a customer used."""
    return _CHANNEL_NAMES.get(channel, f"our {channel} channel")
