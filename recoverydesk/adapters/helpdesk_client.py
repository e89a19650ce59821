"""Signed, idempotent ticket requests from the action server to the helpdesk plugin."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Optional

import aiohttp

from recoverydesk.adapters.outbox import PermanentFailure
from recoverydesk.domain.signing import derive_key, sign


class HelpdeskUnavailable(Exception):
    """The helpdesk plugin could not take the ticket now."""


class TicketRejected(PermanentFailure):
    """The helpdesk refused the ticket itself (malformed, too large): retrying cannot help."""


PERMANENT_STATUSES = (400, 404, 413, 422)


class HelpdeskClient:
    def __init__(self, base_url: str, root_secret: bytes, timeout_seconds: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._key = derive_key(root_secret, "tickets")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def create_ticket(self, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        # The key inside the signed body: a captured request replayed under another key is refused.
        body = json.dumps({**payload, "idempotency_key": idempotency_key}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key, **sign(self._key, body)}
        try:
            client = await self._client()
            async with client.post(f"{self._base_url}/api/v1/tickets", data=body, headers=headers) as reply:
                if reply.status in PERMANENT_STATUSES:
                    raise TicketRejected(f"helpdesk answered {reply.status}")
                if reply.status not in (200, 201):
                    raise HelpdeskUnavailable(f"helpdesk answered {reply.status}")
                return await reply.json()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise HelpdeskUnavailable(type(exc).__name__) from exc

    async def add_progress(self, ticket_id: str, progress: dict[str, Any]) -> None:
        """What the bot did after filing (verification, marked activity, actions), added to the open ticket.

        The ticket number is inside the signed body, so a captured request cannot be sent to another ticket."""
        body = json.dumps({**progress, "ticket_id": ticket_id}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **sign(self._key, body)}
        try:
            client = await self._client()
            url = f"{self._base_url}/api/v1/tickets/{ticket_id}/progress"
            async with client.post(url, data=body, headers=headers) as reply:
                if reply.status in PERMANENT_STATUSES or reply.status == 409:
                    raise TicketRejected(f"helpdesk answered {reply.status}")
                if reply.status != 200:
                    raise HelpdeskUnavailable(f"helpdesk answered {reply.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise HelpdeskUnavailable(type(exc).__name__) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def ready(self) -> bool:
        """Whether the plugin says it is ready (a cheap probe, no ticket is sent)."""
        try:
            client = await self._client()
            async with client.get(f"{self._base_url}/ready") as reply:
                return reply.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False
