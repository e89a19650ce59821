"""What the channels' input guard asks of the core: RL-4 message limits and the turn metrics.

Every customer message counts against its session's and everyone's limit before Rasa sees it;
each turn's outcome and latency are counted for ``/metrics`` on the helpdesk plugin."""

from __future__ import annotations

from dataclasses import dataclass

from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.traffic_limits import OverLimit, TrafficLimits

__all__ = ["ChannelGuard", "OverLimit"]


@dataclass
class ChannelGuard:
    limits: TrafficLimits
    metrics: Metrics
    max_chars: int

    async def admit(self, session_id: str) -> None:
        """Counts one message for the session, or raises ``OverLimit`` (nothing counted)."""
        await self.limits.take("messages", session_id)

    def turn_done(self, channel: str, outcome: str, seconds: float) -> None:
        """Counts the turn; an answered one also records how long it took."""
        self.metrics.count("recoverydesk_turns_total", {"channel": channel, "outcome": outcome})
        if outcome == "answered":
            self.metrics.observe("recoverydesk_turn_seconds", seconds)

    def service_unavailable(self) -> None:
        """Counts a turn that Redis (trackers, locks, limits) could not serve."""
        self.metrics.count("recoverydesk_errors_total", {"component": "rasa", "kind": "redis_unavailable"})
