"""The sentences a channel shows outside a Rasa turn (secure pages, the input guard's refusals),
read from the responses (domain.yml, locales/<code>.yml), so that every text a customer reads has
one home. A secure page speaks the language its link was sent in: the page sets ``page_language``
for the request it serves, and ``text`` reads it."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Optional

from recoverydesk.adapters import responses

page_language: ContextVar[str] = ContextVar("page_language", default=responses.SOURCE_LANGUAGE)

__all__ = ["page_language", "text"]


def text(name: str, language: Optional[str] = None, **values: Any) -> str:
    """The response's text in ``language``, else in the language of the page being served."""
    return responses.text(name, language=language or page_language.get(), **values)
