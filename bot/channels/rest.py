"""Rasa's REST channel with the same redaction as the web chat (for integrations and tests)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.input_limits import InputGuard, malformed_rest_message
from bot.channels.redaction_hook import redacting
from recoverydesk.services import bootstrap


class RedactingRestInput(RestInput):
    def __init__(self, parts: Optional[bootstrap.Channels] = None) -> None:
        self.parts = parts or bootstrap.channels()

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(redacting(on_new_message, self.parts.codes, InputGuard(self.parts.guard)))

        @blueprint.middleware("request")
        async def refuse_malformed(request: Request) -> Optional[HTTPResponse]:
            """Rasa's REST channel would raise (a 500) on a body that is not the object it expects."""
            if request.method != "POST":
                return None
            problem = malformed_rest_message(request.body)
            return (
                response.json({"error": {"code": "invalid_request", "message": problem}}, status=400)
                if problem
                else None
            )

        return blueprint
