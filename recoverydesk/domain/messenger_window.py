"""Meta's reply windows: a business may answer a WhatsApp or Messenger customer only within 24
hours of the customer's last message (after that WhatsApp wants a paid template); on Messenger a
person (not the bot) may still answer for 7 days with the ``HUMAN_AGENT`` message tag. Telegram
has no such window."""

from __future__ import annotations

from typing import Optional

REPLY_WINDOW_SECONDS = 24 * 3600
HUMAN_AGENT_WINDOW_SECONDS = 7 * 24 * 3600
WINDOWED_CHANNELS = frozenset({"whatsapp", "facebook"})


def _limit(channel: str, from_agent: bool) -> int:
    return HUMAN_AGENT_WINDOW_SECONDS if from_agent and channel == "facebook" else REPLY_WINDOW_SECONDS


def closed_reason(channel: str, last_inbound: Optional[float], now: float, from_agent: bool = False) -> Optional[str]:
    """Why a reply (the bot's, or with ``from_agent`` a person's) cannot be sent now, for the agent
    and never the customer; None when it can."""
    if channel not in WINDOWED_CHANNELS:
        return None
    if last_inbound is None:
        return "The customer has not written on this channel, so the platform allows no reply."
    limit = _limit(channel, from_agent)
    if now - last_inbound > limit:
        hours = int((now - last_inbound) // 3600)
        allowed = "7 days (a person's reply)" if limit == HUMAN_AGENT_WINDOW_SECONDS else "24 hours"
        return (
            f"The customer's last message was {hours} hours ago; {channel} allows replies only within "
            f"{allowed} of it. Ask the customer to write again, or contact them another way."
        )
    return None


def needs_human_agent_tag(channel: str, last_inbound: Optional[float], now: float) -> bool:
    """A person's Messenger reply after the 24 hours, within the 7 days: it must carry the tag."""
    return (
        channel == "facebook"
        and last_inbound is not None
        and REPLY_WINDOW_SECONDS < now - last_inbound <= HUMAN_AGENT_WINDOW_SECONDS
    )
