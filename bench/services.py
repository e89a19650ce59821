"""Our stack for the benchmark: its own redis-server and SMTP sink, every port free and on loopback."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from aiosmtpd.controller import Controller

from bench.initbot import quiet_env, spawn
from bench.webhook import webhook_environment
from recoverydesk.ops.stack import Stack, embedded_redis_argv, free_port, loopback_environment, redis_ok
from recoverydesk.ops.training import ensure_model
from recoverydesk.settings import ROOT, Settings

REDIS_READY_SECONDS = 20


@dataclass
class BenchRedis:
    """A redis-server of the bench's own, without persistence, on a free loopback port."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "BenchRedis":
        argv = embedded_redis_argv(self.data_dir, self.port)
        argv[argv.index("--appendonly") + 1] = "no"
        self.process = spawn(argv)
        deadline = time.monotonic() + REDIS_READY_SECONDS
        while not redis_ok(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bench's redis-server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class MailSink:
    """aiosmtpd on a free loopback port that accepts and counts every message."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received = 0
        self._controller: Optional[Controller] = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"

    def start(self) -> "MailSink":
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass
class OurStack:
    """Redis, the mail sink and the `Stack` (helpdesk, actions, Rasa), started and stopped together."""

    var_dir: Path
    instances: int = 1  # Rasa servers, each with its own action server
    redis: Optional[BenchRedis] = None
    mail: Optional[MailSink] = None
    stack: Optional[Stack] = None
    telegram_api_port: int = 0

    @property
    def settings(self) -> Settings:
        assert self.stack is not None
        return self.stack.settings

    @property
    def chat_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def chat_urls(self) -> list[str]:
        return self.stack.rasa_urls if self.stack is not None else [self.chat_url]

    def process_names(self) -> list[str]:
        """What the monitor calls our processes: instance 0 is "rasa" and "actions"."""
        names = ["helpdesk", "redis", "bench"]
        for number in range(self.instances):
            suffix = f"-{number}" if number else ""
            names += [f"rasa{suffix}", f"actions{suffix}"]
        return names

    def start(self, say: Callable[[str], None] = print) -> "OurStack":
        shutil.rmtree(self.var_dir, ignore_errors=True)
        self.var_dir.mkdir(parents=True)
        model, trained = ensure_model(ROOT)
        say(f"  model {model.name}{' (trained now)' if trained else ''}")
        self.redis = BenchRedis(self.var_dir / "redis-data").start()
        say("  ✓ redis ready")
        self.mail = MailSink().start()
        self.telegram_api_port = free_port()  # the webhook phase's stand-in for the Bot API
        env = loopback_environment(
            quiet_env(), self.redis.url, self.mail.port, self.var_dir, **webhook_environment(self.telegram_api_port)
        )
        self.stack = Stack(Settings.from_env(env, ROOT), model, env, self.instances)
        self.stack.start(say=lambda line: say(line))
        return self

    def pids(self) -> dict[str, int]:
        """The processes whose memory the benchmark reports."""
        found: dict[str, int] = {}
        if self.stack is not None:
            for part in self.stack.parts:
                if part.process is not None:
                    found[part.name] = part.process.pid
        if self.redis is not None and self.redis.process is not None:
            found["redis"] = self.redis.process.pid
        return found

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()
        if self.mail is not None:
            self.mail.stop()
        if self.redis is not None:
            self.redis.stop()
