"""Structured logs in the real processes: the helpdesk plugin writes nothing but JSON lines (Sanic's own
included), and inside Rasa, with Rasa's own logging set up, our loggers write JSON once while Rasa's
lines keep Rasa's format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from recoverydesk.ops.stack import free_port
from recoverydesk.settings import ROOT
from tests.support.servers import RedisServer

# As `rasa run` does it: Rasa's coloured handler on the root logger, then our plugins imported.
RASA_PROCESS = """
import logging
import rasa.utils.common, rasa.utils.io
rasa.utils.io.configure_colored_logging("INFO")
rasa.utils.common.configure_logging_and_warnings()
import bot.rasa_plugins
logging.getLogger("recoverydesk.event_broker").warning("event_broker.write_failed", extra={"kind": "X", "lines": 4})
logging.getLogger("rasa.core.agent").info("rasa.own.line")
"""


@pytest.fixture
def environment(tmp_path: Path, redis_server: RedisServer) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "RECOVERYDESK_VAR_DIR": str(tmp_path),
        "RECOVERYDESK_SECRET_KEY": "s" * 48,
        "PYTHONPATH": str(ROOT),
    }


def test_inside_rasa_our_lines_are_json_once_and_rasas_keep_their_format(environment: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RASA_PROCESS], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ours = [line for line in done.stderr.splitlines() if "event_broker.write_failed" in line]
    assert len(ours) == 1, done.stderr[-3000:]
    line = json.loads(ours[0])
    assert (line["logger"], line["level"]) == ("recoverydesk.event_broker", "warning")
    assert (line["kind"], line["lines"]) == ("X", 4)
    rasa_lines = [line for line in done.stderr.splitlines() if "rasa.own.line" in line]
    assert len(rasa_lines) == 1 and "rasa.core.agent" in rasa_lines[0] and not rasa_lines[0].startswith("{")


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_the_helpdesk_process_writes_its_log_format_sanics_lines_included(
    environment: dict[str, str], log_format: str
) -> None:
    port = free_port()
    env = {**environment, "HELPDESK_PORT": str(port), "LOG_FORMAT": log_format}
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk_plugin"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "the helpdesk did not start"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2):
                    break
            except OSError:
                time.sleep(0.25)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "the helpdesk logged nothing, not even Sanic's start-up"
    if log_format == "json":
        parsed = [json.loads(line) for line in lines]  # every line is one JSON object
        assert all({"timestamp", "level", "logger", "event"} <= set(entry) for entry in parsed), output[-2000:]
        assert any(entry["logger"].startswith("sanic") for entry in parsed), output[-2000:]
    else:
        assert not any(line.startswith("{") for line in lines), output[-2000:]
        assert any("[info" in line and "sanic" in line for line in lines), output[-2000:]


# A process of ours (helpdesk, action server, command line) sets up its logging, then something warns.
WARNING_PROCESS = """
import warnings
from recoverydesk import logs
logs.configure({log_format!r})
warnings.warn("sample.deprecated_call", DeprecationWarning, stacklevel=1)
warnings.warn("sample.runtime_warning", RuntimeWarning, stacklevel=1)
"""


def _warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "sample.runtime_warning" in line or "sample.deprecated" in line]


def test_python_warnings_in_our_processes_are_json_log_records(environment: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", WARNING_PROCESS.format(log_format="json")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in _warning_lines(done.stderr)]  # every such line is one JSON object
    assert [(r["logger"], r["level"], r["event"], r["category"], r["warning"]) for r in records] == [
        ("recoverydesk.warnings", "warning", "python.warning", "DeprecationWarning", "sample.deprecated_call"),
        ("recoverydesk.warnings", "warning", "python.warning", "RuntimeWarning", "sample.runtime_warning"),
    ], done.stderr[-3000:]
    assert all(r["file"] == "<string>" and isinstance(r["line"], int) for r in records)


def test_python_warnings_are_readable_lines_with_the_console_format(environment: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", WARNING_PROCESS.format(log_format="console")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = _warning_lines(done.stderr)
    assert len(lines) == 2 and not any(line.startswith("{") for line in lines), done.stderr[-3000:]
    assert "category=RuntimeWarning" in lines[1] and "recoverydesk.warnings" in lines[1], lines


def test_inside_rasa_python_warnings_are_our_json_lines(environment: dict[str, str]) -> None:
    script = RASA_PROCESS + 'import warnings\nwarnings.warn("sample.runtime_warning", RuntimeWarning)\n'
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = _warning_lines(done.stderr)
    record = json.loads(line)
    assert (record["logger"], record["category"], record["warning"]) == (
        "recoverydesk.warnings",
        "RuntimeWarning",
        "sample.runtime_warning",
    )
