"""Development mail sink: an SMTP server on loopback and a page to read what it received."""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller

MAX_KEPT = 1000


@dataclass(frozen=True)
class ReceivedMail:
    id: int
    received_at: str
    sender: str
    recipients: list[str]
    subject: str
    body: str


class Mailbox:
    """Thread-safe: the SMTP server runs in its own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mail: list[ReceivedMail] = []
        self._next = 1

    def add(self, sender: str, recipients: list[str], raw: bytes) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain", "html")) if message.is_multipart() else message
        body = part.get_content() if part is not None else ""
        with self._lock:
            self._mail.append(
                ReceivedMail(
                    self._next,
                    datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    sender,
                    recipients,
                    str(message.get("Subject", "")),
                    body,
                )
            )
            self._next += 1
            del self._mail[:-MAX_KEPT]

    def all(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._mail)


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self._mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._mailbox.add(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 Message accepted"


def web_app(mailbox: Mailbox) -> web.Application:
    async def index(_: web.Request) -> web.Response:
        rows = "".join(
            f"<article><h2>{html.escape(m.subject)}</h2><p class=meta>#{m.id} · {html.escape(m.received_at)} · "
            f"to {html.escape(', '.join(m.recipients))}</p><pre>{html.escape(m.body)}</pre></article>"
            for m in reversed(mailbox.all())
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>Recovery Desk · Mailbox</title>"
            "<style>body{font:15px system-ui;max-width:760px;margin:2em auto}article{border-bottom:1px solid #ddd}"
            ".meta{color:#666}pre{white-space:pre-wrap}</style><h1>Development mailbox</h1>"
            + (rows or "<p>No mail yet.</p>")
        )
        return web.Response(
            text=page,
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    async def messages(_: web.Request) -> web.Response:
        return web.json_response({"messages": [asdict(m) for m in mailbox.all()]})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/api/messages", messages)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Development mail sink")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()
    mailbox = Mailbox()
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=args.smtp_port)
    controller.start()
    try:
        web.run_app(web_app(mailbox), host="127.0.0.1", port=args.http_port, print=None)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
