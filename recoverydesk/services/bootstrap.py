"""The composition root: the one place that builds collaborators from the settings.

Each face asks here for what it needs: the action server for ``Services`` (rasa_sdk builds
action classes without arguments, so they reach it through ``current()``; tests replace it with
``use(...)``), the Rasa channels and the helpdesk plugin for theirs, below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Callable, Generic, Optional, TypeVar

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from recoverydesk import settings as settings_module
from recoverydesk.adapters.account_store import AccountStore
from recoverydesk.adapters.agent_store import AgentDirectory
from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.code_inbox import CodeInbox
from recoverydesk.adapters.contact_log import ContactLog
from recoverydesk.adapters.database import create_engine, is_sqlite
from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.helpdesk_client import HelpdeskClient
from recoverydesk.adapters.incident_store import IncidentStore
from recoverydesk.adapters.live_feed import LiveFeed
from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.mail_outbox import MailOutbox
from recoverydesk.adapters.messenger_api import PlatformApi
from recoverydesk.adapters.messenger_store import MessengerStore
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.migrator import upgrade
from recoverydesk.adapters.one_time_codes import OneTimeCodes
from recoverydesk.adapters.outbox import OutboxWorker
from recoverydesk.adapters.outbox_backlog import OutboxBacklog
from recoverydesk.adapters.rasa_client import RasaConversations
from recoverydesk.adapters.rate_limits import FailureCounter, SendingLimit
from recoverydesk.adapters.redis_client import connect
from recoverydesk.adapters.secure_links import SecureLinks
from recoverydesk.adapters.ticket_outbox import TicketOutbox
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.adapters.totp_store import TotpStore
from recoverydesk.adapters.traffic_limits import TrafficLimits
from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.adapters.webchat_deliveries import WebchatDeliveries
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.session_tokens import InvalidKeySet, KeySet
from recoverydesk.domain.signing import derive_key
from recoverydesk.services.agents import AgentAccess
from recoverydesk.services.alert_monitor import AlertLedger, AlertMonitor
from recoverydesk.services.channel_guard import ChannelGuard
from recoverydesk.services.crisis import CrisisService
from recoverydesk.services.daily_report import DailyReports
from recoverydesk.services.escalation import EscalationService, TicketsThroughOutbox
from recoverydesk.services.handoff import Handoff
from recoverydesk.services.incidents import IncidentDesk
from recoverydesk.services.messengers import MessengerDesk
from recoverydesk.services.notices import support_phone
from recoverydesk.services.operations import Operations
from recoverydesk.services.password_reset import PasswordReset
from recoverydesk.services.readiness import Readiness
from recoverydesk.services.tickets import TicketDesk
from recoverydesk.services.totp_enrollment import TotpEnrollment
from recoverydesk.services.two_factor import TwoFactorService
from recoverydesk.services.typed_codes import TypedCodes
from recoverydesk.services.verification import Background, VerificationService
from recoverydesk.services.web_sessions import WebSessions
from recoverydesk.settings import Settings

Built = TypeVar("Built")


def redis_for(settings: Settings) -> Redis:
    """An async Redis client with the reconnect policy every process uses."""
    return connect(settings.require_redis_url())


def database_for(settings: Settings, url: Optional[str] = None) -> AsyncEngine:
    """The system of record (DATABASE_URL), with the pool and timeouts of the settings; ``url`` picks
    another role's URL (the owner's, for purges)."""
    return create_engine(url or settings.database_url, settings.database_pool_size, settings.database_timeout_seconds)


def audit_log_for(settings: Settings, database: AsyncEngine) -> AuditLog:
    """The audit trail, chained under its own key derived from the root secret (AUD-2)."""
    return AuditLog(database, derive_key(settings.secret_key, "audit-chain"))


def mailer_for(settings: Settings) -> Mailer:
    """The SMTP client for customer and on-call mail."""
    smtp = settings.smtp
    return Mailer(smtp.host or "127.0.0.1", smtp.port, smtp.sender, smtp.tls, smtp.username, smtp.password)


# --- the action server (actions/) ---


@dataclass
class Services:
    """What the action server runs: the use cases its actions call, and for the server itself its
    Redis (readiness) and the outbox workers (mail, tickets). Tests install fakes with ``use``."""

    verification: VerificationService
    two_factor: TwoFactorService
    escalation: EscalationService
    crisis: CrisisService
    redis: Optional[Redis] = None
    workers: tuple[OutboxWorker, ...] = ()

    async def ping(self) -> None:
        """Raises ``ConnectionError`` (or a ``RedisError``) when Redis does not answer."""
        if self.redis is None:
            raise ConnectionError("The action server has no Redis.")
        await self.redis.ping()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Services":
        redis = redis_for(settings)
        box = SecretBox(settings.secret_key)
        helpdesk = HelpdeskClient(settings.helpdesk_url, settings.secret_key)
        directory = AccountDirectory(redis, box)
        verifications = VerificationStore(redis, settings.messengers.verification_minutes * 60)
        failures = FailureCounter(redis)
        inbox = CodeInbox(redis, box)
        links = SecureLinks(redis, settings.public_base_url)
        mail = MailOutbox(redis, box, mailer_for(settings))
        tickets = TicketOutbox(redis, box, helpdesk)
        background = Background()
        phone = support_phone(settings)
        crisis = CrisisService(IncidentStore(redis), ContactLog(redis), verifications)
        return cls(
            verification=VerificationService(
                accounts=directory.store,
                sessions=directory.sessions,
                codes=OneTimeCodes(redis, derive_key(settings.secret_key, "one-time-codes")),
                failures=failures,
                sends_per_account=SendingLimit(redis, "account", limit=3),
                sends_per_conversation=SendingLimit(redis, "conversation", limit=5),
                verifications=verifications,
                inbox=inbox,
                links=links,
                mail=mail,
                crisis=crisis,
                background=background,
                unknown_address_key=derive_key(settings.secret_key, "unknown-address"),
                support_phone=phone,
            ),
            two_factor=TwoFactorService(
                accounts=directory.store,
                history=directory.store,
                recovery=directory,
                verifications=verifications,
                failures=failures,
                totp=TotpStore(redis, box, derive_key(settings.secret_key, "recovery-codes")),
                inbox=inbox,
                links=links,
                mail=mail,
                crisis=crisis,
                background=background,
            ),
            escalation=EscalationService(
                accounts=directory.store,
                verifications=verifications,
                tickets=TicketsThroughOutbox(tickets),
                limits=TrafficLimits.from_settings(redis, settings),
                crisis=crisis,
                support_phone=phone,
            ),
            crisis=crisis,
            redis=redis,
            workers=(mail.worker, tickets.worker),
        )


class OnFirstUse(Generic[Built]):
    """One face's collaborators, built from this process's settings when first asked for."""

    def __init__(self, build: Callable[[Settings], Built]) -> None:
        self._build = build
        self._built: Optional[Built] = None

    def get(self) -> Built:
        if self._built is None:
            self._built = self._build(settings_module.load())
        return self._built

    def use(self, built: Optional[Built]) -> None:
        self._built = built


_services = OnFirstUse(Services.from_settings)


def current() -> Services:
    return _services.get()


def use(services: Optional[Services]) -> None:
    """Installs the action server's services (tests: fakes); ``None`` builds them afresh on next use."""
    _services.use(services)


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
    webchat_deliveries: WebchatDeliveries  # message ids the web chat already took (no second turn)
    messengers: MessengerDesk  # Telegram, WhatsApp, Messenger

    @classmethod
    def from_settings(cls, settings: Settings) -> "Channels":
        redis = redis_for(settings)
        box = SecretBox(settings.secret_key)
        links = SecureLinks(redis, settings.public_base_url)
        directory = AccountDirectory(redis, box)
        verification = VerificationStore(redis, settings.messengers.verification_minutes * 60)
        metrics = Metrics(redis)
        return cls(
            settings=settings,
            guard=ChannelGuard(TrafficLimits.from_settings(redis, settings), metrics, settings.input_max_chars),
            codes=TypedCodes(CodeInbox(redis, box)),
            web_sessions=WebSessions(web_session_keys(settings), verification, settings.web_session_audience),
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
            webchat_deliveries=WebchatDeliveries(redis),
            messengers=messenger_desk(settings, redis, metrics),
        )


