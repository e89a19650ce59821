"""What every channel does with a customer message before Rasa sees it, and when Rasa fails.

- A messenger conversation id (``telegram-…``, ``whatsapp-…``, ``facebook-…``) is only ever spoken
  in by its own channel: a web chat or REST sender using one gets no turn.
- Bad input never reaches Rasa: lone surrogates and control characters are removed (text is
  NFC-normalised; right-to-left text and emoji pass unchanged); an empty message or one longer
  than ``INPUT_MAX_CHARS`` (default 5000) gets a sentence instead of a turn.
- RL-4: messages are limited per session and globally (``recoverydesk.services.channel_guard``); the
  customer is told in words when they can go on.
- Redis unavailable: the customer gets ``utter_service_unavailable`` instead of silence and a
  stack trace; the next message after Redis is back is handled as usual (every Redis client
  here and in Rasa reconnects on its next command).
- Turns, their latency and errors are counted for ``/metrics`` on the helpdesk plugin."""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from rasa.shared.core.events import Event
from redis.exceptions import RedisError

from recoverydesk.domain.messenger_identity import is_messenger_conversation
from recoverydesk.services import channel_texts as messages
from recoverydesk.services.channel_guard import ChannelGuard, OverLimit
from recoverydesk.services.notices import support_phone

log = logging.getLogger("recoverydesk.input")
MessageHandler = Callable[[UserMessage], Awaitable[Any]]
DEFAULT_MAX_CHARS = 5000
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Cleaned:
    text: str
    problem: Optional[str] = None  # "empty" | "too_long"


def clean(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> Cleaned:
    if len(text) > max_chars * 4:  # do not normalise megabytes only to refuse them
        return Cleaned("", "too_long")
    text = unicodedata.normalize("NFC", _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))).strip()
    if not text:
        return Cleaned("", "empty")
    if len(text) > max_chars:
        return Cleaned("", "too_long")
    return Cleaned(text)


def malformed_rest_message(body: bytes) -> Optional[str]:
    """Why a REST channel body is not ``{"sender": str, "message": str, "metadata"?: object}``, or None."""
    try:
        call = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return "The body must be JSON."
    if not isinstance(call, dict):
        return "The body must be a JSON object."
    sender = call.get("sender")
    if not isinstance(sender, str) or not 0 < len(sender) <= 256 or _UNWANTED.search(sender):
        return "'sender' must be a string of 1 to 256 printable characters."
    if not isinstance(call.get("message"), str):
        return "'message' must be a string."
    if not isinstance(call.get("metadata", {}), (dict, type(None))):
        return "'metadata' must be an object."
    if not isinstance(call.get("input_channel", ""), (str, type(None))):
        return "'input_channel' must be a string."
    return None


_API_BODY = re.compile(r"^/conversations/.+/(trigger_intent|execute|messages|tracker/events)$")


def malformed_api_call(path: str, body: bytes) -> Optional[str]:
    """Why a body for Rasa's conversation API is not what Rasa expects (it would answer a 500)."""
    route = _API_BODY.match(path)
    if route is None:
        return None
    try:
        call = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return "The body must be JSON."
    kind = route.group(1)
    if kind == "tracker/events":
        events = call if isinstance(call, list) else [call]
        if not events or not all(isinstance(event, dict) and _is_event(event) for event in events):
            return "The body must be an event object or a non-empty list of them, each a valid Rasa event."
        return None
    if not isinstance(call, dict):
        return "The body must be a JSON object."
    needed = ("text", "sender") if kind == "messages" else ("name",)
    if not all(isinstance(call.get(name), str) and call.get(name) for name in needed):
        return f"The body needs {' and '.join(repr(n) for n in needed)} as non-empty strings."
    if not isinstance(call.get("entities", []), (list, dict)):
        return "'entities' must be a list or an object."
    return None


def _is_event(data: dict) -> bool:
    """Whether Rasa can read ``data`` as an event (Rasa answers a 500 when it cannot)."""
    if not isinstance(data.get("event"), str):
        return False
    try:
        return Event.from_parameters(data) is not None
    except Exception:  # Rasa raises many kinds for a malformed event; any of them means "no"
        return False


def refuse_malformed_api_calls(app: Any, token: Optional[str]) -> None:
    """A 400 for malformed bodies on Rasa's conversation API, for callers holding the token
    (the others still get Rasa's 401)."""

    async def check(request: Any) -> Any:
        if request.method not in ("POST", "PUT") or not token or request.args.get("token") != token:
            return None
        problem = malformed_api_call(request.path, request.body)
        if problem is None:
            return None
        from sanic import response

        return response.json(
            {"version": "", "status": "failure", "message": problem, "reason": "BadRequest", "code": 400}, status=400
        )

    app.register_middleware(check, "request")


class InputGuard:
    """Wraps a channel's message handler with the rules above."""

    def __init__(self, guard: ChannelGuard) -> None:
        self.guard = guard
        self.max_chars = guard.max_chars

    def wrap(self, on_new_message: MessageHandler) -> MessageHandler:
        async def handle(message: UserMessage) -> Any:
            started = time.perf_counter()
            channel = message.input_channel or "unknown"
            outcome = await self._handle(message, on_new_message)
            self.guard.turn_done(channel, outcome, time.perf_counter() - started)
            return None

        return handle

    async def _handle(self, message: UserMessage, on_new_message: MessageHandler) -> str:
        if is_messenger_conversation(message.sender_id or "") and not (message.sender_id or "").startswith(
            f"{message.input_channel}-"
        ):  # a web chat or REST sender never speaks in a Telegram, WhatsApp or Messenger conversation
            log.warning("input.refused", extra={"channel": message.input_channel, "reason": "reserved_sender"})
            return "refused_reserved_sender"
        cleaned = clean(message.text if isinstance(message.text, str) else "", self.max_chars)
        if cleaned.problem == "too_long":
            await _tell(message, "utter_message_too_long", limit=self.max_chars)
            return "refused_too_long"
        if cleaned.problem == "empty":
            await _tell(message, "utter_message_empty")
            return "refused_empty"
        message.text = cleaned.text
        try:
            await self.guard.admit(message.sender_id)
        except OverLimit as limited:
            if limited.scope == "session":
                await _tell(message, "utter_slow_down", seconds=limited.retry_after)
            else:
                await _tell(message, "utter_busy", seconds=limited.retry_after, support_phone=support_phone())
            return f"limited_{limited.scope}"
        except (RedisError, OSError) as exc:
            return await self._unavailable(message, exc)
        try:
            await on_new_message(message)
        except (RedisError, LockError, OSError) as exc:
            return await self._unavailable(message, exc)
        return "answered"

    async def _unavailable(self, message: UserMessage, exc: Exception) -> str:
        log.warning("input.service_unavailable", extra={"kind": type(exc).__name__})
        self.guard.service_unavailable()
        await _tell(message, "utter_service_unavailable", support_phone=support_phone())
        return "unavailable"


async def _tell(message: UserMessage, response: str, **values: Any) -> None:
    """A sentence from domain.yml straight to the customer's channel (no turn, nothing stored)."""
    if message.output_channel is None:
        return
    try:
        await message.output_channel.send_text_message(message.sender_id, messages.text(response, **values))
    except Exception as exc:  # the customer's connection may be gone; nothing else to do
        log.warning("input.reply_failed", extra={"kind": type(exc).__name__})
