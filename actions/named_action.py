"""How an action is declared here: its domain name stands in its class statement,
``class ActionSendCode(NamedAction, action_name="action_send_code")``, and the class says only what ``run`` does."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class NamedAction(Action, metaclass=ABCMeta):
    """A rasa_sdk ``Action`` named in its class statement. Abstract: rasa_sdk registers only the subclasses."""

    action_name: ClassVar[str]

    def __init_subclass__(cls, *, action_name: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.action_name = action_name

    def name(self) -> Text:
        return self.action_name

    @abstractmethod
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """The responses the action sends through ``dispatcher`` and the events it returns."""
