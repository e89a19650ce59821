"""Structured logs (recoverydesk/logs.py): stdlib records with their ``extra`` fields come out as one JSON
object per line, or as readable key=value lines when LOG_FORMAT=console, and never with local variables."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Iterator

import pytest

from recoverydesk import logs
from recoverydesk.settings import ConfigurationError, Settings


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure() and attach() change process-wide loggers: put back what pytest had."""
    root, ours = logging.getLogger(), logging.getLogger(logs.OUR_LOGGERS)
    saved = (root.handlers[:], root.level, ours.handlers[:], ours.propagate, ours.level)
    yield
    root.handlers[:], ours.handlers[:] = saved[0], saved[2]
    root.setLevel(saved[1])
    ours.propagate = saved[3]
    ours.setLevel(saved[4])


def settings_with(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"RECOVERYDESK_VAR_DIR": str(tmp_path), "RECOVERYDESK_SECRET_KEY": "k" * 40, **env})


def logger_writing_to(stream: io.StringIO, log_format: str) -> logging.Logger:
    log = logging.getLogger("recoverydesk.test_logs." + log_format)
    log.handlers[:] = [logs.handler(log_format, stream)]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log


def test_a_record_with_extra_fields_is_one_parseable_json_object_carrying_them() -> None:
    stream = io.StringIO()
    log = logger_writing_to(stream, "json")

    log.warning("outbox.retry", extra={"outbox": "mail", "kind": "SMTPServerDisconnected", "attempts": 3, "delay": 2.5})

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["event"] == "outbox.retry"
    assert line["level"] == "warning"
    assert line["logger"] == "recoverydesk.test_logs.json"
    assert (line["outbox"], line["kind"], line["attempts"], line["delay"]) == ("mail", "SMTPServerDisconnected", 3, 2.5)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["timestamp"]), line["timestamp"]


def test_a_value_json_cannot_hold_is_written_as_text_rather_than_losing_the_line() -> None:
    stream = io.StringIO()
    logger_writing_to(stream, "json").info("alerts.sent", extra={"ticket": Path("T-1")})

    assert json.loads(stream.getvalue())["ticket"] in ("T-1", "PosixPath('T-1')")


def test_the_console_renderer_is_used_when_settings_say_console(tmp_path: Path, restored_logging: None) -> None:
    settings = settings_with(tmp_path, LOG_FORMAT="console")
    stream = io.StringIO()

    logs.configure(settings.log_format, stream=stream)
    logging.getLogger("recoverydesk.outbox").warning("outbox.expired", extra={"outbox": "mail", "attempts": 7})

    line = stream.getvalue().strip()
    assert "outbox.expired" in line and "outbox=mail" in line and "attempts=7" in line
    assert "warn" in line
    with pytest.raises(ValueError):
        json.loads(line)


def test_json_is_the_default_and_an_unknown_log_format_is_refused(tmp_path: Path) -> None:
    assert settings_with(tmp_path).log_format == "json"
    assert settings_with(tmp_path, LOG_FORMAT=" Console ").log_format == "console"
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        settings_with(tmp_path, LOG_FORMAT="xml")
    with pytest.raises(ValueError):
        logs.formatter("xml")


@pytest.mark.parametrize("log_format", logs.FORMATS)
def test_a_logged_exception_shows_its_traceback_but_not_the_local_variables(log_format: str) -> None:
    stream = io.StringIO()
    log = logger_writing_to(stream, log_format)
    password = "canary-Pa55word-never-logged"

    def check(secret: str) -> None:
        raise RuntimeError("refused")

    try:
        check(password)
    except RuntimeError:
        log.exception("helpdesk.unhandled_error", extra={"kind": "RuntimeError"})

    written = stream.getvalue()
    assert "RuntimeError: refused" in written and "check(password)" in written
    assert password not in written
    if log_format == "json":
        assert len(written.splitlines()) == 1
        assert "Traceback" in json.loads(written)["exception"]


def test_inside_rasa_our_loggers_write_json_once_and_rasas_keep_their_handler(restored_logging: None) -> None:
    rasa_output, ours_output = io.StringIO(), io.StringIO()
    rasa_handler = logging.StreamHandler(rasa_output)
    rasa_handler.setFormatter(logging.Formatter("RASA %(name)s %(message)s"))
    logging.getLogger().handlers[:] = [rasa_handler]
    logging.getLogger().setLevel(logging.INFO)

    logs.attach("json", ours_output)
    logs.attach("json", ours_output)  # a second import-time call adds no second handler
    logging.getLogger("recoverydesk.tracker_store").warning("tracker_store.slow", extra={"ms": 812})
    logging.getLogger("rasa.core.agent").info("Loading model")

    assert [json.loads(line)["ms"] for line in ours_output.getvalue().splitlines()] == [812]
    assert rasa_output.getvalue() == "RASA rasa.core.agent Loading model\n"


def test_configuring_a_process_after_a_rasa_import_writes_our_lines_once_at_the_root(restored_logging: None) -> None:
    attached, root_output = io.StringIO(), io.StringIO()
    logs.attach("json", attached)  # what importing bot.rasa_plugins does

    logs.configure("json", stream=root_output)
    logging.getLogger("recoverydesk.actions").warning("actions.not_ready", extra={"kind": "RedisError"})

    assert attached.getvalue() == ""
    assert [json.loads(line)["kind"] for line in root_output.getvalue().splitlines()] == ["RedisError"]
