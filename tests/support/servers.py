"""Test helpers: a real SMTP server, a real Redis, a helpdesk plugin, a socket.io customer and a helpdesk agent."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Optional

import aiohttp
import pyotp
import requests
import socketio
from aiosmtpd.controller import Controller

from recoverydesk.domain.signing import derive_key, sign
from recoverydesk.ops.stack import embedded_redis_argv, free_port, http_ok, migrate, redis_ok
from recoverydesk.settings import ROOT, Settings


def terminate(process: Optional[subprocess.Popen]) -> None:
    """Stops a server process of a test, if it runs, and waits for it to exit."""
    if process is not None:
        process.terminate()
        process.wait(10)


class RedisServer:
    """A redis-server of our own on a free port, optionally with AOF persistence."""

    def __init__(self, data_dir: Path, persistent: bool = False) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.persistent = persistent
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        argv = embedded_redis_argv(self.data_dir, self.port)
        if not self.persistent:
            argv[argv.index("--appendonly") + 1] = "no"
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not redis_ok(self.url):
            if time.monotonic() > deadline:
                raise RuntimeError("test redis-server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        terminate(self.process)
        self.process = None


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes


class SmtpServer:
    """aiosmtpd on loopback, keeping every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Mail] = []
        self._lock = threading.Lock()
        self._controller: Optional[Controller] = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def start(self) -> "SmtpServer":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()


@dataclass
class HelpdeskPlugin:
    """`python -m helpdesk_plugin` of its own on a free loopback port, against the given Redis and the
    SQLite file under its var_dir (or DATABASE_URL in ``extra_env``), migrated before it starts."""

    redis_url: str
    secret: str
    var_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "REDIS_URL": self.redis_url,
            "HELPDESK_PORT": str(self.port),
            "RECOVERYDESK_SECRET_KEY": self.secret,
            "RECOVERYDESK_VAR_DIR": str(self.var_dir),
            **self.extra_env,
        }

    def settings(self) -> Settings:
        """The plugin's settings, as it reads them."""
        return Settings.from_env(self.environment(), ROOT)

    def start(self) -> "HelpdeskPlugin":
        """Starts the plugin and waits until it is ready; call ``stop`` even when this fails."""
        env = self.environment()
        migrate(Settings.from_env(env, ROOT), say=lambda _line: None)  # as `recoverydesk up` does first
        self.process = subprocess.Popen(
            [sys.executable, "-m", "helpdesk_plugin"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not http_ok(f"{self.url}/ready"):
            assert time.monotonic() < deadline and self.process.poll() is None
            time.sleep(0.2)
        return self

    def file_ticket(self, conversation_id: str, ticket_id: str) -> None:
        """Files a low ticket as the action server does (signed), so the API has one to answer about."""
        body = json.dumps({"priority": "low", "conversation_id": conversation_id, "id": ticket_id}).encode()
        headers = {
            "Idempotency-Key": f"known-{secrets.token_hex(6)}",
            "Content-Type": "application/json",
            **sign(derive_key(self.secret.encode(), "tickets"), body),
        }
        answer = requests.post(f"{self.url}/api/v1/tickets", data=body, headers=headers, timeout=10)
        assert answer.status_code == 201, answer.text

    def sign_in(self, role: str = "supervisor") -> str:
        """A new agent with ``role``, signed in through the API: its bearer token."""
        agent = asyncio.run(add_agent(self.settings(), role))
        reply = requests.post(
            f"{self.url}/api/v1/auth/login",
            json={"username": agent["username"], "password": agent["password"], "totp": agent["totp"].now()},
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        return reply.json()["token"]

    def stop(self) -> None:
        terminate(self.process)
        self.process = None


@contextmanager
def helpdesk_with_a_ticket(
    redis_url: str, secret: str, var_dir: Path, conversation_id: str, ticket_id: str
) -> Iterator[HelpdeskPlugin]:
    """A helpdesk plugin of its own (its SMTP on a closed port) holding one filed ticket."""
    server = HelpdeskPlugin(redis_url, secret, var_dir, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port())})
    try:
        server.start()
        server.file_ticket(conversation_id, ticket_id)
        yield server
    finally:
        server.stop()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class ChatCustomer:
    """A customer in the web chat, speaking Rasa's socket.io protocol."""

    base_url: str
    session_id: str = field(default_factory=new_session_id)
    replies: asyncio.Queue = field(default_factory=asyncio.Queue)
    errors: asyncio.Queue = field(default_factory=asyncio.Queue)
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)
    locale: Optional[str] = None  # the browser's BCP 47 tag, sent with session_request when set

    async def connect(self, request_session: bool = True, auth_token: Optional[str] = None) -> "ChatCustomer":
        """Connects and, unless told not to, asks for the session (as a signed-in page with ``auth_token``)."""
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("bot_uttered", self._on_reply)
        self.sio.on("session_error", self._on_error)
        self.sio.on("session_confirm", lambda _data: self.confirmed.set())
        await self.sio.connect(self.base_url, socketio_path="/socket.io", transports=["websocket"])
        if request_session:
            request = {"session_id": self.session_id, **({"auth_token": auth_token} if auth_token else {})}
            if self.locale:
                request["locale"] = self.locale
            await self.sio.emit("session_request", request)
            await asyncio.wait_for(self.confirmed.wait(), 10)
        return self

    async def _on_reply(self, data: dict) -> None:
        await self.replies.put(data)

    async def _on_error(self, data: dict) -> None:
        await self.errors.put(data)

    async def say(self, text: str, expect: int = 1, timeout: float = 20) -> list[dict]:
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        return [await asyncio.wait_for(self.replies.get(), timeout) for _ in range(expect)]

    async def close(self) -> None:
        await self.sio.disconnect()


