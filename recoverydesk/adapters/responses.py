"""Customer-facing texts outside the chat (emails, secure pages), read from domain.yml responses
so that every sentence a customer reads lives in one translatable place."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from recoverydesk.settings import ROOT

DOMAIN = ROOT / "domain.yml"


@lru_cache(maxsize=1)
def _responses() -> dict[str, str]:
    domain = yaml.safe_load(DOMAIN.read_text())
    return {name: variants[-1]["text"] for name, variants in domain["responses"].items()}


def text(name: str, **values: Any) -> str:
    """The response's default text with ``{placeholders}`` filled."""
    template = _responses()[name]
    return template.format(**values) if values else template


_CHANNEL_NAMES = {"webchat": "the web chat", "socketio": "the web chat", "rest": "our messaging service"}


def channel_name(channel: str) -> str:
    """How an email names the channel a customer used."""
    return _CHANNEL_NAMES.get(channel, f"our {channel} channel")
