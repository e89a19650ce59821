"""What WhatsApp and Messenger (both Meta) share: the ``GET`` subscription check that echoes
``hub.challenge`` for the right ``hub.verify_token``, and ``X-Hub-Signature-256`` (HMAC-SHA256 of
the raw body with the app secret, compared in constant time) on every ``POST``. A code typed
there cannot be deleted from the chat, so the customer is told so once."""

from __future__ import annotations

from typing import Optional

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.messenger import MessengerInput, carries_secret
from recoverydesk.domain.messenger_auth import secret_matches, signature_problem

SIGNATURE_HEADER = "X-Hub-Signature-256"
CODE_NOT_DELETABLE = "utter_messenger_code_not_deletable"


class MetaInput(MessengerInput):
    retry_window_seconds = 7 * 24 * 3600  # Meta retries an unacknowledged webhook for up to 7 days

    def app_secret(self) -> Optional[str]:
        raise NotImplementedError

    def verify_token(self) -> Optional[str]:
        raise NotImplementedError

    def verify_subscription(self, request: Request) -> HTTPResponse:
        mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token")
        challenge = request.args.get("hub.challenge") or ""
        if mode == "subscribe" and secret_matches(self.verify_token(), token):
            return response.text(challenge)
        return response.json({"error": "forbidden"}, status=403)

    def authenticity_problem(self, request: Request) -> Optional[str]:
        problem = signature_problem(self.app_secret(), request.headers.get(SIGNATURE_HEADER), request.body or b"")
        return None if problem is None else f"signature_{problem}"

    async def after_turn(self, conversation: Optional[str], text: str) -> None:
        if conversation is not None and carries_secret(text):
            await self.tell_once(conversation, CODE_NOT_DELETABLE)