async def add_agent(settings: Settings, role: str, username: Optional[str] = None) -> dict:
    """A new agent in the stack's (or plugin's) own database: its login and TOTP generator."""
    from redis.asyncio import Redis

    from recoverydesk.adapters.agent_store import AgentDirectory
    from recoverydesk.domain.crypto import SecretBox
    from recoverydesk.services.bootstrap import database_for

    username = username or f"{role}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    client = Redis.from_url(settings.require_redis_url())
    database = database_for(settings)
    try:
        seed = await AgentDirectory(client, SecretBox(settings.secret_key), database).add(username, password, role)
    finally:
        await client.close()
        await database.dispose()
    return {"username": username, "password": password, "totp": pyotp.TOTP(seed), "role": role}


async def sign_in(helpdesk_url: str, agent: dict, at: Optional[float] = None) -> str:
    code = agent["totp"].at(at if at is not None else time.time())
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{helpdesk_url}/api/v1/auth/login",
            json={"username": agent["username"], "password": agent["password"], "totp": code},
        ) as reply:
            assert reply.status == 200, await reply.text()
            return (await reply.json())["token"]


async def escalated_conversation(
    chat_url: str, report: str = "someone logged into my account"
) -> tuple[ChatCustomer, str]:
    """A customer who reported something and accepted the security team; returns them and the ticket id."""
    customer = await ChatCustomer(chat_url).connect()
    await customer.say(report)
    for _question in ("money moved", "access ongoing", "contacts changed"):
        await customer.say("no")
    [done] = await customer.say("yes")
    assert "case number is RD-" in done["text"], done
    return customer, done["text"].split("case number is ")[1].split(".")[0]


class AgentApi:
    """An agent using the helpdesk API with a bearer token."""

    def __init__(self, helpdesk_url: str, token: str) -> None:
        self.base = f"{helpdesk_url}/api/v1"
        self.http = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, f"{self.base}{path}", json=body) as reply:
            return reply.status, await reply.json()

    async def close(self) -> None:
        await self.http.close()


async def agent_api(settings: Any, role: str) -> AgentApi:
    agent = await add_agent(settings, role)
    return AgentApi(settings.helpdesk_url, await sign_in(settings.helpdesk_url, agent))


def _ago(now: datetime, hours: int) -> str:
    return (now - timedelta(hours=hours)).isoformat()


async def create_account(
    settings: Any,
    email: Optional[str] = None,
    sessions: int = 2,
    events: Optional[list] = None,
    totp_secret: Optional[str] = None,
) -> Any:
    """A customer account with signed-in sessions and some activity, straight in the directory."""
    from redis.asyncio import Redis

    from recoverydesk.adapters.directory import AccountDirectory
    from recoverydesk.domain.crypto import SecretBox

    client = Redis.from_url(settings.redis_url)
    directory = AccountDirectory(client, SecretBox(settings.secret_key))
    try:
        account = await directory.add(
            email or f"c{secrets.token_hex(4)}@example.com",
            "Casey Jones",
            secrets.token_urlsafe(20),
            totp_secret=totp_secret,
        )
        for number in range(sessions):
            await directory.sessions.add(account.ref, f"sess_{number}", {"device": f"device {number}"})
        # Distinct times, so that "newest first" is one order (events in the same second have none): the
        # customer's list reads 1 = the address change, 2 = the sign-in from Lagos.
        now = datetime.now(timezone.utc)
        for event in events or [
            {"kind": "login", "ip": "203.0.113.9", "place": "Lagos, NG", "at": _ago(now, 2)},
            {"kind": "profile_change", "detail": "Postal address changed", "at": _ago(now, 1)},
        ]:
            await directory.add_event(account.email, **event)
        return account
    finally:
        await client.close()


