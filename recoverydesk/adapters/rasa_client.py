"""The helpdesk's hands on a live conversation, through Rasa's HTTP API (RASA_TOKEN)."""

from __future__ import annotations

from typing import Any, Optional

import aiohttp


class ConversationUnavailable(Exception):
    """Rasa could not be reached or refused the change."""


class RasaConversations:
    def __init__(self, base_url: str, token: Optional[str], timeout_seconds: float = 10.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token or ""
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None

    async def _post(self, path: str, body: Any, **params: str) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                f"{self._base_url}{path}", json=body, params={"token": self._token, **params}
            ) as reply:
                if reply.status >= 300:
                    raise ConversationUnavailable(f"Rasa answered {reply.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConversationUnavailable(type(exc).__name__) from exc

    async def _append(self, conversation_id: str, events: list[dict]) -> None:
        await self._post(
            f"/conversations/{conversation_id}/tracker/events",
            events,
            output_channel="latest",
            execute_side_effects="true",
        )

    async def pause(self, conversation_id: str) -> None:
        """The bot stops answering this customer (their messages are still recorded)."""
        await self._append(conversation_id, [{"event": "pause"}])

    async def say_as_agent(self, conversation_id: str, agent: str, text: str) -> None:
        await self._append(conversation_id, [{"event": "bot", "text": text, "data": {"custom": {"agent": agent}}}])

    async def resume_with(self, conversation_id: str, intent: str, slots: dict[str, str]) -> None:
        """Gives the conversation back to the bot, which reacts to ``intent`` knowing ``slots``."""
        events = [{"event": "resume"}] + [{"event": "slot", "name": k, "value": v} for k, v in slots.items()]
        await self._append(conversation_id, events)
        await self._post(f"/conversations/{conversation_id}/trigger_intent", {"name": intent}, output_channel="latest")

    async def trigger(self, conversation_id: str, intent: str) -> None:
        await self._post(f"/conversations/{conversation_id}/trigger_intent", {"name": intent}, output_channel="latest")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