def web_session_keys(settings: Settings) -> KeySet:
    """The bank website's public keys for logged-in-page tokens; none configured: every token is refused."""
    if settings.web_session_keys_file is None:
        return KeySet()
    try:
        return KeySet.parse(settings.web_session_keys_file.read_text())
    except (OSError, UnicodeDecodeError, InvalidKeySet) as exc:
        raise settings_module.ConfigurationError(f"WEB_SESSION_KEYS_FILE: {exc}") from exc


def messenger_desk(settings: Settings, redis: Redis, metrics: Metrics) -> MessengerDesk:
    """The messenger channels' core: their Redis state, their platform client (no network until a send)."""
    return MessengerDesk(
        store=MessengerStore(redis, SecretBox(settings.secret_key)),
        api=PlatformApi(settings.messengers.send_timeout_seconds),
        metrics=metrics,
        id_key=derive_key(settings.secret_key, "messenger-ids"),
    )


_channels = OnFirstUse(Channels.from_settings)


def channels() -> Channels:
    return _channels.get()


def use_channels(built: Optional[Channels]) -> None:
    _channels.use(built)


# --- the helpdesk plugin (helpdesk_plugin/) ---
log = logging.getLogger("recoverydesk.helpdesk")


@dataclass
class HelpdeskServices:
    """Everything the helpdesk plugin's routes call, built once per plugin process."""

    settings: Settings
    redis: Redis
    database: AsyncEngine
    metrics: Metrics
    agents: AgentAccess
    tickets: TicketDesk
    handoff: Handoff
    incidents: IncidentDesk
    reports: DailyReports
    alerts: AlertMonitor
    mail: MailOutbox
    conversations: RasaConversations
    feed: LiveFeed
    operations: Operations
    _alert_task: Optional["asyncio.Future[None]"] = field(default=None, repr=False)

    @classmethod
    def build(
        cls, settings: Settings, redis: Optional[Redis] = None, database: Optional[AsyncEngine] = None
    ) -> "HelpdeskServices":
        """``redis`` and ``database`` let a test share its clients; otherwise they are made from the settings."""
        client = redis or redis_for(settings)
        engine = database or database_for(settings)
        box = SecretBox(settings.secret_key)
        tickets, audit = TicketStore(client), audit_log_for(settings, engine)
        metrics = Metrics(client)
        feed = LiveFeed(client)
        conversations = RasaConversations(settings.rasa_url, settings.rasa_token)
        mailer = mailer_for(settings)
        mail = MailOutbox(client, box, mailer)
        windows = messenger_desk(settings, client, metrics)
        return cls(
            settings=settings,
            redis=client,
            database=engine,
            metrics=metrics,
            agents=AgentAccess(AgentDirectory(client, box, engine), audit),
            tickets=TicketDesk(tickets, audit, feed, metrics, derive_key(settings.secret_key, "tickets"), windows),
            handoff=Handoff(tickets, audit, conversations, AccountStore(client), mail, metrics, windows),
            incidents=IncidentDesk(IncidentStore(client), tickets, ContactLog(client), audit, conversations),
            reports=DailyReports(tickets, audit, ContactLog(client), AlertLedger(client)),
            alerts=AlertMonitor(client, audit, mailer, settings.oncall_email, settings.helpdesk_url),
            mail=mail,
            conversations=conversations,
            feed=feed,
            operations=Operations(
                client,
                metrics,
                tickets,
                (OutboxBacklog(client, "mail"), OutboxBacklog(client, "tickets")),
                database=audit,
            ),
        )

    async def start(self) -> None:
        """The mail outbox's worker and the alert monitor run while the plugin serves. The embedded
        SQLite file is brought to the current schema first (it has no separate owner to migrate it);
        PostgreSQL is migrated by its owner (`recoverydesk db upgrade`), never by the running app."""
        if is_sqlite(self.settings.database_url):
            await upgrade(self.settings.database_migration_url, self.settings.database_timeout_seconds)
        self.mail.worker.start()
        interval = max(1, self.settings.alert_interval_seconds)
        self._alert_task = asyncio.ensure_future(self.alerts.run(interval))

    async def stop_alerts(self) -> None:
        if self._alert_task is not None:
            self._alert_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._alert_task
            self._alert_task = None

    async def stop(self) -> None:
        await self.stop_alerts()
        await self.mail.worker.stop()
        await self.metrics.flush()
        await self.conversations.close()
        await self.redis.close()
        await self.database.dispose()

    async def ready(self) -> bool:
        """Whether Redis and the database answer: without them the plugin can do nothing useful."""
        try:
            await self.feed.ping()
            await self.tickets.audit.ping()
        except Exception as exc:  # any Redis failure means not ready
            log.warning("helpdesk.not_ready", extra={"kind": type(exc).__name__})
            return False
        return True
