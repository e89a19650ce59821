"""A message that is just an email address means the customer is giving their address.

DIET learns ``inform_email`` from examples, but an address it has never seen (all digits, say
``40512773@example.com``) can fall under the fallback threshold, and the customer would be told
we did not understand the one thing we asked for. This classifier runs after DIET and before the
FallbackClassifier and settles that case by its form: one address and at most two other words.
Longer sentences ("someone changed my email to x@example.com") stay DIET's to classify."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from recoverydesk.domain.accounts import EMAIL_IN_TEXT

EMAIL_INTENT = "inform_email"
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
MAX_OTHER_WORDS = 2


def is_an_email_reply(text: str) -> bool:
    """One address, and no more than ``MAX_OTHER_WORDS`` words around it ("it's x@example.com")."""
    addresses = EMAIL_IN_TEXT.findall(text)
    if len(addresses) != 1:
        return False
    return len(_WORD.findall(EMAIL_IN_TEXT.sub(" ", text))) <= MAX_OTHER_WORDS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmailReplyClassifier(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[type]:
        return [IntentClassifier]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EmailReplyClassifier:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if is_an_email_reply(message.get(TEXT) or ""):
                intent = {"name": EMAIL_INTENT, "confidence": 1.0}
                ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != EMAIL_INTENT]
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        return messages
