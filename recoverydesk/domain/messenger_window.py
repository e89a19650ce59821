"""Meta's reply window: a business may answer a WhatsApp or Messenger customer only within 24
hours of the customer's last message (after that WhatsApp wants a paid template, Messenger a human
agent tag); Telegram has no such window."""

from __future__ import annotations

from typing import Optional

REPLY_WINDOW_SECONDS = 24 * 3600
WINDOWED_CHANNELS = frozenset({"whatsapp", "facebook"})


def closed_reason(channel: str, last_inbound: Optional[float], now: float) -> Optional[str]:
    """Why a reply cannot be sent now (for the agent, never the customer), or None when it can."""
    if channel not in WINDOWED_CHANNELS:
        return None
    if last_inbound is None:
        return "The customer has not written on this channel, so the platform allows no reply."
    if now - last_inbound > REPLY_WINDOW_SECONDS:
        hours = int((now - last_inbound) // 3600)
        return (
            f"The customer's last message was {hours} hours ago; {channel} allows replies only within "
            "24 hours of it. Ask the customer to write again, or contact them another way."
        )
    return None
