"""The web chat: Rasa's socket.io protocol with session rules, redaction and the chat page.

Differences from Rasa's own ``socketio`` channel:
- ``enter_room`` is awaited (python-socketio 5 made it a coroutine; Rasa 3.6.21 does not
  await it, so with session persistence no reply would ever reach the browser);
- a session id must be unguessable (32-128 characters of ``[A-Za-z0-9_-]``), and a socket can
  only send as the session it joined, so nobody reads or writes another's conversation;
- secrets are removed from the customer's text before Rasa sees, stores or logs it;
- a message that carries a ``message_id`` is acknowledged (socket.io ack) as soon as the server has
  it, and a re-send of the same id (the page re-sends what was not acknowledged when it reconnects)
  causes no second turn; a conversation's turns run in the order its messages arrived;
- the server pings every PING_INTERVAL_SECONDS so that the page notices a dead connection soon;
- the chat page's texts are responses from domain.yml, filled in when the page is served.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Sequence, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from socketio import AsyncRedisManager, AsyncServer

from bot.channels.input_limits import InputGuard, refuse_malformed_api_calls
from bot.channels.redaction_hook import redacting
from recoverydesk.domain.languages import language_of_accept_header, language_of_hint
from recoverydesk.services import bootstrap
from recoverydesk.services import channel_texts as messages
from recoverydesk.services.web_sessions import InvalidSessionToken, VerificationUnavailable

log = logging.getLogger("recoverydesk.webchat")
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")  # a BCP 47 tag, as a browser gives it
STATIC = Path(__file__).parent / "static"
PAGE_TEXT = re.compile(r"\{\{(utter_[a-z_]+)\}\}")
# Engine.IO heartbeat: the page counts a connection dead after PING_INTERVAL + PING_TIMEOUT without a
# ping (python-engineio's defaults, 25 + 20 s, leave a phone that changed networks silent too long).
PING_INTERVAL_SECONDS = 15
PING_TIMEOUT_SECONDS = 10
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@lru_cache(maxsize=8)
def chat_page(language: str = "en") -> str:
    """webchat.html in ``language``: each ``{{utter_name}}`` replaced by that response's text, escaped."""
    template = (STATIC / "webchat.html").read_text(encoding="utf-8")
    template = template.replace('<html lang="en">', f'<html lang="{language}">', 1)
    return PAGE_TEXT.sub(
        lambda found: html.escape(messages.text(found.group(1), language=language), quote=True), template
    )


def page_language(locale: Optional[str], accept_language: Optional[str], languages: Sequence[str], default: str) -> str:
    """The chat page's own language: ``?locale=`` (a BCP 47 tag), else the browser's Accept-Language,
    else the default. The conversation's language is still decided by what the customer writes."""
    return language_of_hint(locale, languages) or language_of_accept_header(accept_language, languages) or default


