"""Responses in every language (issue #16): each ``locales/<code>.yml`` mirrors ``domain.yml``
(names, variants, non-text keys, placeholders, buttons), every variation is written in its own
language, plurals follow CLDR, and the NLG answers in the conversation's language."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pytest
import yaml
from babel import Locale
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_plugins.language import written_language
from bot.rasa_plugins.language_nlg import LanguageNLG
from recoverydesk import settings
from recoverydesk.adapters import responses
from recoverydesk.settings import ROOT

PLACEHOLDER = re.compile(r"\{(\w+)\}")
ALL = ("en", "es", "it", "ru")
CONFIGURED = [code for code in settings.load().languages if code != "en"]
PRESENT = sorted(path.stem for path in (ROOT / "locales").glob("*.yml"))
CHECKED = sorted(set(CONFIGURED) | set(PRESENT))


@lru_cache(maxsize=1)
def english() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]


def translated(code: str) -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load((ROOT / "locales" / f"{code}.yml").read_text())["responses"]


def texts_of(variant: dict[str, Any]) -> list[str]:
    text = variant.get("text")
    return list(text.values()) if isinstance(text, dict) else [text] if text else []


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def pairs(code: str):
    theirs = translated(code)
    for name, variants in english().items():
        for index, variant in enumerate(variants):
            yield name, index, variant, theirs.get(name, [])


def test_every_configured_language_has_its_responses_file():
    missing = [code for code in CONFIGURED if not (ROOT / "locales" / f"{code}.yml").exists()]
    assert not missing, f"LANGUAGES lists {missing} but locales/<code>.yml is missing"


@pytest.mark.parametrize("code", CHECKED)
def test_a_locale_has_the_same_responses_and_variants_as_domain(code):
    theirs = translated(code)
    assert set(theirs) == set(english()), set(theirs) ^ set(english())
    for name, variants in english().items():
        assert len(theirs[name]) == len(variants), name
        for mine, their in zip(variants, theirs[name], strict=True):
            keys = {k for k in mine if k not in ("text", "buttons")}
            assert {k for k in their if k not in ("text", "buttons", "plural")} == keys, name
            for key in keys:
                assert their[key] == mine[key], (name, key)


@pytest.mark.parametrize("code", CHECKED)
def test_a_locale_keeps_placeholders_buttons_and_payloads(code):
    for name, index, mine, theirs in pairs(code):
        their = theirs[index]
        expected = placeholders(mine.get("text") or "")
        for text in texts_of(their):
            assert placeholders(text) == expected, (name, index, text)
        my_buttons = mine.get("buttons") or []
        their_buttons = their.get("buttons") or []
        assert [b["payload"] for b in their_buttons] == [b["payload"] for b in my_buttons], (name, index)
        for button in their_buttons:
            assert placeholders(button["title"]) <= expected | placeholders(
                " ".join(b["title"] for b in my_buttons)
            ), (name, button)
            if mine.get("channel") in ("whatsapp", "facebook"):
                assert len(button["title"]) <= 20, (name, button["title"])


@pytest.mark.parametrize("code", CHECKED)
def test_plural_variants_name_a_placeholder_and_give_every_cldr_category(code):
    categories = set(Locale.parse(code).plural_form.rules) | {"other"}
    for name, index, mine, theirs in pairs(code):
        their = theirs[index]
        if "plural" in their:
            assert their["plural"] in placeholders(mine["text"]), name
            assert isinstance(their["text"], dict), name
            assert set(their["text"]) >= categories, (name, categories - set(their["text"]))
            assert set(their["text"]) <= {"zero", "one", "two", "few", "many", "other"}, name
        else:
            assert isinstance(their.get("text", ""), str), name


BRANDS = re.compile(r"Recovery Desk|TOTP|Telegram|WhatsApp|Messenger|Google Authenticator|Authy", re.IGNORECASE)


def strip(text: str) -> str:
    """Placeholders and brand names (kept in every language) say nothing about the language."""
    return BRANDS.sub(" ", PLACEHOLDER.sub(" ", text))


@pytest.mark.parametrize("code", ["en", *CHECKED])
def test_every_variation_is_written_in_its_own_language(code):
    """Every text and button title the detector can judge is in the file's language."""
    wrong = []
    judged = 0
    for name, variants in responses.responses(code).items():
        if code != "en" and name not in translated(code):
            continue
        for variant in variants:
            pieces = texts_of(variant) + [b["title"] for b in variant.get("buttons") or []]
            for piece in pieces:
                found = written_language(strip(piece), ALL)
                if found is not None:
                    judged += 1
                    if found != code:
                        wrong.append((name, found, piece[:80]))
    assert judged >= 50
    assert not wrong, wrong


