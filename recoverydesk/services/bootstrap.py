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
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.one_time_codes import OneTimeCodes
from recoverydesk.adapters.rasa_client import RasaConversations
from recoverydesk.adapters.rate_limits import FailureCounter, SendingLimit
from recoverydesk.adapters.redis_client import RECONNECT_ONCE, connect
from recoverydesk.adapters.secure_links import SecureLinks
from recoverydesk.adapters.ticket_outbox import TicketOutbox
from recoverydesk.adapters.totp_store import TotpStore
from recoverydesk.adapters.traffic_limits import TrafficLimits
from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.signing import derive_key
from recoverydesk.services.channel_guard import ChannelGuard
from recoverydesk.services.password_reset import PasswordReset
from recoverydesk.services.readiness import Readiness
from recoverydesk.services.totp_enrollment import TotpEnrollment
from recoverydesk.services.typed_codes import TypedCodes
from recoverydesk.services.web_sessions import WebSessions
from recoverydesk.settings import RedisLocation, Settings


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


@dataclass
class Channels:
    """What the Rasa server's channels use. Rasa builds each channel from credentials.yml without
    our arguments, so they reach it through ``channels()``; tests replace it with ``use_channels(...)``."""

    settings: Settings
    guard: ChannelGuard
    codes: TypedCodes
    web_sessions: WebSessions
    readiness: Readiness
    password_reset: PasswordReset
    totp_enrollment: TotpEnrollment
    csrf_key: bytes  # signs the secure pages' form tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> "Channels":
        redis = redis_for(settings)
        box = SecretBox(settings.secret_key)
        links = SecureLinks(redis, settings.public_base_url)
        directory = AccountDirectory(redis, box)
        verification = VerificationStore(redis)
        return cls(
            settings=settings,
            guard=ChannelGuard(TrafficLimits.from_settings(redis, settings), Metrics(redis), settings.input_max_chars),
            codes=TypedCodes(CodeInbox(redis, box)),
            web_sessions=WebSessions(settings.secret_key, verification),
            readiness=Readiness(redis),
            password_reset=PasswordReset(
                links,
                directory,
                verification,
                MailOutbox(redis, box, mailer_for(settings)),
                RasaConversations(settings.rasa_url, settings.rasa_token),
            ),
            totp_enrollment=TotpEnrollment(
                links,
                directory,
                TotpStore(redis, box, derive_key(settings.secret_key, "recovery-codes")),
                settings.totp_issuer,
            ),
            csrf_key=derive_key(settings.secret_key, "secure-page-csrf"),
        )


_channels: Optional[Channels] = None


def channels() -> Channels:
    global _channels
    if _channels is None:
        _channels = Channels.from_settings(settings_module.load())
    return _channels


def use_channels(built: Channels) -> None:
    global _channels
    _channels = built


def redis_at_url(url: str) -> Redis:
    """A client for a Redis that Rasa's endpoints name by URL (the event broker), with the reconnect policy."""
    return connect(url)


def redis_at(location: RedisLocation, socket_timeout: float) -> Redis:
    """A client for a Redis that Rasa's endpoints name by host and port (the lock store), with the
    reconnect policy; each command waits at most ``socket_timeout`` seconds."""
    return Redis(
        host=location.host,
        port=location.port,
        db=location.db,
        username=location.username,
        password=location.password,
        ssl=location.use_ssl,
        socket_timeout=socket_timeout,
        **RECONNECT_ONCE,
    )


# --- the helpdesk plugin (helpdesk_plugin/) ---
