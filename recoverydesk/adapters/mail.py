"""Outgoing mail over aiosmtplib: plain text, TLS or STARTTLS as configured."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Optional

import aiosmtplib

log = logging.getLogger("recoverydesk.mail")


class MailNotSent(Exception):
    """The SMTP server could not take the message."""


def sender_domain(sender: str) -> str:
    """The domain of the From address (``"Desk <security@bank.example>"`` -> ``bank.example``), the
    right-hand side of our Message-IDs; "localhost" when the address has none."""
    _name, address = parseaddr(sender)
    domain = address.rpartition("@")[2] if "@" in address else ""
    return domain or "localhost"


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
        self._domain = sender_domain(sender)
        self._tls = tls
        self._username, self._password = username, password
        self._timeout = timeout_seconds

    async def send(self, to: list[str], subject: str, body: str, message_id: Optional[str] = None) -> None:
        """``message_id`` (from an outbox key) lets a receiver recognise a redelivered copy; without one
        the message gets a fresh unique id. Date and Message-ID are the headers RFC 5322 asks for."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        # make_msgid would otherwise ask the resolver for this host's FQDN on every mail
        message["Message-ID"] = f"<{message_id}@{self._domain}>" if message_id else make_msgid(domain=self._domain)
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

    async def reachable(self, timeout_seconds: float = 2.0) -> bool:
        """Whether the SMTP server accepts a connection now (a cheap probe, no mail is sent)."""
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(self._host, self._port), timeout_seconds)
        except (OSError, asyncio.TimeoutError):
            return False
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
        return True
