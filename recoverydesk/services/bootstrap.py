"""The composition root: the one place that builds collaborators from the settings.

Each face asks here for what it needs: the action server for ``Services`` (rasa_sdk builds
action classes without arguments, so they reach it through ``current()``; tests replace it with
``use(...)``), the Rasa channels and the helpdesk plugin for theirs, below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from recoverydesk import settings as settings_module
from recoverydesk.adapters.code_inbox import CodeInbox
from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.helpdesk_client import HelpdeskClient
from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.mail_outbox import MailOutbox
from recoverydesk.adapters.one_time_codes import OneTimeCodes
from recoverydesk.adapters.rate_limits import FailureCounter, SendingLimit
from recoverydesk.adapters.redis_client import connect
from recoverydesk.adapters.secure_links import SecureLinks
from recoverydesk.adapters.ticket_outbox import TicketOutbox
from recoverydesk.adapters.totp_store import TotpStore
from recoverydesk.adapters.traffic_limits import TrafficLimits
from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.signing import derive_key
from recoverydesk.settings import Settings


def redis_for(settings: Settings) -> Redis:
    """An async Redis client with the reconnect policy every process uses."""
    return connect(settings.require_redis_url())


def mailer_for(settings: Settings) -> Mailer:
    """The SMTP client for customer and on-call mail."""
    smtp = settings.smtp
    return Mailer(smtp.host or "127.0.0.1", smtp.port, smtp.sender, smtp.tls, smtp.username, smtp.password)


# --- the action server (actions/) ---


@dataclass
class Services:
    settings: Settings
    redis: Redis
    helpdesk: HelpdeskClient
    directory: AccountDirectory
    codes: OneTimeCodes
    failures: FailureCounter
    sends_per_account: SendingLimit
    sends_per_conversation: SendingLimit
    verification: VerificationStore
    inbox: CodeInbox
    links: SecureLinks
    mailer: Mailer
    mail: MailOutbox
    tickets: TicketOutbox
    limits: TrafficLimits
    totp: TotpStore

    @classmethod
    def from_settings(cls, settings: Settings) -> "Services":
        redis = redis_for(settings)
        box = SecretBox(settings.secret_key)
        mailer = mailer_for(settings)
        helpdesk = HelpdeskClient(settings.helpdesk_url, settings.secret_key)
        return cls(
            settings=settings,
            redis=redis,
            helpdesk=helpdesk,
            directory=AccountDirectory(redis, box),
            codes=OneTimeCodes(redis, derive_key(settings.secret_key, "one-time-codes")),
            failures=FailureCounter(redis),
            sends_per_account=SendingLimit(redis, "account", limit=3),
            sends_per_conversation=SendingLimit(redis, "conversation", limit=5),
            verification=VerificationStore(redis),
            inbox=CodeInbox(redis, box),
            links=SecureLinks(redis, settings.public_base_url),
            mailer=mailer,
            mail=MailOutbox(redis, box, mailer),
            tickets=TicketOutbox(redis, box, helpdesk),
            limits=TrafficLimits.from_settings(redis, settings),
            totp=TotpStore(redis, box, derive_key(settings.secret_key, "recovery-codes")),
        )


_current: Optional[Services] = None


def current() -> Services:
    global _current
    if _current is None:
        _current = Services.from_settings(settings_module.load())
    return _current


def use(services: Services) -> None:
    global _current
    _current = services


# --- the Rasa channels (bot/channels/) ---


# --- the helpdesk plugin (helpdesk_plugin/) ---
