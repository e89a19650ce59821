"""Configuration, read once from the environment into one immutable object.

This is the only module that reads ``os.environ``. A process calls ``load()``; tests and the
stack runner build a ``Settings`` from an explicit mapping with ``Settings.from_env(env)``."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(Exception):
    """An environment variable has a value the stack cannot use."""


@dataclass(frozen=True)
class RedisLocation:
    """Where Redis is, in the shape Rasa's tracker and lock stores take it."""

    host: str
    port: int
    db: int = 0
    username: Optional[str] = None
    password: Optional[str] = None
    use_ssl: bool = False

    @classmethod
    def from_url(cls, url: str) -> "RedisLocation":
        parsed = urlparse(url)
        if parsed.scheme not in ("redis", "rediss"):
            raise ConfigurationError(
                f"REDIS_URL must start with redis:// or rediss://, not {parsed.scheme or 'nothing'}."
            )
        db_part = parsed.path.lstrip("/")
        try:
            db = int(db_part) if db_part else 0
            port = parsed.port or 6379
        except ValueError as exc:
            raise ConfigurationError("REDIS_URL has a port or database that is not a number.") from exc
        return cls(
            host=parsed.hostname or "localhost",
            port=port,
            db=db,
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            use_ssl=parsed.scheme == "rediss",
        )


@dataclass(frozen=True)
class SmtpSettings:
    host: Optional[str]
    port: int
    sender: str
    tls: str  # off | starttls | tls
    username: Optional[str]
    password: Optional[str] = field(repr=False, default=None)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}.") from exc
    if not 0 < value < 65536 and name.endswith("_PORT"):
        raise ConfigurationError(f"{name} must be a port between 1 and 65535, not {value}.")
    return value


def _int_or_default(env: Mapping[str, str], name: str, default: int) -> int:
    """A tuning knob: a value that is not a number falls back to the default."""
    try:
        return _int(env, name, default)
    except ConfigurationError:
        return default


SUPPORTED_LANGUAGES = ("en", "es", "it", "ru")  # the languages the bot has responses and examples for


def _languages(env: Mapping[str, str]) -> tuple[tuple[str, ...], str]:
    """LANGUAGES (comma-separated codes) and DEFAULT_LANGUAGE, checked against what the bot speaks."""
    raw = env.get("LANGUAGES") or ",".join(SUPPORTED_LANGUAGES)
    languages = tuple(dict.fromkeys(code.strip().lower() for code in raw.split(",") if code.strip()))
    unknown = [code for code in languages if code not in SUPPORTED_LANGUAGES]
    if unknown or not languages:
        raise ConfigurationError(
            f"LANGUAGES must list some of {', '.join(SUPPORTED_LANGUAGES)}, not {raw!r}."
        )
    default = (env.get("DEFAULT_LANGUAGE") or "en").strip().lower()
    if default not in languages:
        raise ConfigurationError(f"DEFAULT_LANGUAGE must be one of LANGUAGES ({raw}), not {default!r}.")
    return languages, default


def _log_format(env: Mapping[str, str]) -> str:
    value = (env.get("LOG_FORMAT") or "json").strip().lower()
    if value not in ("json", "console"):
        raise ConfigurationError(f"LOG_FORMAT must be json or console, not {value!r}.")
    return value


def _existing_file(env: Mapping[str, str], name: str) -> Optional[Path]:
    raw = env.get(name)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ConfigurationError(f"{name} names {raw!r}, which is not a readable file.")
    return path