async def wait_for_mail(smtp: SmtpServer, recipient: str, subject_part: str, timeout: float = 10) -> str:
    """The body of the newest message to ``recipient`` whose subject contains ``subject_part``."""
    import email
    import email.policy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in reversed(smtp.received):
            message = email.message_from_bytes(mail.data, policy=email.policy.default)
            if recipient in mail.recipients and subject_part in str(message["Subject"]):
                return message.get_content()
        await asyncio.sleep(0.1)
    raise AssertionError(f"no mail to {recipient} about {subject_part!r}")


async def secure_signed_in_account(customer: ChatCustomer) -> dict:
    """A customer from a signed-in page asks to secure the account, finds nothing wrong in the activity and
    keeps the other sessions; returns the bot's last reply (the password link, or why there is none)."""
    await customer.sio.emit("user_uttered", {"message": "secure my account", "session_id": customer.session_id})
    await collect_until(customer, "Were any of these not you?")
    await customer.say("no", expect=2)
    [last] = await customer.say("not now")
    return last


async def collect_until(customer: ChatCustomer, marker: str, timeout: float = 20) -> list[dict]:
    replies = []
    while not replies or marker not in replies[-1]["text"]:
        replies.append(await asyncio.wait_for(customer.replies.get(), timeout))
    return replies


async def tracker(settings: Any, conversation_id: str) -> dict:
    """The conversation as stored, through Rasa's HTTP API with RASA_TOKEN.

    A customer sees a reply before Rasa has saved the turn, and with several Rasa workers the
    request can reach another worker meanwhile; holding the conversation's lock (as Rasa does
    while it handles a message) makes the read wait for the save."""
    from redis.asyncio import Redis

    from bot.rasa_plugins.lock_store import AsyncRedisLockStore

    redis = Redis.from_url(settings.redis_url)
    try:
        async with AsyncRedisLockStore(redis=redis).lock(conversation_id):
            async with aiohttp.ClientSession() as http:
                async with http.get(
                    f"http://127.0.0.1:{settings.rasa_port}/conversations/{conversation_id}/tracker",
                    params={"token": settings.rasa_token},
                ) as reply:
                    assert reply.status == 200
                    return await reply.json()
    finally:
        await redis.close()


async def tracker_slots(settings: Any, conversation_id: str) -> dict:
    """The conversation's slots (see ``tracker``)."""
    return (await tracker(settings, conversation_id))["slots"]


async def type_mailed_code(customer: ChatCustomer, smtp: SmtpServer, email: str, timeout: float = 10) -> list[dict]:
    """Types the verification code mailed to ``email``; returns the replies up to the activity review."""
    body = await wait_for_mail(smtp, email, "verification code", timeout=timeout)
    code = re.search(r"\b(\d{6})\b", body).group(1)
    await customer.sio.emit("user_uttered", {"message": f"the code is {code}", "session_id": customer.session_id})
    return await collect_until(customer, "Were any of these not you?")


async def verify_by_email_code(customer: ChatCustomer, smtp: SmtpServer, email: str) -> tuple[dict, dict, list[dict]]:
    """Asks to secure the account, gives the email, types the mailed code: (ask, sent, replies to the code)."""
    [ask] = await customer.say("I want to secure my account")
    [sent] = await customer.say(email)
    return ask, sent, await type_mailed_code(customer, smtp, email)


async def set_password_on_page(http: aiohttp.ClientSession, link: str, password: str) -> Any:
    """Opens the secure password page and posts its form with the page's CSRF token; returns the reply's headers."""
    async with http.get(link) as page:
        csrf = re.search(r"name=csrf_token value='([0-9a-f]+)'", await page.text()).group(1)
    form = {"csrf_token": csrf, "password": password, "password_confirm": password}
    async with http.post(link, data=form) as reply:
        assert reply.status == 200
        return reply.headers


CSRF_FIELD = re.compile(r"name=csrf_token value='([0-9a-f]+)'")


async def reveal_on_page(http: aiohttp.ClientSession, link: str) -> tuple[int, dict, str]:
    """Opens a TOTP or recovery-codes page and presses its button (the form's POST with the page's
    CSRF token), as the customer does: the POST's status, headers and page."""
    async with http.get(link) as page:
        opened = await page.text()
    found = CSRF_FIELD.search(opened)
    assert found, f"no form on the page ({page.status})"
    async with http.post(link, data={"csrf_token": found.group(1)}) as reply:
        return reply.status, dict(reply.headers), await reply.text()
