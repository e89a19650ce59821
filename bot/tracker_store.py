"""Rasa's Redis tracker store, storing messages only after secrets are removed (PII-1).

Bot messages can carry a single-use link token (the password and 2FA pages); the customer
receives the message as sent, but the stored conversation keeps the link without its token."""
from __future__ import annotations

import json
from typing import Any, Text

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from actions.redaction import redact_text


def _redacted(value: Any) -> Any:
    """Every string inside, redacted: texts, parse data, and the values a response was filled with."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


class RedactingRedisTrackerStore(RedisTrackerStore):
    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> Text:
        dialogue = tracker.as_dialogue().as_dict()
        dialogue["events"] = [
            _redacted(event) if event.get("event") in ("user", "bot") else event for event in dialogue.get("events", [])
        ]
        return json.dumps(dialogue)
