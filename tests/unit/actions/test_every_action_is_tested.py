"""Every custom action in domain.yml is an Action class under actions/, and has tests here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from rasa_sdk import Action

import actions
from tests.unit.actions.conftest import DOMAIN

HERE = Path(__file__).parent


def action_classes() -> dict[str, type[Action]]:
    found: dict[str, type[Action]] = {}
    for module in pkgutil.iter_modules(actions.__path__):
        loaded = importlib.import_module(f"actions.{module.name}")
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, Action) and cls.__module__ == loaded.__name__ and not inspect.isabstract(cls):
                found[cls().name()] = cls
    return found


def test_the_domains_actions_are_exactly_the_action_classes() -> None:
    assert sorted(action_classes()) == sorted(DOMAIN["actions"])


def test_each_action_class_is_run_by_a_test_here() -> None:
    tests = "".join(p.read_text() for p in HERE.glob("test_*_actions.py"))
    untested = [cls.__name__ for cls in action_classes().values() if f"{cls.__name__}()" not in tests]
    assert untested == []
