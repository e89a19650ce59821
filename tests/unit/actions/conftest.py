"""Action tests in the rasa-sdk / financial-demo style: a ``Tracker`` built from a dict, a
``CollectingDispatcher``, the real domain, and fake services installed with ``bootstrap.use``."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Iterator, Optional

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from recoverydesk.services import bootstrap
from recoverydesk.settings import ROOT

DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text())


class Answers:
    """A fake service method: answers every call with ``outcome`` and keeps the arguments."""

    def __init__(self, outcome: Any = None) -> None:
        self.outcome = outcome
        self.calls: list[tuple[Any, ...]] = []

    def _answer(self, *args: Any) -> Any:
        self.calls.append(args)
        return self.outcome

    async def __call__(self, *args: Any) -> Any:
        return self._answer(*args)

    @property
    def sync(self) -> Any:
        """The same fake for a method that is not a coroutine."""
        return self._answer


@dataclass
class Fakes:
    verification: SimpleNamespace = field(default_factory=SimpleNamespace)
    two_factor: SimpleNamespace = field(default_factory=SimpleNamespace)
    escalation: SimpleNamespace = field(default_factory=SimpleNamespace)
    crisis: SimpleNamespace = field(default_factory=SimpleNamespace)


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    installed = Fakes()
    bootstrap.use(
        bootstrap.Services(
            verification=installed.verification,  # type: ignore[arg-type]
            two_factor=installed.two_factor,  # type: ignore[arg-type]
            escalation=installed.escalation,  # type: ignore[arg-type]
            crisis=installed.crisis,  # type: ignore[arg-type]
        )
    )
    yield installed
    bootstrap.use(None)


def tracker(
    text: str = "",
    intent: Optional[str] = None,
    slots: Optional[dict[str, Any]] = None,
    events: Optional[list[dict[str, Any]]] = None,
    sender_id: str = "conversation-1",
) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0} if intent else {}, "entities": []}
    if events is None:
        events = [{"event": "user", "timestamp": 1_700_000_000.0, "text": text, "input_channel": "socketio"}]
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": slots or {},
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


@dataclass
class Run:
    events: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    @property
    def responses(self) -> list[str]:
        return [m["response"] for m in self.messages]

    def said(self, response: str) -> dict[str, Any]:
        """The one message sent with ``response``, with its values."""
        found = [m for m in self.messages if m["response"] == response]
        assert len(found) == 1, f"{response} sent {len(found)} times in {self.responses}"
        return found[0]

    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e["event"] == "slot"}


def assert_asked_to_verify(done: Run, step: dict[str, Any]) -> None:
    """Only the email address was asked for, and the flow's step is set to wait for it."""
    assert done.responses == ["utter_ask_email"]
    assert done.events == [step]


async def run(action: Action, on: Tracker) -> Run:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, on, DOMAIN)
    for message in dispatcher.messages:  # every text a customer reads is a domain response
        assert message["response"] in DOMAIN["responses"], message["response"]
    return Run(events, dispatcher.messages)
