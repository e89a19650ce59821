"""The services' view of a rasa_sdk ``Tracker``: its id, events, slots and latest message."""

from __future__ import annotations

from rasa_sdk import Tracker

from recoverydesk import settings
from recoverydesk.domain.conversation import Conversation


def conversation_of(tracker: Tracker) -> Conversation:
    latest = tracker.latest_message or {}
    return Conversation(
        id=tracker.sender_id,
        events=tracker.events,  # read, never changed: no copy on every action
        slots=tracker.slots,
        channel=tracker.get_latest_input_channel() or "webchat",
        intent=(latest.get("intent") or {}).get("name"),
        text=latest.get("text") or "",
        languages=settings.load().languages,
        default_language=settings.load().default_language,
        intent_ranking=tuple(
            (str(r.get("name")), float(r.get("confidence") or 0.0)) for r in latest.get("intent_ranking") or []
        ),
    )
