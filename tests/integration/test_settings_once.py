"""Each process reads its configuration from the environment once: every face builds what it needs the
way its process does, in a fresh interpreter, and ``Settings.from_env`` has run exactly one time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recoverydesk.settings import ROOT
from tests.support.servers import RedisServer

# What each process builds at start-up and on its first requests, written as the process does it.
RASA_SERVER = """
import asyncio, yaml
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import LockStore
from rasa.core.run import create_http_input_channels
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig
from recoverydesk.ops.stack import runtime_endpoints
from recoverydesk import settings

async def build():
    for channel in create_http_input_channels(None, "credentials.yml"):
        channel.blueprint(lambda message: None)
    endpoints = runtime_endpoints(settings.load())
    domain = Domain.load("domain.yml")
    TrackerStore.create(EndpointConfig.from_dict(endpoints["tracker_store"]), domain)
    LockStore.create(EndpointConfig.from_dict(endpoints["lock_store"]))
    await EventBroker.create(EndpointConfig.from_dict(endpoints["event_broker"]))
    import bot.rasa_plugins.nlu_patterns  # config.yml's pipeline component
    from bot.rasa_plugins import patches
    assert patches.installed()

asyncio.run(build())
"""

ACTION_SERVER = """
from actions import crisis, escalation, identity, two_factor
from actions.server import build_app
from recoverydesk.services import bootstrap
build_app()
bootstrap.current()
"""

HELPDESK_PLUGIN = """
from helpdesk_plugin.app import create_app
from recoverydesk import settings
from recoverydesk.services.bootstrap import HelpdeskServices
create_app(settings.load())
HelpdeskServices.build(settings.load())
"""

COMMAND_LINE = """
from recoverydesk.ops import cli
from recoverydesk import settings
settings.load()
settings.load()
"""

REPORT = "\nfrom recoverydesk import settings\nprint('settings read', settings.reads)\n"


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> dict[str, str]:
    var_dir: Path = tmp_path_factory.mktemp("settings-once")
    return {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "RECOVERYDESK_VAR_DIR": str(var_dir),
        "RECOVERYDESK_SECRET_KEY": "s" * 48,
        "PYTHONPATH": str(ROOT),
    }


PROCESSES = {
    "rasa server": RASA_SERVER,
    "action server": ACTION_SERVER,
    "helpdesk plugin": HELPDESK_PLUGIN,
    "command line": COMMAND_LINE,
}


@pytest.mark.parametrize("process", PROCESSES)
def test_each_process_reads_its_settings_from_the_environment_once(process: str, environment: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROCESSES[process] + REPORT],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{process} could not be built:\n{done.stderr[-3000:]}"
    assert "settings read 1" in done.stdout.splitlines(), f"{process}: {done.stdout[-500:]}"
