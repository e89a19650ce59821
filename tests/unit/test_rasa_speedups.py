"""The speed-ups inside Rasa change no result: dialogue states and event types come out as Rasa's own."""

from __future__ import annotations

import copy

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_plugins import rasa_speedups
from recoverydesk.settings import ROOT

RULE_ONLY = {"rule_only_slots": ["misunderstood"], "rule_only_loops": []}
OPTIONS = [
    {},
    {"omit_unset_slots": True},
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
    {"ignore_rule_only_turns": True, "rule_only_data": None},
]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _user(intent: str) -> UserUttered:
    return UserUttered(intent.replace("_", " "), {"name": intent, "confidence": 1.0})


def _conversation() -> list[Event]:
    """A conversation through a form, a rule-only turn, a rewind, a restart and a new session."""
    return [
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
        _user("greet"),
        ActionExecuted("utter_greet"),
        BotUttered("Hi"),
        ActionExecuted(ACTION_LISTEN_NAME),
        _user("report_unauthorized_transaction"),
        SlotSet("triage_category", "unauthorized_transaction"),
        ActionExecuted("triage_form"),
        ActiveLoop("triage_form"),
        SlotSet("requested_slot", "money_moved"),
        ActionExecuted(ACTION_LISTEN_NAME),
        _user("affirm"),
        ActionExecuted("triage_form"),
        SlotSet("money_moved", True),
        SlotSet("requested_slot", "access_ongoing"),
        ActionExecuted(ACTION_LISTEN_NAME),
        _user("deny"),
        ActionExecuted("triage_form"),
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        ActionExecuted("utter_welcome", hide_rule_turn=True),
        ActionExecuted(ACTION_LISTEN_NAME, hide_rule_turn=True),
        _user("thank"),
        ActionExecuted("utter_welcome", hide_rule_turn=True),
        ActionExecuted(ACTION_LISTEN_NAME, hide_rule_turn=True),
        _user("nlu_fallback"),
        UserUtteranceReverted(),
        _user("bot_challenge"),
        ActionExecuted("utter_iamabot"),
        ActionExecuted(ACTION_LISTEN_NAME),
        _user("greet"),
        ActionExecuted("utter_greet"),
        Restarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        ActionExecuted(ACTION_LISTEN_NAME),
        _user("thank"),
        ActionExecuted("utter_welcome"),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]


def test_dialogue_states_are_rasas_after_every_event_however_asked(domain):
    tracker = DialogueStateTracker("speedups", domain.slots)
    for event in _conversation():
        tracker.update(event)
        for options in OPTIONS:
            ours = domain.states_for_tracker_history(tracker, **copy.deepcopy(options))
            theirs = rasa_speedups.rasa_states_for_tracker_history(domain, tracker, **copy.deepcopy(options))
            assert ours == theirs, (event, options)


def test_editing_returned_states_does_not_change_the_next_answer(domain):
    tracker = DialogueStateTracker("speedups-edit", domain.slots)
    for event in _conversation()[:20]:
        tracker.update(event)
    first = domain.states_for_tracker_history(tracker)
    expected = copy.deepcopy(first)
    for state in first:
        for sub in state.values():
            sub.clear()
    assert domain.states_for_tracker_history(tracker) == expected


def test_a_copied_tracker_gets_the_same_states(domain):
    tracker = DialogueStateTracker("speedups-copy", domain.slots)
    for event in _conversation()[:25]:
        tracker.update(event)
    domain.states_for_tracker_history(tracker, ignore_rule_only_turns=True, rule_only_data=RULE_ONLY)
    copied = tracker.copy()
    copied.update(_user("greet"))
    options = {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY}
    assert domain.states_for_tracker_history(copied, **options) == rasa_speedups.rasa_states_for_tracker_history(
        domain, copied, **options
    )
    assert domain.states_for_tracker_history(copied) == rasa_speedups.rasa_states_for_tracker_history(domain, copied)


def test_event_types_resolve_as_rasa_resolves_them():
    for name in ("user", "bot", "action", "slot", "active_loop", "session_started", "restart", "rewind"):
        found = Event.resolve_by_type(name)
        assert found is not None and found.type_name == name
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
