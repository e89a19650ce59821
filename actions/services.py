"""The collaborators the actions use, built once per action-server process.

rasa_sdk instantiates action classes without arguments, so this is the one place that
reads the settings and builds clients; tests replace it with ``use(...)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from bot.settings import Settings

from .helpdesk_client import HelpdeskClient


@dataclass
class Services:
    settings: Settings
    helpdesk: HelpdeskClient

    @classmethod
    def from_settings(cls, settings: Settings) -> "Services":
        return cls(settings=settings, helpdesk=HelpdeskClient(settings.helpdesk_url, settings.secret_key))


_current: Optional[Services] = None


def current() -> Services:
    global _current
    if _current is None:
        _current = Services.from_settings(Settings.from_env())
    return _current


def use(services: Services) -> None:
    global _current
    _current = services
