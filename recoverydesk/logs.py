"""Structured logs: every process of ours writes stdlib ``logging`` records, ``extra=`` fields included,
as one JSON object per line (``timestamp``, ``level``, ``logger``, ``event`` and the fields), or as
readable ``key=value`` lines with ``LOG_FORMAT=console``.

The code keeps logging with the standard library (``log.info("outbox.retry", extra={...})``); structlog
only renders. A face calls ``configure`` once in its ``main()``; inside Rasa, which sets up its own
logging, ``attach`` gives only the ``recoverydesk.*`` loggers our handler and leaves Rasa's alone.
Python warnings (``warnings.warn``, libraries' deprecations) become records of the
``recoverydesk.warnings`` logger in the same format, with their category, text and origin as fields.
What is logged must still never hold message text, codes or tokens (SECURITY.md PII-1)."""

from __future__ import annotations

import logging
import sys
import warnings
from datetime import datetime, timezone
from typing import Any, MutableMapping, Optional, TextIO

import structlog

FORMATS = ("json", "console")
OUR_LOGGERS = "recoverydesk"  # every logger of the project is named recoverydesk.<concept>

EventDict = MutableMapping[str, Any]
WARNINGS_LOGGER = f"{OUR_LOGGERS}.warnings"
_python_showwarning = warnings.showwarning


def _timestamp(_logger: Any, _name: str, event: EventDict) -> EventDict:
    """The record's own creation time, in UTC to the millisecond (when it happened, not when it was written)."""
    record = event.get("_record")
    created = record.created if record is not None else datetime.now(timezone.utc).timestamp()
    event["timestamp"] = datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds")
    return event


def formatter(log_format: str = "json", colors: bool = False) -> logging.Formatter:
    """A ``logging.Formatter`` rendering a record and its ``extra`` fields in ``log_format``."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    renderer: Any
    if log_format == "console":
        # plain_traceback: structlog's default (rich) traceback prints local variables, which may be secrets
        renderer = structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=structlog.dev.plain_traceback)
        exceptions: list[Any] = []
    else:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
        # the traceback as text: dict_tracebacks would also record local variables
        exceptions = [structlog.processors.format_exc_info]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            _timestamp,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *exceptions, renderer],
    )


def handler(log_format: str = "json", stream: Optional[TextIO] = None) -> logging.Handler:
    """A stream handler (stderr by default) with our formatter; colours only on a terminal."""
    stream = stream if stream is not None else sys.stderr
    result = logging.StreamHandler(stream)
    result.setFormatter(formatter(log_format, colors=log_format == "console" and stream.isatty()))
    result.set_name("recoverydesk")
    return result


def _log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Optional[TextIO] = None,
    line: Optional[str] = None,
) -> None:
    """``warnings.showwarning`` for our processes: one structured record instead of text on stderr."""
    if file is not None:  # someone asked for a particular file: as Python would
        _python_showwarning(message, category, filename, lineno, file, line)
        return
    logging.getLogger(WARNINGS_LOGGER).warning(
        "python.warning",
        extra={"category": category.__name__, "warning": str(message), "file": filename, "line": lineno},
    )


def capture_warnings() -> None:
    """Python warnings go through the structured logs (what ``logging.captureWarnings`` does, with fields)."""
    warnings.showwarning = _log_warning


def configure(log_format: str = "json", level: int = logging.INFO, stream: Optional[TextIO] = None) -> None:
    """The whole process's logging (action server, helpdesk, command line): the root logger gets our
    handler, and Python warnings become log records."""
    logging.basicConfig(level=level, handlers=[handler(log_format, stream)], force=True)
    _detach()  # bot.rasa_plugins may have been imported first (tools, tests): then too, one handler, at the root
    capture_warnings()


def _detach() -> logging.Logger:
    ours = logging.getLogger(OUR_LOGGERS)
    for existing in [h for h in ours.handlers if h.get_name() == "recoverydesk"]:
        ours.removeHandler(existing)
    ours.propagate = True
    return ours


def attach(log_format: str = "json", stream: Optional[TextIO] = None) -> logging.Logger:
    """Inside a process whose logging is someone else's (Rasa): our handler on the ``recoverydesk``
    loggers only, which stop propagating so each line is written once, in our format; Python
    warnings are written there too. Idempotent."""
    ours = _detach()
    ours.addHandler(handler(log_format, stream))
    ours.propagate = False
    capture_warnings()
    return ours
