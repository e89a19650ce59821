"""Rasa's REST channel with the same redaction as the web chat (for integrations and tests)."""
from __future__ import annotations

from typing import Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from actions.redaction import redact_text


class RedactingRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _extract_message(self, req: Request) -> Optional[Text]:
        text = super()._extract_message(req)
        return redact_text(text) if isinstance(text, str) else text
