"""RFC 5322 headers of the mail we send, as the real SMTP server receives them."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import secrets
import time
from datetime import timezone
from email.utils import parsedate_to_datetime

from recoverydesk.adapters.mail import Mailer, sender_domain
from tests.support.servers import SmtpServer

# RFC 5322 3.6.4 msg-id as we write it: "<" dot-atom-text "@" domain ">"
ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = rf"<{ATOM}(\.{ATOM})*@{ATOM}(\.{ATOM})*>"


async def received(smtp: SmtpServer, subject: str, timeout: float = 5) -> email.message.EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in smtp.received:
            message = email.message_from_bytes(mail.data, policy=email.policy.default)
            if message["Subject"] == subject:
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail with subject {subject!r}")


async def test_every_mail_has_a_parseable_date_and_a_unique_message_id_of_the_senders_domain(smtp_server):
    mailer = Mailer("127.0.0.1", smtp_server.port, "Recovery Desk <security@bank.example>", timeout_seconds=5)
    subjects = [f"headers {secrets.token_hex(4)}" for _ in range(2)]
    before = time.time()
    for subject in subjects:
        await mailer.send(["casey@example.com"], subject, "Hello.")
    first, second = [await received(smtp_server, subject) for subject in subjects]

    for message in (first, second):
        # "-0000" (UTC, no local zone said) parses to a naive datetime
        sent_at = parsedate_to_datetime(str(message["Date"])).replace(tzinfo=timezone.utc)
        assert before - 2 <= sent_at.timestamp() <= time.time() + 1
        message_id = str(message["Message-ID"])
        assert re.fullmatch(MSG_ID, message_id), message_id
        assert message_id.endswith("@bank.example>")
    assert first["Message-ID"] != second["Message-ID"]


async def test_a_keyed_mail_keeps_its_message_id_so_a_redelivery_is_recognised(smtp_server):
    mailer = Mailer("127.0.0.1", smtp_server.port, "security@bank.example", timeout_seconds=5)
    key = f"mail-{secrets.token_hex(8)}"
    subjects = [f"keyed {secrets.token_hex(4)}" for _ in range(2)]
    for subject in subjects:
        await mailer.send(["casey@example.com"], subject, "Hello.", message_id=key)
    ids = {str((await received(smtp_server, subject))["Message-ID"]) for subject in subjects}
    assert ids == {f"<{key}@bank.example>"}


def test_the_message_id_domain_is_the_senders():
    assert sender_domain("Recovery Desk <security@bank.example>") == "bank.example"
    assert sender_domain("security@localhost") == "localhost"
    assert sender_domain("no address") == "localhost"
