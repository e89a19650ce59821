"""`patches.install()`: the one switch for our Rasa patches, refused on a Rasa they were not written for."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import rasa.core.actions.action as rasa_action
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event

from bot.rasa_plugins import action_failures, patches, rasa_speedups
from recoverydesk.settings import ROOT, Settings


@pytest.fixture
def fresh_rasa():
    """Rasa without our patches for the test; installed again afterwards, as the package import left it."""
    patches.uninstall()
    yield
    patches.uninstall()
    patches.install()


def _patched() -> dict[str, bool]:
    return {
        "run": RemoteAction.run is action_failures._run_or_apologise,
        "validate": RemoteAction._validate_action_result is rasa_speedups._validate_action_result,
        "event_types": Event.resolve_by_type is rasa_speedups._resolve_by_type,
        "states": Domain.states_for_tracker_history is rasa_speedups._states_for_tracker_history,
    }


def test_importing_the_package_installed_the_patches():
    assert patches.installed()
    assert all(_patched().values())


def test_install_switches_every_patch_on_once_and_uninstall_gives_rasa_back(fresh_rasa, tmp_path):
    assert not any(_patched().values())
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 300  # Rasa's own
    settings = Settings.from_env({"ACTION_TIMEOUT_SECONDS": "7", "RECOVERYDESK_VAR_DIR": str(tmp_path)}, ROOT)

    patches.install(settings)
    patches.install(settings)  # idempotent: nothing wrapped twice

    assert all(_patched().values())
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 7
    assert action_failures._rasa_run is not action_failures._run_or_apologise
    assert rasa_speedups._walk_event_classes is not rasa_speedups._resolve_by_type
    patches.uninstall()
    assert not any(_patched().values())
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == 300
    assert Event.resolve_by_type("user") is not None  # Rasa's staticmethod is back, callable on the class


@pytest.mark.parametrize("version", ["3.6.20", "3.7.0", "4.0.0"])
def test_install_refuses_a_rasa_it_was_not_written_for(fresh_rasa, version):
    with pytest.raises(patches.UnsupportedRasaVersion, match=f"Rasa {version} is installed"):
        patches.install(rasa_version=version)
    assert not any(_patched().values())


def _run(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_patch_modules_alone_changes_nothing_in_rasa():
    """Without the package's hook (a stand-in package), the modules only define their replacements."""
    script = f"""
        import sys, types
        stand_in = types.ModuleType("bot.rasa_plugins")
        stand_in.__path__ = [{str(ROOT / "bot" / "rasa_plugins")!r}]
        sys.modules["bot.rasa_plugins"] = stand_in
        import bot.rasa_plugins.action_failures, bot.rasa_plugins.rasa_speedups
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.core.domain import Domain
        print(RemoteAction.run.__module__, Domain.states_for_tracker_history.__module__)
    """
    assert _run(script) == "rasa.core.actions.action rasa.shared.core.domain"


def test_what_rasa_test_core_loads_installs_the_patches():
    """`rasa test core` imports only the model's components, among them config.yml's EmailReplyClassifier."""
    script = """
        from rasa.shared.utils.common import class_from_module_path
        class_from_module_path("bot.rasa_plugins.nlu_patterns.EmailReplyClassifier")
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.core.domain import Domain
        print(RemoteAction.run.__module__, Domain.states_for_tracker_history.__module__)
    """
    assert _run(script) == "bot.rasa_plugins.action_failures bot.rasa_plugins.rasa_speedups"
