"""Replies in the conversation's language: Rasa's own templated NLG, one per language (issue #16).

Configured in endpoints (``nlg: type: bot.rasa_plugins.language_nlg.LanguageNLG``). Each language
gets its own ``TemplatedNaturalLanguageGenerator`` over that language's responses
(``recoverydesk/adapters/responses.py``: ``domain.yml`` for English, ``locales/<code>.yml`` for the
others), built once when Rasa loads the endpoints, so Rasa's own variant selection (channel,
slot conditions) applies unchanged within the language. The language is the ``language`` slot,
else the newest ``language_hint`` a channel put in a message's metadata, else
``DEFAULT_LANGUAGE``. A response a language lacks falls back to English. ``plural:`` variants get
their text for the number with Babel's CLDR rules before the placeholders are filled.

Why not conditional response variations on the ``language`` slot: Rasa picks at random among all
the variations whose conditions match (no "most specific wins"), so every response's channel and
triage conditions would have to be repeated per language; conditions are read before the action's
own ``SlotSet`` lands; and per-language domain files replace each other's variations instead of
merging. A generator per language keeps each language's file a plain mirror of ``domain.yml``."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Text

from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_plugins.language import GUESS
from recoverydesk import settings
from recoverydesk.adapters import responses
from recoverydesk.domain.languages import conversation_language

SLOT = "language"
HINT = "language_hint"


class PluralAwareGenerator(TemplatedNaturalLanguageGenerator):
    """Rasa's templated generator for one language, resolving ``plural:`` variants first."""

    def __init__(self, language: str, variants: Dict[Text, List[Dict[Text, Any]]]) -> None:
        super().__init__(variants)
        self.language = language

    def _fill_response(
        self, response: Dict[Text, Any], filled_slots: Optional[Dict[Text, Any]] = None, **kwargs: Any
    ) -> Dict[Text, Any]:
        if responses.PLURAL in response:
            response = responses.resolve_plural(response, {**(filled_slots or {}), **kwargs}, self.language)
        return super()._fill_response(response, filled_slots, **kwargs)


def hints(tracker: DialogueStateTracker) -> Iterator[Any]:
    """What guides replies while the slot is empty, best first: the newest weak guess from the
    customer's own words, then the channel's hints (web chat's locale, Telegram's language_code)."""
    users = [event for event in reversed(tracker.events) if isinstance(event, UserUttered)]
    for event in users:
        for entity in event.entities or []:
            if entity.get("entity") == GUESS:
                yield entity.get("value")
    for event in users:
        hint = (event.metadata or {}).get(HINT)
        if hint:
            yield hint


class LanguageNLG(NaturalLanguageGenerator):
    """Chooses the conversation's language, then lets that language's generator answer."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        loaded = settings.load()
        self.languages = loaded.languages
        self.default = loaded.default_language
        self.generators = {
            code: PluralAwareGenerator(code, responses.responses(code)) for code in self.languages
        }
        if responses.SOURCE_LANGUAGE not in self.generators:
            self.generators[responses.SOURCE_LANGUAGE] = PluralAwareGenerator(
                responses.SOURCE_LANGUAGE, responses.responses(responses.SOURCE_LANGUAGE)
            )

    def language_of(self, tracker: DialogueStateTracker) -> str:
        return conversation_language(tracker.get_slot(SLOT), hints(tracker), self.languages, self.default)

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        generator = self.generators[self.language_of(tracker)]
        reply = await generator.generate(utter_action, tracker, output_channel, **kwargs)
        if reply is None and generator.language != responses.SOURCE_LANGUAGE:
            reply = await self.generators[responses.SOURCE_LANGUAGE].generate(
                utter_action, tracker, output_channel, **kwargs
            )
        return reply
