"""WhatsApp (Cloud API webhooks), configured in credentials.yml as
``bot.channels.whatsapp.WhatsAppInput`` and on when ``WHATSAPP_TOKEN`` is set.

- ``GET`` verifies the subscription; every ``POST`` must be signed (``bot/channels/meta.py``).
- ``entry[].changes[].value.messages[]``: each message of a batch is one turn, in order; text
  messages and reply-button presses (their id is the payload) are taken, other kinds are not;
  ``statuses[]`` (sent, delivered, read) cause no turn.
- Buttons are interactive reply buttons: at most 3 a message, so a fourth and later follow in
  messages of their own under an ellipsis; titles of at most 20 characters (responses with longer
  titles have a ``channel: whatsapp`` variation in domain.yml); texts are split at 4096 characters
  (1024 for the text that carries buttons) and never get a link preview."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from bot.channels.messenger import MEDIA, MessageHandler, MessengerOutput
from bot.channels.meta import MetaInput
from recoverydesk.domain.message_splitting import split_text

MAX_BUTTONS = 3
MAX_TITLE = 20
MAX_BUTTON_BODY = 1024
MORE_CHOICES = "…"  # the body of a message that only carries more buttons: punctuation, no language


class WhatsAppOutput(MessengerOutput):
    limit = 4096

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    async def _send(
        self, conversation: str, text: str, buttons: List[Dict[Text, Any]], from_agent: bool = False
    ) -> None:
        if buttons and len(text) > MAX_BUTTON_BODY:  # an interactive body holds 1024 characters
            head, _, tail = text.rpartition("\n\n")
            parts = split_text(text, MAX_BUTTON_BODY) if not head or len(tail) > MAX_BUTTON_BODY else [head, tail]
            await super()._send(conversation, "\n\n".join(parts[:-1]), [], from_agent)
            text = parts[-1]
        groups = [buttons[start : start + MAX_BUTTONS] for start in range(0, len(buttons), MAX_BUTTONS)] or [[]]
        await super()._send(conversation, text, groups[0], from_agent)
        for group in groups[1:]:
            await super()._send(conversation, MORE_CHOICES, group, from_agent)

    async def deliver(
        self, conversation: str, address: str, text: str, buttons: List[Dict[Text, Any]], from_agent: bool = False
    ) -> bool:
        settings = self.parts.settings.messengers
        body: Dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": address}
        if buttons:
            body["type"] = "interactive"
            body["interactive"] = {
                "type": "button",
                "body": {"text": text},
                "action": {
                    "buttons": [
                        {
                            "type": "reply",
                            "reply": {
                                "id": str(b.get("payload", ""))[:256],
                                "title": str(b.get("title", ""))[:MAX_TITLE],
                            },
                        }
                        for b in buttons[:MAX_BUTTONS]
                    ]
                },
            }
        else:
            body["type"] = "text"
            body["text"] = {"preview_url": False, "body": text}
        sent = await self.desk.deliver(
            "whatsapp",
            conversation,
            f"{settings.whatsapp_api_url}/{settings.whatsapp_phone_number_id}/messages",
            body,
            {"Authorization": f"Bearer {settings.whatsapp_token}"},
        )
        return sent.ok


class WhatsAppInput(MetaInput):
    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    @property
    def enabled(self) -> bool:
        s = self.settings
        return bool(
            s.whatsapp_token and s.whatsapp_app_secret and s.whatsapp_verify_token and s.whatsapp_phone_number_id
        )

    def app_secret(self) -> Optional[str]:
        return self.settings.whatsapp_app_secret

    def verify_token(self) -> Optional[str]:
        return self.settings.whatsapp_verify_token

    def output(self) -> WhatsAppOutput:
        return WhatsAppOutput(self.parts)

    async def receive(self, update: Dict[str, Any], handle: MessageHandler) -> None:
        for entry in _list(update.get("entry")):
            for change in _list(entry.get("changes")):
                value = change.get("value") if isinstance(change.get("value"), dict) else {}
                phone_id = (value.get("metadata") or {}).get("phone_number_id")
                if phone_id is not None and str(phone_id) != self.settings.whatsapp_phone_number_id:
                    continue  # another number of the same business account
                for message in _list(value.get("messages")):  # statuses[]: no turn
                    await self._message(message, handle)

    async def _message(self, message: Dict[str, Any], handle: MessageHandler) -> None:
        sender, message_id = message.get("from"), message.get("id")
        if not isinstance(sender, str) or not sender or not isinstance(message_id, str):
            return
        text = _text(message)
        if text is None:
            if message.get("type") in MEDIA:
                await self.not_text(sender, sender, message_id)
            return
        conversation = await self.turn(handle, sender, sender, message_id, text)
        await self.after_turn(conversation, text)


def _text(message: Dict[str, Any]) -> Optional[str]:
    kind = message.get("type")
    if kind == "text":
        body = (message.get("text") or {}).get("body")
        return body if isinstance(body, str) else None
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return reply.get("id") if isinstance(reply.get("id"), str) and reply.get("id") else None
    if kind == "button":  # a template's quick-reply button
        payload = (message.get("button") or {}).get("payload")
        return payload if isinstance(payload, str) and payload else None
    return None


def _list(value: Any) -> List[Dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
