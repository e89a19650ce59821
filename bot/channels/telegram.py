"""Telegram (Bot API over the webhook), configured in credentials.yml as
``bot.channels.telegram.TelegramInput`` and on when ``TELEGRAM_TOKEN`` is set.

- Every update must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to ``TELEGRAM_WEBHOOK_SECRET``
  (compared in constant time); otherwise ``403`` and no turn.
- Private chats only: group, supergroup and channel updates, block notices (``my_chat_member``),
  edits and non-text messages get ``200`` and no turn.
- Buttons are inline keyboards; a press is acknowledged (``answerCallbackQuery``) and becomes a
  turn with the button's payload.
- A message in which the customer typed a code (or another secret) is redacted before Rasa stores
  it and then deleted from the chat (``deleteMessage``).
- Texts are split at 4096 characters; a message with a secure link has link previews off.
- The customer's ``language_code`` is passed on as a hint in the message metadata only."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from sanic.request import Request

from bot.channels.messenger import (
    MEDIA,
    MessageHandler,
    MessengerInput,
    MessengerOutput,
    carries_secret,
    carries_secure_link,
)
from recoverydesk.domain.messenger_auth import secret_matches

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")


def method_url(api_url: str, token: str, method: str) -> str:
    return f"{api_url}/bot{token}/{method}"


class TelegramOutput(MessengerOutput):
    limit = 4096

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def _url(self, method: str) -> str:
        settings = self.parts.settings.messengers
        return method_url(settings.telegram_api_url, settings.telegram_token or "", method)

    async def deliver(
        self, conversation: str, address: str, text: str, buttons: List[Dict[Text, Any]], from_agent: bool = False
    ) -> bool:
        body: Dict[str, Any] = {"chat_id": int(address) if address.lstrip("-").isdigit() else address, "text": text}
        if buttons:
            body["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": str(button.get("title", "")), "callback_data": str(button.get("payload", ""))[:64]}]
                    for button in buttons
                ]
            }
        if carries_secure_link(text):
            body["link_preview_options"] = {"is_disabled": True}
        sent = await self.desk.deliver("telegram", conversation, self._url("sendMessage"), body)
        return sent.ok

    async def delete(self, chat_id: int, message_id: int) -> None:
        await self.desk.call(
            "telegram", "deleteMessage", self._url("deleteMessage"), {"chat_id": chat_id, "message_id": message_id}
        )

    async def answer_callback(self, callback_query_id: str) -> None:
        await self.desk.call(
            "telegram",
            "answerCallbackQuery",
            self._url("answerCallbackQuery"),
            {"callback_query_id": callback_query_id},
        )


class TelegramInput(MessengerInput):
    retry_window_seconds = 24 * 3600  # Telegram keeps an undelivered update for 24 hours

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @property
    def enabled(self) -> bool:
        return bool(self.settings.telegram_token and self.settings.telegram_webhook_secret)

    def output(self) -> TelegramOutput:
        return TelegramOutput(self.parts)

    def authenticity_problem(self, request: Request) -> Optional[str]:
        given = request.headers.get(SECRET_HEADER)
        if not given:
            return "missing_secret"
        return None if secret_matches(self.settings.telegram_webhook_secret, given) else "wrong_secret"

    async def receive(self, update: Dict[str, Any], handle: MessageHandler) -> None:
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            return
        if isinstance(update.get("message"), dict):
            await self._message(update_id, update["message"], handle)
        elif isinstance(update.get("callback_query"), dict):
            await self._button(update_id, update["callback_query"], handle)
        # my_chat_member (the customer blocked or restarted the bot), edits and the rest: no turn

    async def _message(self, update_id: int, message: Dict[str, Any], handle: MessageHandler) -> None:
        chat, sender = message.get("chat") or {}, message.get("from") or {}
        text = message.get("text")
        if chat.get("type") != "private" or sender.get("is_bot"):
            return
        if not isinstance(sender.get("id"), int) or not isinstance(chat.get("id"), int):
            return
        if not isinstance(text, str):
            if MEDIA.intersection(message):
                await self.not_text(str(sender["id"]), str(chat["id"]), str(update_id))
            return
        conversation = await self.turn(handle, str(sender["id"]), str(chat["id"]), str(update_id), text, _hint(sender))
        if conversation is not None and carries_secret(text) and isinstance(message.get("message_id"), int):
            await self.output().delete(chat["id"], message["message_id"])

    async def _button(self, update_id: int, query: Dict[str, Any], handle: MessageHandler) -> None:
        message, sender = query.get("message") or {}, query.get("from") or {}
        chat = message.get("chat") or {}
        if isinstance(query.get("id"), str):
            await self.output().answer_callback(query["id"])
        data = query.get("data")
        if chat.get("type") != "private" or not isinstance(data, str) or not data:
            return
        if not isinstance(sender.get("id"), int) or not isinstance(chat.get("id"), int):
            return
        await self.turn(handle, str(sender["id"]), str(chat["id"]), str(update_id), data, _hint(sender))


def _hint(sender: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The language the customer's Telegram app uses: a hint for later, never a decision."""
    code = sender.get("language_code")
    return {"language_hint": code[:8]} if isinstance(code, str) and code else None
