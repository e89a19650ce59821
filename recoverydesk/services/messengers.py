"""What the messenger channels (Telegram, WhatsApp, Messenger) ask of the core.

- an inbound platform message is admitted once (replay guard over the platform's retry window)
  under an opaque conversation id, and its reply address and time are remembered;
- a send goes to the platform only inside its reply window; a send that is not attempted or that
  fails is logged with its kind (never its text), counted in
  ``recoverydesk_channel_send_failures_total{channel,kind}`` and kept for the agent's console;
- the console asks whether a conversation's window is open and why not."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Optional

from recoverydesk.adapters.messenger_api import PlatformApi, Sent
from recoverydesk.adapters.messenger_store import MessengerStore
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.domain.messenger_identity import conversation_id, message_digest
from recoverydesk.domain.messenger_window import closed_reason, needs_human_agent_tag

__all__ = ["MessengerDesk", "Sent"]
log = logging.getLogger("recoverydesk.messenger")
SEND_FAILURES = "recoverydesk_channel_send_failures_total"


@dataclass
class MessengerDesk:
    store: MessengerStore
    api: PlatformApi
    metrics: Metrics
    id_key: bytes

    def conversation_id(self, channel: str, platform_user_id: str) -> str:
        return conversation_id(self.id_key, channel, platform_user_id)

    async def admit(
        self, channel: str, platform_user_id: str, address: str, message_id: str, retry_window_seconds: int
    ) -> Optional[str]:
        """The conversation id for a new platform message, or None for one seen before."""
        digest = message_digest(self.id_key, channel, message_id)
        if not await self.store.first_sighting(channel, digest, retry_window_seconds):
            log.info("messenger.replay_ignored", extra={"channel": channel})
            self.metrics.count("recoverydesk_channel_replays_total", {"channel": channel})
            return None
        conversation = self.conversation_id(channel, platform_user_id)
        await self.store.inbound(conversation, channel, address)
        return conversation

    async def address(self, conversation: str) -> Optional[str]:
        known = await self.store.get(conversation)
        return known.address if known else None

    async def deliver(
        self,
        channel: str,
        conversation: str,
        url: str,
        body: Mapping[str, Any],
        headers: Optional[Mapping[str, str]] = None,
        from_agent: bool = False,
        tagged: Optional[Mapping[str, Any]] = None,
    ) -> Sent:
        """Sends a message to the customer, inside the platform's reply window only; a person's
        Messenger reply after 24 hours goes as ``tagged`` (the HUMAN_AGENT tag) when given."""
        known = await self.store.get(conversation)
        last_inbound, now = (known.last_inbound if known else None), time.time()
        if closed_reason(channel, last_inbound, now, from_agent and tagged is not None) is not None:
            return await self.failed(channel, conversation, Sent(False, "window_closed"))
        if tagged is not None and from_agent and needs_human_agent_tag(channel, last_inbound, now):
            body = tagged
        sent = await self.api.post(url, body, headers)
        return sent if sent.ok else await self.failed(channel, conversation, sent)

    async def call(
        self, channel: str, method: str, url: str, body: Mapping[str, Any], headers: Optional[Mapping[str, str]] = None
    ) -> Sent:
        """A platform call that is not a message (deleting one, answering a button press)."""
        sent = await self.api.post(url, body, headers)
        if not sent.ok:
            log.warning("messenger.call_failed", extra={"channel": channel, "method": method, "kind": sent.kind})
            self.metrics.count(SEND_FAILURES, {"channel": channel, "kind": sent.kind})
        return sent

    async def failed(self, channel: str, conversation: str, sent: Sent) -> Sent:
        log.warning("messenger.send_failed", extra={"channel": channel, "kind": sent.kind})
        self.metrics.count(SEND_FAILURES, {"channel": channel, "kind": sent.kind})
        try:
            await self.store.send_failed(conversation, sent.kind)
        except Exception as exc:  # Redis down: the log line and the metric still tell
            log.warning("messenger.failure_not_kept", extra={"kind": type(exc).__name__})
        return sent

    async def notice_once(self, conversation: str, notice: str) -> bool:
        return await self.store.notice_once(conversation, notice)

    async def reply_window(self, conversation: str) -> Optional[dict]:
        """For the agent's console: the channel, whether a reply can reach the customer, and why not;
        None for a conversation that is not on a messenger."""
        known = await self.store.get(conversation)
        if known is None:
            return None
        now = time.time()
        reason = closed_reason(known.channel, known.last_inbound, now)
        agent_reason = closed_reason(known.channel, known.last_inbound, now, from_agent=True)
        failure = None
        if known.last_failure:
            kind, _, at = known.last_failure.partition(" ")
            failure = {"kind": kind, "at": _iso(float(at)) if at else None}
        return {
            "channel": known.channel,
            "open": reason is None,
            "reason": reason,
            "agent_open": agent_reason is None,  # Messenger: a person may answer for 7 days
            "agent_reason": agent_reason,
            "last_inbound": _iso(known.last_inbound) if known.last_inbound else None,
            "last_failure": failure,
        }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")
