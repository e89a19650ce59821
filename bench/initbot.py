"""The reference bot: what `rasa init` creates, trained once and cached, served by stock `rasa run`.

The project and its model live under ``var/bench/rasa-init-<rasa version>/``; a second run finds
the model there and skips the few minutes of training. Training happens in a scratch directory
that is renamed into place only when it succeeded, so an interrupted run leaves no half cache.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Optional, Union

from recoverydesk.ops.stack import free_port, http_ok

BIN = Path(sys.executable).parent
TRAIN_TIMEOUT_SECONDS = 60 * 60
READY_TIMEOUT_SECONDS = 300
_PR_SET_PDEATHSIG = 1

# Rasa's stock socket.io channel. Persistence stays off: Rasa 3.6.21 does not await
# enter_room, so with it on the reply goes to a room the socket never joined.
CREDENTIALS = """socketio:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: false
"""
# No tracker_store or lock_store: Rasa's in-memory defaults. No action server: the init bot has none.
ENDPOINTS = "# bench: in-memory tracker and lock stores, no action server\n"


def die_with_parent() -> None:
    """Runs in the child before exec: the kernel sends it SIGTERM if the bench dies."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: list[str], output: Union[IO[Any], int] = subprocess.DEVNULL, **options: Any) -> subprocess.Popen:
    """A child of the bench in its own process group, dying with it, reading nothing; stdout and stderr to
    ``output``."""
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,
        **options,
    )


class InitBotError(Exception):
    """The reference bot could not be built or started."""


def rasa_version() -> str:
    import rasa

    return rasa.__version__


def quiet_env(base: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The environment for Rasa subprocesses: no telemetry (loopback-only machine), no prompts."""
    env = dict(os.environ if base is None else base)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def cache_dir(var_dir: Path) -> Path:
    return var_dir / "bench" / f"rasa-init-{rasa_version()}"


def cached_model(project: Path) -> Optional[Path]:
    models = sorted((project / "models").glob("*.tar.gz")) if (project / "models").is_dir() else []
    return models[-1] if models else None


def build(var_dir: Path, say: Callable[[str], None] = print) -> tuple[Path, bool]:
    """The cached init project (training it now if needed); returns it and whether it was trained now."""
    target = cache_dir(var_dir)
    if cached_model(target) is not None:
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    log_path = target.parent / f"{target.name}.train.log"
    say(f"  training the `rasa init` reference bot once (log: {log_path}); this takes a few minutes")
    started = time.monotonic()
    try:
        _run_init(scratch, log_path)
        if cached_model(scratch) is None:
            raise InitBotError(f"`rasa init` produced no model; see {log_path}.")
        shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    say(f"  ✓ reference bot trained in {time.monotonic() - started:.0f} s")
    return target, True


def _run_init(project: Path, log_path: Path) -> None:
    with open(log_path, "wb") as log:
        result = subprocess.run(
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)],
            cwd=project,
            env=quiet_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=TRAIN_TIMEOUT_SECONDS,
        )
    if result.returncode != 0:
        raise InitBotError(f"`rasa init` exited with {result.returncode}; see {log_path}.")


@dataclass
class InitBotServer:
    """`rasa run` of the cached init project on a free loopback port."""

    project: Path
    log_path: Path
    port: int = 0
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "InitBotServer":
        model = cached_model(self.project)
        if model is None:
            raise InitBotError(f"No trained model under {self.project}.")
        run_dir = Path(tempfile.mkdtemp(prefix="rasa-init-run-"))
        (run_dir / "credentials.yml").write_text(CREDENTIALS)
        (run_dir / "endpoints.yml").write_text(ENDPOINTS)
        self.port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = spawn(
                [
                    str(BIN / "rasa"),
                    "run",
                    "--model",
                    str(model),
                    "--interface",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--credentials",
                    str(run_dir / "credentials.yml"),
                    "--endpoints",
                    str(run_dir / "endpoints.yml"),
                ],
                log,
                cwd=self.project,
                env=quiet_env(),
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise InitBotError(f"`rasa run` of the reference bot exited; see {self.log_path}.")
            if http_ok(f"{self.url}/"):
                return
            time.sleep(0.25)
        raise InitBotError(f"The reference bot was not ready within {READY_TIMEOUT_SECONDS} s.")

    def stop(self, grace_seconds: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        _signal_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    from recoverydesk.settings import ROOT

    build(ROOT / "var")
