"""Prometheus's own checker, `promtool` (Debian's `prometheus` package; `make test` installs it)."""

from __future__ import annotations

import shutil
import subprocess


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Runs promtool; a missing promtool is a failure that names the fix, never a skip."""
    path = shutil.which("promtool")
    assert path, "promtool is missing: `make promtool` installs it (apt-get install prometheus, as root)"
    return subprocess.run([path, *args], input=stdin, capture_output=True, text=True, timeout=60)
