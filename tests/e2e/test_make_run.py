"""`make run` starts everything (embedded Redis, mail sink), prints the URLs, and SIGTERM leaves nothing."""

import os
import signal
import subprocess
import time

import psutil

from recoverydesk.ops.stack import free_port
from recoverydesk.settings import ROOT


def test_make_run_prints_the_urls_and_sigterm_stops_every_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SMTP_HOST", "RASA_TOKEN")}
    env.update(
        RASA_PORT=str(free_port()),
        ACTIONS_PORT=str(free_port()),
        HELPDESK_PORT=str(free_port()),
        MAIL_SINK_SMTP_PORT=str(free_port()),
        MAIL_SINK_HTTP_PORT=str(free_port()),
        RECOVERYDESK_VAR_DIR=str(tmp_path / "var"),
    )
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = []
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            line = make.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(output)
        assert "Press Ctrl-C" in text, text
        assert "Model up to date" in text  # the model trained before is reused
        assert f"http://localhost:{env['RASA_PORT']}/chat/" in text
        assert f"http://localhost:{env['HELPDESK_PORT']}/console/" in text
        assert f"http://localhost:{env['MAIL_SINK_HTTP_PORT']}/" in text
        assert (tmp_path / "var" / "redis" / "appendonly.aof").exists() or any((tmp_path / "var" / "redis").iterdir())

        family = psutil.Process(make.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        for part in ("redis-server", "recoverydesk.ops.mail_sink", "helpdesk_plugin", "actions.server", "rasa run"):
            assert part in names, names

        make.send_signal(signal.SIGTERM)
        make.wait(60)
        gone, alive = psutil.wait_procs(family, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
