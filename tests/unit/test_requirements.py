"""Dependencies: pyproject declares what requirements.in lists; both locks pin every package to one
version with hashes (pip-compile --generate-hashes), runtime and development tools apart, and agree
where they overlap."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomli

from recoverydesk.settings import ROOT

DEV_TOOLS = {"pytest", "pytest-asyncio", "hypothesis", "ruff", "mypy", "playwright", "types-zxcvbn", "py-spy"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    return [
        line.split("#")[0].strip()
        for line in path.read_text().splitlines()
        if line.split("#")[0].strip() and not line.startswith("-")
    ]


def name_of(requirement: str) -> str:
    return normalise(re.split(r"[\[=<>!~ ;]", requirement, maxsplit=1)[0])


def pins(lock: Path) -> dict[str, str]:
    """name -> version, checking that each pin is followed by its hashes."""
    text = lock.read_text()
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1] if text.startswith("#") else text):
        head = block.split(" ", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        name, sep, version = head.partition("==")
        assert sep and version, f"{lock.name}: {head!r} is not pinned to one version"
        assert "--hash=sha256:" in block, f"{lock.name}: {head} has no hash"
        found[normalise(name)] = version
    return found


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomli.loads((ROOT / "pyproject.toml").read_text())


def test_pyproject_declares_the_runtime_requirements(pyproject):
    declared = {name_of(r): r.replace("[asyncio_client]", "") for r in pyproject["project"]["dependencies"]}
    listed = {name_of(r): r.replace("[asyncio_client]", "") for r in requirement_lines(ROOT / "requirements.in")}
    assert declared == listed
    dev = {name_of(r) for r in pyproject["project"]["optional-dependencies"]["dev"]}
    assert dev == {name_of(r) for r in requirement_lines(ROOT / "requirements-dev.in")}


def test_both_locks_pin_every_package_with_hashes_and_keep_tools_out_of_the_runtime():
    runtime, dev = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")
    assert len(runtime) > 150 and {"rasa", "rasa-sdk", "pyjwt", "cryptography", "structlog"} <= set(runtime)
    assert not DEV_TOOLS & set(runtime), DEV_TOOLS & set(runtime)
    assert DEV_TOOLS - {"py-spy"} <= set(dev) and "py-spy" not in dev
    assert {name: (runtime[name], dev[name]) for name in set(runtime) & set(dev) if runtime[name] != dev[name]} == {}


def test_every_direct_requirement_is_in_its_lock_at_the_pinned_version():
    for source, lock in (("requirements.in", "requirements.lock"), ("requirements-dev.in", "requirements-dev.lock")):
        pinned = pins(ROOT / lock)
        for requirement in requirement_lines(ROOT / source):
            name = name_of(requirement)
            assert name in pinned, f"{name} ({source}) is missing from {lock}"
            exact = re.search(r"==([^\s;]+)", requirement)
            assert exact is None or pinned[name] == exact.group(1), (name, pinned[name])