class WebChatOutput(SocketIOOutput):
    """Marks a security agent's replies so the chat shows who is speaking."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        from_agent = bool((kwargs.get("custom") or {}).get("agent"))
        for part in text.strip().split("\n\n"):
            payload: Dict[str, Any] = {"text": part}
            if from_agent:
                payload["metadata"] = {"agent": True}
            await self._send_message(recipient_id, payload)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        if set(json_message) - {"agent"}:
            await self._send_message(recipient_id, json_message)


class ChatBlueprint(SocketBlueprint):
    """Registering the chat also guards Rasa's conversation API against malformed bodies."""

    def __init__(self, rasa_token: Optional[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.rasa_token = rasa_token  # a Sanic blueprint keeps its own values on ctx

    def register(self, app: Any, options: Dict[Text, Any]) -> None:
        refuse_malformed_api_calls(app, self.ctx.rasa_token)
        super().register(app, options)


class WebChatInput(InputChannel):
    """Configured in credentials.yml as ``bot.channels.webchat.WebChatInput``."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("redis_manager_url"),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        socketio_path: Text = "/socket.io",
        redis_manager_url: Optional[Text] = None,
        parts: Optional[bootstrap.Channels] = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.redis_manager_url = redis_manager_url
        self.sio: Optional[AsyncServer] = None
        self.parts = parts or bootstrap.channels()

    def url_prefix(self) -> Text:
        return "/chat"

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WebChatOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Several Rasa instances or workers share emits (agent replies, resumed bots) through Redis.
        manager = AsyncRedisManager(self.redis_manager_url) if self.redis_manager_url else None
        if manager is not None:
            # Sanic forks its workers after this; a manager ignores published emits carrying its own
            # host id, so each worker needs its own or emits between workers would be dropped.
            os.register_at_fork(after_in_child=lambda: setattr(manager, "host_id", uuid.uuid4().hex))
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=[],
            client_manager=manager,
            ping_interval=PING_INTERVAL_SECONDS,
            ping_timeout=PING_TIMEOUT_SECONDS,
        )
        self.sio = sio
        handle = redacting(on_new_message, self.parts.codes, InputGuard(self.parts.guard))
        turns = TurnQueues()
        chat = ChatBlueprint(self.parts.settings.rasa_token, sio, self.socketio_path, "webchat", __name__)

        @chat.route("/", methods=["GET"])
        async def page(request: Request) -> response.HTTPResponse:
            settings = self.parts.settings
            language = page_language(
                request.args.get("locale"),
                request.headers.get("accept-language"),
                settings.languages,
                settings.default_language,
            )
            return response.html(chat_page(language), headers={**PAGE_HEADERS, "Content-Language": language})

        @chat.route("/<name:(webchat\\.js|webchat\\.css)>", methods=["GET"])
        async def asset(_: Request, name: str) -> response.HTTPResponse:
            return await response.file(STATIC / name, headers=PAGE_HEADERS)

        @chat.route("/health", methods=["GET"])
        async def health(_: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @chat.route("/ready", methods=["GET"])
        async def ready(request: Request) -> response.HTTPResponse:
            """Ready when the model is loaded and Redis (trackers, locks) answers."""
            agent = getattr(request.app.ctx, "agent", None)
            model = bool(agent is not None and agent.is_ready())
            redis = await self.parts.readiness.redis_answers()
            status = 200 if model and redis else 503
            return response.json(
                {"status": "ready" if status == 200 else "unavailable", "model": model, "redis": redis}, status=status
            )

        @sio.on("session_request")
        async def session_request(sid: Text, data: Any) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
                await _refuse(
                    sio, sid, "invalid_session_id", "session_id must be 32 to 128 characters of A-Z, a-z, 0-9, _ or -."
                )
                return
            auth_token = data.get("auth_token")
            if auth_token is not None:
                try:
                    await self.parts.web_sessions.sign_in(session_id, str(auth_token))
                except InvalidSessionToken:
                    await _refuse(sio, sid, "invalid_auth_token", "auth_token is not valid or has expired.")
                    return
                except VerificationUnavailable:
                    await _refuse(sio, sid, "unavailable", "The service is briefly unavailable; try again in a minute.")
                    return
            locale = data.get("locale")  # a BCP 47 hint for the language, passed on with the first message
            hint = locale[:35] if isinstance(locale, str) and LOCALE.match(locale[:35]) else None
            await sio.save_session(sid, {"session_id": session_id, "language_hint": hint})
            await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: Text, data: Any) -> Optional[Dict[str, bool]]:
            joined = (await sio.get_session(sid)).get("session_id")
            if not joined:
                await _refuse(sio, sid, "no_session", "Send session_request before any message.")
                return None
            if not isinstance(data, dict) or data.get("session_id") not in (None, joined):
                await _refuse(sio, sid, "wrong_session", "A socket can only send as the session it joined.")
                return None
            text = data.get("message")
            if not isinstance(text, str):
                await _refuse(sio, sid, "invalid_message", "message must be a string.")
                return None
            message_id = data.get("message_id")
            if message_id is not None:
                if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
                    await _refuse(
                        sio,
                        sid,
                        "invalid_message_id",
                        "message_id must be 8 to 64 characters of A-Z, a-z, 0-9, _ or -.",
                    )
                    return None
                if not await self.parts.webchat_deliveries.first_time(joined, message_id):
                    return {"received": True}  # a re-send of a message already taken: no second turn
            session = await sio.get_session(sid)
            hint = session.pop("language_hint", None)  # once per socket: metadata on every message costs Rasa
            if hint:
                await sio.save_session(sid, session)
            message = UserMessage(
                text,
                WebChatOutput(sio, self.bot_message_evt),
                joined,
                input_channel=self.name(),
                metadata={"language_hint": hint} if hint else None,
            )
            turns.follow(joined, handle(message))  # the input guard refuses over-long text with a sentence
            return {"received": True}  # the ack: the page stops keeping the message

        return chat


class TurnQueues:
    """Runs each conversation's turns one after another, in the order its messages arrived, while
    each message's acknowledgement goes back at once (python-socketio handles every event in a task
    of its own, so without this two quick messages, or a message re-sent on a new socket while the
    old socket's turn still runs, could overtake each other)."""

    def __init__(self) -> None:
        self._last: Dict[str, "asyncio.Future[Any]"] = {}
        self._running: set["asyncio.Future[Any]"] = set()  # asyncio itself keeps only weak references

    def follow(self, conversation_id: str, turn: Awaitable[Any]) -> None:
        previous = self._last.get(conversation_id)
        task = asyncio.ensure_future(self._after(previous, turn))
        self._last[conversation_id] = task
        self._running.add(task)
        task.add_done_callback(lambda done: self._finished(conversation_id, done))

    @staticmethod
    async def _after(previous: Optional["asyncio.Future[Any]"], turn: Awaitable[Any]) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # its outcome is logged by its own callback
        await turn

    def _finished(self, conversation_id: str, done: "asyncio.Future[Any]") -> None:
        self._running.discard(done)
        if self._last.get(conversation_id) is done:
            del self._last[conversation_id]
        if not done.cancelled() and done.exception() is not None:
            log.error("webchat.turn_failed", extra={"kind": type(done.exception()).__name__})


async def _refuse(sio: AsyncServer, sid: str, code: str, message: str) -> None:
    log.info("webchat.refused", extra={"code": code})
    await sio.emit("session_error", {"code": code, "message": message}, room=sid)
