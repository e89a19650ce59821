"""What the customer is told to do when part of the service is down: the configured phone number."""

from __future__ import annotations

from typing import Optional

from recoverydesk import settings as settings_module
from recoverydesk.adapters import responses as messages
from recoverydesk.settings import Settings


def support_phone(settings: Optional[Settings] = None) -> str:
    """``SUPPORT_PHONE`` when configured, else the domain's generic pointer to the number."""
    configured = (settings or settings_module.load()).support_phone
    return configured or messages.text("utter_support_phone_default")
