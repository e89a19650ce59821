"""Messenger customers for the end-to-end tests: they post real, signed platform webhooks to the
running Rasa server and read the bot's replies from the fake platform (``fake_platform.py``)."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import requests

from recoverydesk.domain.messenger_auth import body_signature
from recoverydesk.domain.messenger_identity import conversation_id
from recoverydesk.domain.signing import derive_key
from tests.support.fake_platform import Call, FakePlatform

TELEGRAM_TOKEN = f"{secrets.randbelow(10**9)}:{secrets.token_urlsafe(20)}"
TELEGRAM_SECRET = secrets.token_urlsafe(24)
WHATSAPP_TOKEN = secrets.token_urlsafe(24)
WHATSAPP_APP_SECRET = secrets.token_hex(16)
WHATSAPP_VERIFY_TOKEN = secrets.token_urlsafe(12)
WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
FACEBOOK_TOKEN = secrets.token_urlsafe(24)
FACEBOOK_APP_SECRET = secrets.token_hex(16)
FACEBOOK_VERIFY_TOKEN = secrets.token_urlsafe(12)
FACEBOOK_PAGE_ID = "104328845820014"
_numbers = itertools.count(int(time.time()) % 10**6 * 1000)


def channel_environment(platform_url: str) -> dict[str, str]:
    """The three channels on, every platform API at the fake."""
    return {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": platform_url,
        "WHATSAPP_TOKEN": WHATSAPP_TOKEN,
        "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_NUMBER_ID,
        "WHATSAPP_API_URL": platform_url,
        "FACEBOOK_PAGE_ACCESS_TOKEN": FACEBOOK_TOKEN,
        "FACEBOOK_APP_SECRET": FACEBOOK_APP_SECRET,
        "FACEBOOK_VERIFY_TOKEN": FACEBOOK_VERIFY_TOKEN,
        "FACEBOOK_API_URL": platform_url,
        "MESSENGER_SEND_TIMEOUT_SECONDS": "2",
    }


def next_id() -> int:
    return next(_numbers)


@dataclass
class MessengerCustomer:
    """One customer on one channel. ``say`` posts a message and returns the texts the bot sent them."""

    rasa_url: str
    platform: FakePlatform
    secret_key: bytes
    channel: str = "telegram"
    user_id: str = field(default_factory=lambda: str(10**9 + secrets.randbelow(10**9)))
    language: str = "en"

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/{self.channel}/webhook"

    @property
    def conversation_id(self) -> str:
        return conversation_id(derive_key(self.secret_key, "messenger-ids"), self.channel, self.user_id)

    # --- what the platform posts to us ---

    def telegram_update(self, text: str, message_id: Optional[int] = None, chat_type: str = "private") -> dict:
        uid = int(self.user_id)
        return {
            "update_id": next_id(),
            "message": {
                "message_id": message_id or next_id(),
                "from": {"id": uid, "is_bot": False, "first_name": "Casey", "language_code": self.language},
                "chat": {"id": uid if chat_type == "private" else -uid, "type": chat_type, "first_name": "Casey"},
                "date": int(time.time()),
                "text": text,
            },
        }

    def telegram_press(self, data: str) -> dict:
        uid = int(self.user_id)
        return {
            "update_id": next_id(),
            "callback_query": {
                "id": str(next_id()),
                "from": {"id": uid, "is_bot": False, "first_name": "Casey", "language_code": self.language},
                "message": {"message_id": next_id(), "chat": {"id": uid, "type": "private"}, "date": int(time.time())},
                "chat_instance": "42",
                "data": data,
            },
        }

    def whatsapp_message(self, text: str = "", button: Optional[tuple[str, str]] = None, wamid: str = "") -> dict:
        message: dict[str, Any] = {
            "from": self.user_id,
            "id": wamid or f"wamid.{secrets.token_hex(12)}",
            "timestamp": str(int(time.time())),
        }
        if button:
            message.update(
                type="interactive",
                interactive={"type": "button_reply", "button_reply": {"id": button[0], "title": button[1]}},
            )
        else:
            message.update(type="text", text={"body": text})
        return message

    def whatsapp_batch(self, messages: list[dict] = (), statuses: list[dict] = ()) -> dict:  # type: ignore[assignment]
        value: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
        }
        if messages:
            value["contacts"] = [{"profile": {"name": "Casey"}, "wa_id": self.user_id}]
            value["messages"] = list(messages)
        if statuses:
            value["statuses"] = list(statuses)
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1029", "changes": [{"value": value, "field": "messages"}]}],
        }

    def facebook_event(self, text: str = "", payload: str = "", mid: str = "", quick_reply: bool = False) -> dict:
        event: dict[str, Any] = {
            "sender": {"id": self.user_id},
            "recipient": {"id": FACEBOOK_PAGE_ID},
            "timestamp": int(time.time() * 1000),
        }
        mid = mid or f"m_{secrets.token_hex(12)}"
        if payload and not quick_reply:
            event["postback"] = {"mid": mid, "title": payload, "payload": payload}
        else:
            event["message"] = {"mid": mid, "text": text or payload}
            if quick_reply:
                event["message"]["quick_reply"] = {"payload": payload}
        return event

    def facebook_batch(self, events: list[dict]) -> dict:
        return {
            "object": "page",
            "entry": [{"id": FACEBOOK_PAGE_ID, "time": int(time.time() * 1000), "messaging": events}],
        }

    def post(self, update: dict, headers: Optional[dict] = None, sign: bool = True) -> requests.Response:
        body = json.dumps(update).encode()
        if headers is None:
            headers = {}
            if sign and self.channel == "telegram":
                headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
            elif sign:
                secret = WHATSAPP_APP_SECRET if self.channel == "whatsapp" else FACEBOOK_APP_SECRET
                headers["X-Hub-Signature-256"] = body_signature(secret, body)
        return requests.post(
            self.webhook, data=body, headers={"Content-Type": "application/json", **headers}, timeout=60
        )

    # --- what the bot sent them ---

    def mine(self, call: Call) -> bool:
        body = call.body if isinstance(call.body, dict) else {}
        if self.channel == "telegram":
            return call.name == "sendMessage" and str(body.get("chat_id")) == self.user_id
        if self.channel == "whatsapp":
            return call.name == "messages" and body.get("to") == self.user_id
        return call.path.endswith("/me/messages") and (body.get("recipient") or {}).get("id") == self.user_id

    def sent(self) -> list[Call]:
        return self.platform.received(self.mine)

    def say_raw(self, update: dict) -> list[Call]:
        """Posts one update (200 expected); the calls to this customer it caused."""
        before = len(self.sent())
        reply = self.post(update)
        assert reply.status_code == 200, reply.text
        return self.sent()[before:]

    def say(self, text: str) -> list[str]:
        return [text_of(call) for call in self.say_raw(self.message(text))]

    def press(self, payload: str, title: str = "") -> list[str]:
        if self.channel == "telegram":
            update = self.telegram_press(payload)
        elif self.channel == "whatsapp":
            update = self.whatsapp_batch([self.whatsapp_message(button=(payload, title or payload))])
        else:
            update = self.facebook_batch([self.facebook_event(payload=payload, quick_reply=True)])
        return [text_of(call) for call in self.say_raw(update)]

    def message(self, text: str, message_id: Optional[int] = None) -> dict:
        if self.channel == "telegram":
            return self.telegram_update(text, message_id)
        if self.channel == "whatsapp":
            return self.whatsapp_batch([self.whatsapp_message(text)])
        return self.facebook_batch([self.facebook_event(text)])


def text_of(call: Call) -> str:
    """The text of a message the bot sent, whatever the platform."""
    body = call.body if isinstance(call.body, dict) else {}
    if "text" in body and isinstance(body["text"], str):
        return body["text"]  # Telegram
    if body.get("messaging_product") == "whatsapp":
        if body.get("type") == "text":
            return body["text"]["body"]
        return body["interactive"]["body"]["text"]
    return (body.get("message") or {}).get("text", "")


def buttons_of(call: Call) -> list[tuple[str, str]]:
    """(title, payload) of each button a message carried."""
    body = call.body if isinstance(call.body, dict) else {}
    if "reply_markup" in body:
        return [(b["text"], b["callback_data"]) for row in body["reply_markup"]["inline_keyboard"] for b in row]
    if body.get("type") == "interactive":
        return [(b["reply"]["title"], b["reply"]["id"]) for b in body["interactive"]["action"]["buttons"]]
    return [(q["title"], q["payload"]) for q in (body.get("message") or {}).get("quick_replies", [])]
