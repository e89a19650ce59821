"""Targeted speed-ups inside Rasa 3.6.21, switched on by ``bot.rasa_plugins.patches.install()``.

Rasa validates every action-server response with ``jsonschema.validate``, which checks the
(constant) schema itself on every call: about a third of the Rasa process's CPU in
`make bench`. Here the validator is built once; what is accepted and raised is unchanged.

Rasa finds an event's class by walking every subclass of ``Event`` (with ``inspect`` checks)
for each event it reads back, which cost more than the rest of loading a long conversation.
Here the walk's answer is remembered per type name; a name not seen yet walks again.

Before each prediction every policy turns the whole conversation into dialogue states, step by
step from the first event: several times per turn, each time longer. A state depends only on the
events before it, so here each tracker remembers the states it has computed (per domain and
options) and computes only the steps its new events add. The memo is used only while the
tracker's applied events still begin with the very events (same objects) it was computed from;
otherwise (a rewind, a restart, another tracker) everything is computed again, as Rasa does.
Callers get fresh copies of the states, which some of them edit."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any, Dict, List, Optional, Text, Tuple, Type

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_plugins.replacement import Replacement


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


_walk_event_classes = Event.resolve_by_type
_event_classes: Dict[Text, Type[Event]] = {}


def _resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    found = _event_classes.get(type_name)
    if found is not None:
        return found
    found = _walk_event_classes(type_name, default)
    if found is not None and found is not default:
        _event_classes[type_name] = found
    return found


_STATES_MEMO = "_recoverydesk_states"
rasa_states_for_tracker_history = Domain.states_for_tracker_history  # Rasa's own, for comparison in tests


@dataclass
class _StatesMemo:
    domain: Domain
    rule_only_data: Optional[Dict[Text, Any]]
    replay: DialogueStateTracker  # the tracker as it was after `applied`
    applied: List[Event] = field(default_factory=list)
    events: Any = None  # the tracker's event deque, of which the first `seen` were consumed
    seen: int = 0
    last: Optional[Event] = None  # the last of those
    loop_names: frozenset = frozenset()
    states: List[State] = field(default_factory=list)
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False


def _step(
    domain: Domain,
    memo: _StatesMemo,
    tr: DialogueStateTracker,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
) -> Tuple[Optional[State], Any, bool]:
    """One pass of the loop in ``Domain.states_for_tracker_history`` (Rasa 3.6.21), unchanged:
    the state for `tr` (None when hidden) and the loop's two running values after it."""
    last_ml_action_sub_state, turn_was_hidden = memo.last_ml_action_sub_state, memo.turn_was_hidden
    if ignore_rule_only_turns:
        if not turn_was_hidden:
            last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
            turn_was_hidden = hide_rule_turn
        if turn_was_hidden:
            return None, last_ml_action_sub_state, turn_was_hidden
    state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, memo.rule_only_data)
        if memo.states:
            domain._substitute_rule_only_user_input(state, memo.states[-1])
        if last_ml_action_sub_state:
            state["prev_action"] = last_ml_action_sub_state
    return domain._clean_state(state), last_ml_action_sub_state, turn_was_hidden


# Events after which the applied events are not simply the earlier ones plus the new ones.
_REWRITING = (Restarted, SessionStarted, ActionReverted, UserUtteranceReverted, ActiveLoop)


def _appended(tracker: DialogueStateTracker, memo: _StatesMemo) -> Optional[List[Event]]:
    """The events the tracker gained since the memo was brought up to date, when they only add to
    its applied events (what ``applied_events`` would keep of them); None when that is not sure."""
    events = tracker.events
    if events is not memo.events or len(events) < memo.seen:
        return None
    if memo.seen and events[memo.seen - 1] is not memo.last:
        return None
    added = list(islice(events, memo.seen, None))
    for event in added:
        if isinstance(event, _REWRITING) or (
            isinstance(event, ActionExecuted) and event.action_name in memo.loop_names
        ):
            return None
    return added


def _copied(state: State) -> State:
    return {key: dict(sub) if isinstance(sub, dict) else sub for key, sub in state.items()}  # type: ignore[misc]


def _states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    memos: Dict[Any, _StatesMemo] = tracker.__dict__.setdefault(_STATES_MEMO, {})
    # RulePolicy passes a new (equal) rule_only_data dict on every call
    key = (id(self), omit_unset_slots, ignore_rule_only_turns, json.dumps(rule_only_data, sort_keys=True, default=str))
    memo = memos.get(key)
    added = _appended(tracker, memo) if memo is not None and memo.domain is self else None
    if added is None:
        applied = tracker.applied_events()
        if (
            memo is None
            or memo.domain is not self
            or len(applied) < len(memo.applied)
            or any(a is not b for a, b in zip(applied, memo.applied, strict=False))
        ):
            memo = memos[key] = _StatesMemo(self, rule_only_data, tracker.init_copy())
        added = applied[len(memo.applied) :]
        memo.loop_names = frozenset(e.name for e in tracker.events if isinstance(e, ActiveLoop) and e.name)
    assert memo is not None
    memo.events, memo.seen = tracker.events, len(tracker.events)
    memo.last = tracker.events[-1] if tracker.events else None
    for event in added:
        if isinstance(event, ActionExecuted):
            state, memo.last_ml_action_sub_state, memo.turn_was_hidden = _step(
                self, memo, memo.replay, event.hide_rule_turn, omit_unset_slots, ignore_rule_only_turns
            )
            if state is not None:
                memo.states.append(state)
        memo.replay.update(event)
        memo.applied.append(event)
    final, _, _ = _step(self, memo, memo.replay, False, omit_unset_slots, ignore_rule_only_turns)
    states = [_copied(state) for state in memo.states]
    if final is not None:
        states.append(_copied(final))  # it shares dicts with the memo's tracker
    return states


def replacements() -> list[Replacement]:
    """The three speed-ups, for ``patches.install()``; importing this module changes nothing in Rasa."""
    return [
        Replacement(RemoteAction, "_validate_action_result", _validate_action_result),
        Replacement(Event, "resolve_by_type", staticmethod(_resolve_by_type)),
        Replacement(Domain, "states_for_tracker_history", _states_for_tracker_history),
    ]
