"""Facebook Messenger (Messenger Platform webhooks), configured in credentials.yml as
``bot.channels.facebook.FacebookInput`` and on when ``FACEBOOK_PAGE_ACCESS_TOKEN`` is set.

- ``GET`` verifies the subscription; every ``POST`` must be signed (``bot/channels/meta.py``).
- ``entry[].messaging[]``: each event of a batch, in order; a text message, a quick reply (its
  payload) or a postback is one turn; echoes of our own messages, deliveries and reads are not.
- Buttons are quick replies (at most 13, Meta's limit; titles of at most 20 characters, as on
  WhatsApp: responses with longer titles have a ``channel: facebook`` variation); texts are split at 2000
  characters; the helpdesk's agent marker is never sent as a message."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from bot.channels.messenger import MEDIA, MessageHandler, MessengerOutput
from bot.channels.meta import MetaInput
from bot.channels.whatsapp import MAX_TITLE, _list

MAX_QUICK_REPLIES = 13


class FacebookOutput(MessengerOutput):
    limit = 2000

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    async def deliver(
        self, conversation: str, address: str, text: str, buttons: List[Dict[Text, Any]], from_agent: bool = False
    ) -> bool:
        settings = self.parts.settings.messengers
        message: Dict[str, Any] = {"text": text}
        if buttons:
            message["quick_replies"] = [
                {
                    "content_type": "text",
                    "title": str(b.get("title", ""))[:MAX_TITLE],
                    "payload": str(b.get("payload", "")),
                }
                for b in buttons[:MAX_QUICK_REPLIES]
            ]
        body = {"recipient": {"id": address}, "messaging_type": "RESPONSE", "message": message}
        sent = await self.desk.deliver(
            "facebook",
            conversation,
            f"{settings.facebook_api_url}/me/messages",
            body,
            {"Authorization": f"Bearer {settings.facebook_page_access_token}"},
            from_agent=from_agent,
            tagged={**body, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"},
        )
        return sent.ok


class FacebookInput(MetaInput):
    @classmethod
    def name(cls) -> Text:
        return "facebook"

    @property
    def enabled(self) -> bool:
        s = self.settings
        return bool(s.facebook_page_access_token and s.facebook_app_secret and s.facebook_verify_token)

    def app_secret(self) -> Optional[str]:
        return self.settings.facebook_app_secret

    def verify_token(self) -> Optional[str]:
        return self.settings.facebook_verify_token

    def output(self) -> FacebookOutput:
        return FacebookOutput(self.parts)

    async def receive(self, update: Dict[str, Any], handle: MessageHandler) -> None:
        if update.get("object") != "page":
            return
        for entry in _list(update.get("entry")):
            for event in _list(entry.get("messaging")):
                await self._event(event, handle)

    async def _event(self, event: Dict[str, Any], handle: MessageHandler) -> None:
        sender = (event.get("sender") or {}).get("id")
        if not isinstance(sender, str) or not sender:
            return
        found = _text_and_id(event)
        if found is None:  # delivery, read, echo, reaction...; an attachment gets a sentence
            message = event.get("message")
            if isinstance(message, dict) and not message.get("is_echo") and isinstance(message.get("mid"), str):
                kinds = {a.get("type") for a in _list(message.get("attachments"))}
                if kinds & MEDIA:
                    await self.not_text(sender, sender, message["mid"])
            return
        text, message_id = found
        conversation = await self.turn(handle, sender, sender, message_id, text)
        await self.after_turn(conversation, text)


def _text_and_id(event: Dict[str, Any]) -> Optional[tuple[str, str]]:
    message, postback = event.get("message"), event.get("postback")
    if isinstance(message, dict):
        if message.get("is_echo") or not isinstance(message.get("mid"), str):
            return None
        quick = (message.get("quick_reply") or {}).get("payload")
        text = quick if isinstance(quick, str) and quick else message.get("text")
        return (text, message["mid"]) if isinstance(text, str) and text else None
    if isinstance(postback, dict):
        payload = postback.get("payload")
        if not isinstance(payload, str) or not payload:
            return None
        mid = postback.get("mid")
        fallback = f"postback:{(event.get('sender') or {}).get('id')}:{event.get('timestamp')}"
        return payload, mid if isinstance(mid, str) and mid else fallback
    return None
