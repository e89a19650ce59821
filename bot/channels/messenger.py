"""What the Telegram, WhatsApp and Messenger channels share (CONTRACT "Messenger channels").

- ``MessengerOutput``: replies split at the platform's limit, buttons mapped by each platform,
  the helpdesk's agent marker (``custom: {"agent": ...}``) never posted; a failed send is logged
  with its kind, counted and kept for the console (``services.messengers``), never raised back.
- ``MessengerInput``: the webhook on ``/webhooks/<name>/webhook`` of the Rasa server, present only
  when the channel's token is set; each customer message is admitted once (replay guard) under an
  opaque conversation id and goes through the same input guard and redaction as the web chat;
  nothing here calls the network at import or start-up."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.input_limits import InputGuard
from bot.channels.redaction_hook import redacting
from recoverydesk.domain.message_splitting import split_text
from recoverydesk.domain.redaction import redact
from recoverydesk.services import bootstrap
from recoverydesk.services import channel_texts as texts

log = logging.getLogger("recoverydesk.messenger")
MessageHandler = Callable[[UserMessage], Awaitable[Any]]
SECURE_PATH = "/secure/"
TEXT_ONLY = "utter_messenger_text_only"
# What a customer sends that is not text but deserves an answer (not reactions or service notes).
MEDIA = frozenset(
    {
        "photo",
        "voice",
        "audio",
        "video",
        "video_note",
        "document",
        "sticker",
        "animation",
        "image",
        "location",
        "contact",
        "contacts",
        "file",
    }
)


def carries_secure_link(text: str) -> bool:
    """Whether a message holds a secure link (then no link preview may be fetched)."""
    return SECURE_PATH in text


def carries_secret(text: str) -> bool:
    """Whether the customer's text held a code or another secret that redaction removes."""
    return redact(text).changed


class MessengerOutput(OutputChannel):
    """Sends to the conversation's platform address; subclasses say how a text and buttons look."""

    limit = 4096

    def __init__(self, parts: bootstrap.Channels) -> None:
        self.parts = parts
        self.desk = parts.messengers

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """The bot's text, or an agent's (the helpdesk marks those ``custom: {"agent": ...}``)."""
        from_agent = bool((kwargs.get("custom") or {}).get("agent"))
        await self._send(recipient_id, text or "", [], from_agent)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: str, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text or "", buttons)

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text or "", quick_replies)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        """The helpdesk's agent marker is metadata for our own channels: never a platform message."""
        if set(json_message) - {"agent"}:
            log.info("messenger.custom_dropped", extra={"channel": self.name()})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, image, [])

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, str(attachment), [])

    async def _send(
        self, conversation: str, text: str, buttons: List[Dict[Text, Any]], from_agent: bool = False
    ) -> None:
        """Every part in order; the buttons go with the last. Never raises."""
        try:
            address = await self.desk.address(conversation)
        except Exception as exc:  # Redis down: nothing to send to
            log.warning("messenger.send_failed", extra={"channel": self.name(), "kind": type(exc).__name__})
            return
        if address is None:
            log.warning("messenger.send_failed", extra={"channel": self.name(), "kind": "no_address"})
            return
        parts = split_text(text, self.limit) or [""]
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            try:
                sent = await self.deliver(conversation, address, part, buttons if last else [], from_agent)
            except Exception as exc:  # a bug here must not become a platform retry
                log.exception("messenger.send_crashed", extra={"channel": self.name(), "kind": type(exc).__name__})
                return
            if not sent:
                return  # the rest would arrive out of context

    async def deliver(
        self, conversation: str, address: str, text: str, buttons: List[Dict[Text, Any]], from_agent: bool = False
    ) -> bool:
        raise NotImplementedError


class MessengerInput(InputChannel):
    """A platform's webhook; subclasses parse the platform's JSON into turns."""

    retry_window_seconds = 24 * 3600

    def __init__(self, parts: Optional[bootstrap.Channels] = None) -> None:
        self.parts = parts or bootstrap.channels()
        self.settings = self.parts.settings.messengers

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    @property
    def enabled(self) -> bool:
        raise NotImplementedError

    def output(self) -> MessengerOutput:
        raise NotImplementedError

    def get_output_channel(self) -> Optional[OutputChannel]:
        """For Rasa's ``output_channel=latest`` (the helpdesk's agent messages, pause, hand back)."""
        return self.output() if self.enabled else None

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)
        if not self.enabled:
            return hook
        handle = redacting(on_new_message, self.parts.codes, InputGuard(self.parts.guard))

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self.verify_subscription(request)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            problem = self.authenticity_problem(request)
            if problem is not None:
                log.warning("messenger.refused", extra={"channel": self.name(), "reason": problem})
                return response.json({"error": "forbidden"}, status=403)
            try:
                update = request.json
            except Exception:  # Sanic raises its own error for a body that is not JSON
                update = None
            if not isinstance(update, dict):
                log.warning("messenger.refused", extra={"channel": self.name(), "reason": "not_json"})
                return response.json({"error": "invalid_request"}, status=400)
            try:
                await self.receive(update, handle)
            except (RedisError, OSError) as exc:  # Redis down before the turn: the platform retries
                log.warning("messenger.unavailable", extra={"channel": self.name(), "kind": type(exc).__name__})
                return response.json({"error": "unavailable"}, status=503)
            except Exception as exc:  # never a 500 the platform would retry into a repeated turn
                log.exception("messenger.update_failed", extra={"channel": self.name(), "kind": type(exc).__name__})
            return response.json({"status": "ok"})

        return hook

    def verify_subscription(self, request: Request) -> HTTPResponse:
        return response.json({"error": "not_found"}, status=404)

    def authenticity_problem(self, request: Request) -> Optional[str]:
        raise NotImplementedError

    async def receive(self, update: Dict[str, Any], handle: MessageHandler) -> None:
        raise NotImplementedError

    async def turn(
        self,
        handle: MessageHandler,
        user_id: str,
        address: str,
        message_id: str,
        text: str,
        metadata: Optional[Dict[str, Any]] = None,
    ) -> Optional[str]:
        """One customer message as one turn, unless the platform sent it before; its conversation id."""
        conversation = await self.parts.messengers.admit(
            self.name(), user_id, address, message_id, self.retry_window_seconds
        )
        if conversation is None:
            return None
        await handle(UserMessage(text, self.output(), conversation, input_channel=self.name(), metadata=metadata))
        return conversation

    async def not_text(self, user_id: str, address: str, message_id: str) -> None:
        """A photo, voice note, sticker...: no turn (Rasa reads text), but the customer is told to type."""
        conversation = await self.parts.messengers.admit(
            self.name(), user_id, address, message_id, self.retry_window_seconds
        )
        if conversation is not None:
            await self.output().send_text_message(conversation, texts.text(TEXT_ONLY))

    async def tell_once(self, conversation: str, notice: str) -> None:
        """A sentence from domain.yml, once per conversation, outside a turn."""
        try:
            if await self.parts.messengers.notice_once(conversation, notice):
                await self.output().send_text_message(conversation, texts.text(notice))
        except Exception as exc:  # only a courtesy; never fail the webhook for it
            log.warning("messenger.notice_failed", extra={"channel": self.name(), "kind": type(exc).__name__})
