"""Agents' sign-in rule: both factors are always checked, for unknown agents too (AGT-1)."""

from __future__ import annotations

from datetime import datetime, timezone

import pyotp
import pytest

from recoverydesk.domain import agents, passwords, totp
from recoverydesk.domain.agents import AgentCredentials, accepted_step, check_new_agent
from recoverydesk.domain.errors import AgentNotCreated

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def checks(monkeypatch):
    seen: list[str] = []
    verify, match = passwords.verify_password, totp.matching_step
    monkeypatch.setattr(passwords, "verify_password", lambda *a: seen.append("password") or verify(*a))
    monkeypatch.setattr(totp, "matching_step", lambda *a, **k: seen.append("totp") or match(*a, **k))
    return seen


def _credentials(seed: str) -> AgentCredentials:
    return AgentCredentials("agent", passwords.hash_password("right horse battery"), seed, -1)


@pytest.mark.parametrize("password_right", [True, False])
@pytest.mark.parametrize("code_right", [True, False])
@pytest.mark.parametrize("known", [True, False])
def test_both_factors_are_checked_whatever_fails(checks, password_right, code_right, known):
    seed = pyotp.random_base32()
    code = pyotp.TOTP(seed).at(NOW) if code_right else "000000"
    stored = _credentials(seed) if known else None
    step = accepted_step(stored, "right horse battery" if password_right else "wrong", code, NOW, locked=False)
    assert checks == ["password", "totp"]
    assert (step is not None) == (known and password_right and code_right and code != "000000")


def test_a_locked_agent_is_refused_with_the_right_password_and_code():
    seed = pyotp.random_base32()
    assert accepted_step(_credentials(seed), "right horse battery", pyotp.TOTP(seed).at(NOW), NOW, locked=True) is None


def test_new_agents_need_a_valid_name_a_known_role_and_a_long_password():
    for username, password, role in (("A!", "x" * 20, "agent"), ("ana", "x" * 20, "boss"), ("ana", "short", "agent")):
        with pytest.raises(AgentNotCreated):
            check_new_agent(username, password, role)
    check_new_agent("ana", "x" * agents.MIN_PASSWORD_LENGTH, "supervisor")
