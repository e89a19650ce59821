"""The sentences a channel shows outside a Rasa turn (secure pages, the input guard's refusals),
read from the responses in domain.yml, so that every text a customer reads has one home."""

from __future__ import annotations

from recoverydesk.adapters.responses import text

__all__ = ["text"]