def _database_url(env: Mapping[str, str], name: str, var_dir: Path) -> str:
    """The SQLAlchemy URL of the system of record: PostgreSQL through asyncpg, or the embedded SQLite
    file under var/ when unset."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return f"sqlite+aiosqlite:///{var_dir / 'recoverydesk.sqlite3'}"
    scheme, sep, rest = raw.partition("://")
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg") and sep:
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite", "sqlite+aiosqlite") and sep:
        return f"sqlite+aiosqlite://{rest}"
    raise ConfigurationError(f"{name} must start with postgresql:// or sqlite://, not {scheme or 'nothing'}.")


def load_secret_key(var_dir: Path, env: Mapping[str, str]) -> bytes:
    """The root secret: from the environment, else generated once into var/secret.key."""
    configured = env.get("RECOVERYDESK_SECRET_KEY")
    if configured:
        if len(configured) < 32:
            raise ConfigurationError("RECOVERYDESK_SECRET_KEY must be at least 32 characters.")
        return configured.encode()
    path = var_dir / "secret.key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class MessengerSettings:
    """The messenger channels (CONTRACT "Messenger channels"); a channel is on when its token is set."""

    telegram_token: Optional[str] = field(repr=False, default=None)
    telegram_webhook_secret: Optional[str] = field(repr=False, default=None)
    telegram_api_url: str = "https://api.telegram.org"
    whatsapp_token: Optional[str] = field(repr=False, default=None)
    whatsapp_app_secret: Optional[str] = field(repr=False, default=None)
    whatsapp_verify_token: Optional[str] = field(repr=False, default=None)
    whatsapp_phone_number_id: Optional[str] = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    facebook_page_access_token: Optional[str] = field(repr=False, default=None)
    facebook_app_secret: Optional[str] = field(repr=False, default=None)
    facebook_verify_token: Optional[str] = field(repr=False, default=None)
    facebook_api_url: str = "https://graph.facebook.com/v21.0"
    send_timeout_seconds: int = 10  # MESSENGER_SEND_TIMEOUT_SECONDS: one call to a platform's API
    verification_minutes: int = 10  # MESSENGER_VERIFICATION_MINUTES: a grant on a permanent chat id

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "MessengerSettings":
        def value(name: str) -> Optional[str]:
            return (env.get(name) or "").strip() or None

        return cls(
            telegram_token=value("TELEGRAM_TOKEN"),
            telegram_webhook_secret=value("TELEGRAM_WEBHOOK_SECRET"),
            telegram_api_url=(value("TELEGRAM_API_URL") or cls.telegram_api_url).rstrip("/"),
            whatsapp_token=value("WHATSAPP_TOKEN"),
            whatsapp_app_secret=value("WHATSAPP_APP_SECRET"),
            whatsapp_verify_token=value("WHATSAPP_VERIFY_TOKEN"),
            whatsapp_phone_number_id=value("WHATSAPP_PHONE_NUMBER_ID"),
            whatsapp_api_url=(value("WHATSAPP_API_URL") or cls.whatsapp_api_url).rstrip("/"),
            facebook_page_access_token=value("FACEBOOK_PAGE_ACCESS_TOKEN"),
            facebook_app_secret=value("FACEBOOK_APP_SECRET"),
            facebook_verify_token=value("FACEBOOK_VERIFY_TOKEN"),
            facebook_api_url=(value("FACEBOOK_API_URL") or cls.facebook_api_url).rstrip("/"),
            send_timeout_seconds=max(1, _int_or_default(env, "MESSENGER_SEND_TIMEOUT_SECONDS", 10)),
            verification_minutes=max(1, _int_or_default(env, "MESSENGER_VERIFICATION_MINUTES", 10)),
        )


@dataclass(frozen=True)
class Settings:
    root: Path
    var_dir: Path
    redis_url: Optional[str]
    rasa_port: int
    actions_port: int
    helpdesk_port: int
    helpdesk_host: str
    mail_sink_smtp_port: int
    mail_sink_http_port: int
    public_base_url: str
    helpdesk_url: str
    actions_url: str
    rasa_url: str
    rasa_token: Optional[str]
    uses_mail_sink: bool
    secret_key: bytes = field(repr=False)
    smtp: SmtpSettings = field(repr=False)
    totp_issuer: str = "Recovery Desk"
    oncall_email: Optional[str] = None
    alert_interval_seconds: int = 30
    support_phone: Optional[str] = None
    action_timeout_seconds: int = 15
    input_max_chars: int = 5000
    actions_host: str = "127.0.0.1"
    # RL_<KIND>_PER_SESSION / RL_<KIND>_GLOBAL overrides, parsed by the traffic limits
    traffic_limits: Mapping[str, str] = field(default_factory=dict)
    log_format: str = "json"  # LOG_FORMAT: json (one object per line) or console (key=value, for a terminal)
    # WEB_SESSION_KEYS_FILE: the bank website's public key(s) for logged-in-page JWTs (domain/session_tokens.py)
    web_session_keys_file: Optional[Path] = None
    web_session_audience: Optional[str] = None  # WEB_SESSION_AUDIENCE: the `aud` those JWTs must carry, if set
    messengers: MessengerSettings = field(default_factory=MessengerSettings, repr=False)
    # The system of record (SQLAlchemy URLs): the application's, and the one migrations and purges use
    database_url: str = field(default="", repr=False)
    database_migration_url: str = field(default="", repr=False)
    database_pool_size: int = 10
    database_timeout_seconds: int = 10
    audit_retention_days: int = 400
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES  # LANGUAGES: the languages the bot speaks
    default_language: str = "en"  # DEFAULT_LANGUAGE: used until the customer's language is known

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, root: Path = ROOT) -> "Settings":
        global reads
        reads += 1
        env = os.environ if env is None else env
        var_dir = Path(env.get("RECOVERYDESK_VAR_DIR") or root / "var")
        rasa_port = _int(env, "RASA_PORT", 5005)
        actions_port = _int(env, "ACTIONS_PORT", 5055)
        helpdesk_port = _int(env, "HELPDESK_PORT", 5080)
        tls = (env.get("SMTP_TLS") or "off").lower()
        if tls not in ("off", "starttls", "tls"):
            raise ConfigurationError(f"SMTP_TLS must be off, starttls or tls, not {tls!r}.")
        smtp_host = env.get("SMTP_HOST") or None
        mail_sink_smtp_port = _int(env, "MAIL_SINK_SMTP_PORT", 1025)
        redis_url = env.get("REDIS_URL") or None
        if redis_url:
            RedisLocation.from_url(redis_url)  # fail early on a malformed URL
        languages, default_language = _languages(env)
        return cls(
            root=root,
            var_dir=var_dir,
            redis_url=redis_url,
            rasa_port=rasa_port,
            actions_port=actions_port,
            helpdesk_port=helpdesk_port,
            helpdesk_host=env.get("HELPDESK_HOST") or "127.0.0.1",
            mail_sink_smtp_port=mail_sink_smtp_port,
            mail_sink_http_port=_int(env, "MAIL_SINK_HTTP_PORT", 8025),
            public_base_url=(env.get("PUBLIC_BASE_URL") or f"http://localhost:{rasa_port}").rstrip("/"),
            helpdesk_url=(env.get("HELPDESK_URL") or f"http://127.0.0.1:{helpdesk_port}").rstrip("/"),
            actions_url=f"http://127.0.0.1:{actions_port}/webhook",
            rasa_url=(env.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/"),
            rasa_token=env.get("RASA_TOKEN") or None,
            uses_mail_sink=smtp_host is None,
            secret_key=load_secret_key(var_dir, env),
            smtp=SmtpSettings(
                host=smtp_host or "127.0.0.1",
                port=_int(env, "SMTP_PORT", 465 if tls == "tls" else (587 if tls == "starttls" else 25))
                if smtp_host
                else mail_sink_smtp_port,
                sender=env.get("SMTP_FROM") or "Recovery Desk <security@localhost>",
                tls=tls if smtp_host else "off",
                username=env.get("SMTP_USERNAME") or None,
                password=env.get("SMTP_PASSWORD") or None,
            ),
            totp_issuer=env.get("TOTP_ISSUER") or "Recovery Desk",
            oncall_email=env.get("ONCALL_EMAIL") or None,
            alert_interval_seconds=_int(env, "ALERT_INTERVAL_SECONDS", 30),
            support_phone=(env.get("SUPPORT_PHONE") or "").strip() or None,
            action_timeout_seconds=max(1, _int_or_default(env, "ACTION_TIMEOUT_SECONDS", 15)),
            input_max_chars=_int(env, "INPUT_MAX_CHARS", 5000),
            actions_host=env.get("ACTIONS_HOST") or "127.0.0.1",
            traffic_limits={name: value for name, value in env.items() if name.startswith("RL_") and value},
            log_format=_log_format(env),
            web_session_keys_file=_existing_file(env, "WEB_SESSION_KEYS_FILE"),
            web_session_audience=(env.get("WEB_SESSION_AUDIENCE") or "").strip() or None,
            messengers=MessengerSettings.from_env(env),
            database_url=_database_url(env, "DATABASE_URL", var_dir),
            database_migration_url=_database_url(
                env, "DATABASE_MIGRATION_URL" if env.get("DATABASE_MIGRATION_URL") else "DATABASE_URL", var_dir
            ),
            database_pool_size=max(1, _int(env, "DATABASE_POOL_SIZE", 10)),
            database_timeout_seconds=max(1, _int(env, "DATABASE_TIMEOUT_SECONDS", 10)),
            audit_retention_days=max(1, _int(env, "AUDIT_RETENTION_DAYS", 400)),
            languages=languages,
            default_language=default_language,
        )

    def require_redis_url(self) -> str:
        if not self.redis_url:
            raise ConfigurationError("REDIS_URL is not set and no embedded Redis is running.")
        return self.redis_url

    def redis(self) -> RedisLocation:
        return RedisLocation.from_url(self.require_redis_url())


def environment() -> dict[str, str]:
    """A copy of the process environment, for the stack runner to hand to the processes it starts."""
    return dict(os.environ)


reads = 0  # how many times Settings.from_env ran in this process (a test holds it to one)
_loaded: Optional[Settings] = None


def load() -> Settings:
    """This process's settings, read from the environment on first use and never again."""
    global _loaded
    if _loaded is None:
        _loaded = Settings.from_env()
    return _loaded
