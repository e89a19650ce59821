"""`.env.example` lists exactly the environment variables the settings read, with their defaults."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Iterator, Mapping

from redis.asyncio import Redis

from recoverydesk.adapters.traffic_limits import DEFAULTS, TrafficLimits
from recoverydesk.settings import ROOT, Settings

EXAMPLE = ROOT / ".env.example"


def example_values() -> dict[str, str]:
    """NAME=value lines; comments and blank lines are prose."""
    values = {}
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep and name == name.strip() and name.isupper(), f"not a NAME=value line: {line!r}"
            assert name not in values, f"{name} is listed twice"
            values[name] = value
    return values


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers every name looked up in it, whether or not it is set."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.looked_up: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.looked_up.add(name)
        return self._values[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.looked_up.add(name)
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def names_read(values: Mapping[str, str], root: Path) -> set[str]:
    """Names Settings.from_env looks up in ``values``, plus the RL_ names it passes on to the traffic
    limits (it takes those by prefix) that the traffic limits look up."""
    env = RecordingEnv(values)
    settings = Settings.from_env(env, root)
    limits_env = RecordingEnv(settings.traffic_limits)
    TrafficLimits.from_env(Redis(), limits_env)  # a client that is never connected
    return env.looked_up | limits_env.looked_up


def test_env_example_lists_exactly_the_variables_the_settings_read(tmp_path: Path):
    # SMTP_PORT is looked up only once SMTP_HOST is set, so read the settings of a development set-up
    # (nothing set) and of a production one (an SMTP server)
    read = names_read({}, tmp_path) | names_read({"SMTP_HOST": "smtp.bank.example"}, tmp_path)
    listed = set(example_values())
    assert listed - read == set(), "listed in .env.example but read by no setting"
    assert read - listed == set(), "read by the settings but missing from .env.example"


def test_the_values_in_env_example_are_the_defaults(tmp_path: Path):
    example = Settings.from_env(example_values(), tmp_path)
    unset = Settings.from_env({}, tmp_path)
    for each in fields(Settings):
        if each.name != "traffic_limits":
            assert getattr(example, each.name) == getattr(unset, each.name), each.name
    assert TrafficLimits.from_env(Redis(), example.traffic_limits).limits == DEFAULTS
