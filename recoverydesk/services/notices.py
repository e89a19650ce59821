"""What the customer is told to do when part of the service is down: the configured phone number."""

from __future__ import annotations

import os
from typing import Mapping, Optional

from recoverydesk.adapters import responses as messages


def support_phone(env: Optional[Mapping[str, str]] = None) -> str:
    """``SUPPORT_PHONE`` when configured, else the domain's generic pointer to the number."""
    configured = (os.environ if env is None else env).get("SUPPORT_PHONE", "").strip()
    return configured or messages.text("utter_support_phone_default")
