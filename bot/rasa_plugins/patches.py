"""The one switch for our changes inside Rasa: ``install()`` turns on ``rasa_speedups`` and ``action_failures``.

Both replace Rasa internals they were written against (``rasa_speedups`` copies a loop of
``Domain.states_for_tracker_history`` from Rasa 3.6.21), so ``install()`` refuses any other Rasa
with a sentence saying what to do, rather than run a Rasa they may silently get wrong. Every Rasa
process runs it: ``bot/rasa_plugins/__init__.py`` calls it, and every Rasa process imports that
package (the model's ``EmailReplyClassifier``, the tracker and lock stores, the event broker) -
``make run``, the test stack and ``rasa test core`` alike. It is idempotent."""

from __future__ import annotations

import logging
from typing import Optional

import rasa

from bot.rasa_plugins import action_failures, rasa_speedups
from bot.rasa_plugins.replacement import Replacement
from recoverydesk import settings as settings_module
from recoverydesk.settings import Settings

log = logging.getLogger("recoverydesk.rasa_patches")
SUPPORTED_RASA_VERSIONS = ("3.6.21",)  # the Rasa in requirements.lock, which the patches were checked against

_installed: list[Replacement] = []


class UnsupportedRasaVersion(RuntimeError):
    """The running Rasa is not one the patches were written for."""


def check_rasa_version(version: str) -> None:
    if version not in SUPPORTED_RASA_VERSIONS:
        raise UnsupportedRasaVersion(
            f"Recovery Desk's Rasa patches (bot/rasa_plugins/rasa_speedups.py, action_failures.py) were written "
            f"for Rasa {', '.join(SUPPORTED_RASA_VERSIONS)}, but Rasa {version} is installed. Install the pinned "
            f"version (pip install -r requirements.lock), or check both patches against Rasa {version} and add "
            f"it to SUPPORTED_RASA_VERSIONS in bot/rasa_plugins/patches.py."
        )


def install(settings: Optional[Settings] = None, rasa_version: Optional[str] = None) -> None:
    """Checks the Rasa version, then switches both patches on (a second call changes nothing)."""
    check_rasa_version(rasa.__version__ if rasa_version is None else rasa_version)
    if _installed:
        return
    settings = settings or settings_module.load()
    replacements = [*rasa_speedups.replacements(), *action_failures.replacements(settings.action_timeout_seconds)]
    for replacement in replacements:
        replacement.apply()
    _installed.extend(replacements)
    log.debug("rasa_patches.installed", extra={"replacements": len(replacements)})


def installed() -> bool:
    return bool(_installed)


def uninstall() -> None:
    """Rasa's own code again (tests use it to see ``install()`` work from the start)."""
    while _installed:
        _installed.pop().undo()
