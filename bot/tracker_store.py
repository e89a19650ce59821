"""Rasa's Redis tracker store, storing messages only after secrets are removed (PII-1).

Bot messages can carry a single-use link token (the password and 2FA pages); the customer
receives the message as sent, but the stored conversation keeps the link without its token."""
from __future__ import annotations

import json
from typing import Any, Text

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from actions.redaction import redact_text


def _redact_event(event: dict[str, Any]) -> None:
    if isinstance(event.get("text"), str):
        event["text"] = redact_text(event["text"])
    parse_data = event.get("parse_data")
    if isinstance(parse_data, dict) and isinstance(parse_data.get("text"), str):
        parse_data["text"] = redact_text(parse_data["text"])


class RedactingRedisTrackerStore(RedisTrackerStore):
    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> Text:
        dialogue = tracker.as_dialogue().as_dict()
        for event in dialogue.get("events", []):
            _redact_event(event)
        return json.dumps(dialogue)
