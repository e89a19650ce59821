"""Which language the customer writes in: an NLU component that sets the ``language`` entity only
when the message decides it (issue #16).

- An explicit request ("¿podemos hablar en español?", "можно по-русски?", "in English please",
  "parliamo in italiano", or a button's ``/request_language{"language": "es"}`` payload, which Rasa
  parses itself) is the intent ``request_language`` with the language as entity.
- Otherwise a message with at least three distinct words (addresses, numbers, codes, what redaction
  left, brand names and emoji do not count) whose top language the detector is at least 45 % sure
  of, 8 points ahead of the next (60 % and 30 points for exactly three words), gives the entity.
  On the held-out phrasings of the four languages no message is decided in a wrong language at
  these thresholds (on the training phrasings, about 0.2 %, mostly foreign greetings).
- Exactly three words the detector leans to ("no non serve") give only ``language_guess``: no slot
  is filled from it, but while the ``language`` slot is empty replies follow the newest guess.
- Anything else ("ok", "2, 3", a code, an address, "sì grazie") gives no entity, so the ``language``
  slot (a ``from_entity`` mapping) keeps its value; until it has one, replies follow the newest
  guess, else the channel's hint (``language_hint`` metadata), else ``DEFAULT_LANGUAGE``
  (``bot/rasa_plugins/language_nlg.py``).

The detector (lingua, its models inside the wheel, no download) is built once per process for the
configured ``LANGUAGES`` with its models preloaded, and gives the same answer for the same text."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Text

from lingua import Language, LanguageDetector, LanguageDetectorBuilder
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from recoverydesk import settings
from recoverydesk.domain import languages as rules

ENTITY = "language"
GUESS = "language_guess"  # weak evidence, in the parse data only: no slot is filled from it
SWITCH_INTENT = "request_language"
EXTRACTOR = "LanguageDetection"
_LINGUA = {"en": Language.ENGLISH, "es": Language.SPANISH, "it": Language.ITALIAN, "ru": Language.RUSSIAN}


@lru_cache(maxsize=4)
def detector(languages: Sequence[str]) -> LanguageDetector:
    """One detector per set of languages per process, its models loaded now rather than per message."""
    chosen = [_LINGUA[code] for code in languages if code in _LINGUA]
    if len(chosen) == 1:
        chosen = [*chosen, *(lang for lang in _LINGUA.values() if lang not in chosen)][:2]
    return LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models().build()


def written_language(text: str, languages: Sequence[str]) -> Optional[str]:
    """The language ``text`` is clearly written in, or None when it is too short or too unsure."""
    code, strong = language_evidence(text, languages)
    return code if strong else None


def language_evidence(text: str, languages: Sequence[str]) -> tuple[Optional[str], bool]:
    """(language, strong): the detector's answer and whether it is strong enough to decide; a weak
    one (exactly three words, at least 45 % sure) only guides replies until something decides."""
    words = rules.content_words(text)
    if len(set(words)) < rules.MIN_WORDS:
        return None, False
    values = detector(tuple(languages)).compute_language_confidence_values(" ".join(words))
    runner_up = values[1].value if len(values) > 1 else 0.0
    if not values or values[0].value < rules.MIN_CONFIDENCE or values[0].value - runner_up < rules.MIN_MARGIN:
        return None, False
    code = values[0].language.iso_code_639_1.name.lower()
    if code not in languages:
        return None, False
    three = len(set(words)) == rules.MIN_WORDS
    strong = not three or (
        values[0].value >= rules.THREE_WORD_CONFIDENCE and values[0].value - runner_up >= rules.THREE_WORD_MARGIN
    )
    return code, strong


def decide(text: str, languages: Sequence[str]) -> tuple[Optional[str], bool]:
    """(language, asked): the language this message decides, and whether the customer asked for it."""
    asked = rules.requested_language(text, languages)
    if asked is not None:
        return asked, True
    return written_language(text, languages), False


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
    is_trainable=False,
)
class LanguageDetection(GraphComponent):
    """Adds the ``language`` entity when a message decides the language (and the switch intent)."""

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = tuple(languages)
        detector(self.languages)  # built and loaded once, at model load

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetection:
        return cls(settings.load().languages)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):
                continue  # a button's payload carries its own intent and entities
            code, asked = decide(text, self.languages)
            if code is None:
                guess, _ = language_evidence(text, self.languages)
                if guess is not None:  # not decisive: guides replies only while nothing has decided
                    found = {"entity": GUESS, "value": guess, "start": 0, "end": len(text), "extractor": EXTRACTOR}
                    message.set(ENTITIES, [*(message.get(ENTITIES) or []), found], add_to_output=True)
                continue
            entity = {"entity": ENTITY, "value": code, "start": 0, "end": len(text), "extractor": EXTRACTOR}
            entities = [e for e in message.get(ENTITIES) or [] if e.get("entity") != ENTITY]
            message.set(ENTITIES, [*entities, entity], add_to_output=True)
            if asked:
                intent = {"name": SWITCH_INTENT, "confidence": 1.0}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != SWITCH_INTENT]
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
