"""Outgoing mail over aiosmtplib: plain text, TLS or STARTTLS as configured."""
from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Optional

import aiosmtplib

log = logging.getLogger("recoverydesk.mail")


class MailNotSent(Exception):
    """The SMTP server could not take the message."""


class Mailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        tls: str = "off",
        username: Optional[str] = None,
        password: Optional[str] = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._tls = tls
        self._username, self._password = username, password
        self._timeout = timeout_seconds

    async def send(self, to: list[str], subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                use_tls=self._tls == "tls",
                start_tls=True if self._tls == "starttls" else False,
                username=self._username,
                password=self._password,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("mail.not_sent", extra={"kind": type(exc).__name__})
            raise MailNotSent(type(exc).__name__) from exc
