"""Rasa's REST channel with the same redaction as the web chat (for integrations and tests)."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from actions.code_inbox import CodeInbox

from .redaction_hook import redacting


class RedactingRestInput(RestInput):
    def __init__(self) -> None:
        self.inbox = CodeInbox.from_environment()

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(redacting(on_new_message, self.inbox))