@pytest.mark.parametrize(
    "number,word", [(1, "минуту"), (2, "минуты"), (5, "минут"), (21, "минуту"), (22, "минуты"), (11, "минут")]
)
def test_russian_plurals_follow_cldr(number, word):
    assert responses.plural_category("ru", 1) == "one" and responses.plural_category("ru", 5) == "many"
    variant = {"plural": "minutes", "text": {"one": "{minutes} минуту", "few": "{minutes} минуты",
                                            "many": "{minutes} минут", "other": "{minutes} минуты"}}
    assert responses.resolve_plural(variant, {"minutes": number}, "ru")["text"] == f"{{minutes}} {word}"


def test_spanish_and_italian_plurals_tell_one_from_many():
    assert [responses.plural_category("es", n) for n in (1, 2, 0)] == ["one", "other", "other"]
    assert [responses.plural_category("it", n) for n in (1, 3)] == ["one", "other"]


def test_text_outside_the_chat_is_in_the_language_asked_for():
    assert responses.text("utter_greet", language="en") == english()["utter_greet"][-1]["text"]
    for code in CHECKED:
        assert responses.text("utter_greet", language=code) == translated(code)["utter_greet"][-1]["text"]


@lru_cache(maxsize=1)
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("c1", list(events), slots=domain().slots)


async def test_the_nlg_answers_in_the_slot_language_then_the_hint_then_the_default():
    nlg = LanguageNLG()
    for code in CHECKED:
        reply = await nlg.generate("utter_greet", tracker(SlotSet("language", code)), "webchat")
        assert reply["text"] == translated(code)["utter_greet"][0]["text"]
    hinted = tracker(UserUttered("ok", metadata={"language_hint": "ru-RU"}))
    if "ru" in CHECKED:
        hinted_reply = await nlg.generate("utter_greet", hinted, "webchat")
        assert hinted_reply["text"] == translated("ru")["utter_greet"][0]["text"]
    plain = await nlg.generate("utter_greet", tracker(), "webchat")
    assert plain["text"] == responses.text("utter_greet", language=settings.load().default_language)


async def test_the_nlg_keeps_rasa_channel_and_condition_selection_within_a_language():
    nlg = LanguageNLG()
    name = next(
        (n for n, vs in english().items() if any(v.get("channel") == "whatsapp" for v in vs)), None
    )
    assert name is not None
    for code in CHECKED:
        wanted = [v for v in translated(code)[name] if v.get("channel") == "whatsapp"]
        reply = await nlg.generate(name, tracker(SlotSet("language", code)), "whatsapp")
        assert any(reply["text"] == PLACEHOLDER.sub(lambda m: "None", v["text"]) or reply["text"] == v["text"]
                   or reply["text"].split("{")[0] == v["text"].split("{")[0] for v in wanted), (code, reply)


async def test_the_nlg_fills_russian_plurals_by_number():
    if "ru" not in CHECKED:
        pytest.skip("no Russian responses file")
    nlg = LanguageNLG()
    for number, word in ((1, "минуту"), (3, "минуты"), (5, "минут"), (21, "минуту")):
        reply = await nlg.generate(
            "utter_too_many_tickets_global", tracker(SlotSet("language", "ru")), "webchat",
            minutes=number, support_phone="+7 800 000-00-00",
        )
        assert f"{number} {word}" in reply["text"]
