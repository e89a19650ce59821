"""SECURITY.md requirements checked on the project's files and the domain core, without the stack."""

import re

import pytest
import yaml
from argon2 import PasswordHasher

from recoverydesk.domain.passwords import hash_password, verify_password
from recoverydesk.settings import ROOT

DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
# Yes/no answers to the triage questions: they may raise a ticket's priority, never grant anything.
TRIAGE_EVIDENCE_SLOTS = {"money_moved", "access_ongoing", "contacts_changed"}


def test_security_slots_are_filled_only_by_custom_mappings():
    """IDV-7: no message, intent or entity can fill a slot that the actions rely on."""
    for name, slot in DOMAIN["slots"].items():
        kinds = {m["type"] for m in slot.get("mappings", [])}
        if name in TRIAGE_EVIDENCE_SLOTS:
            assert kinds == {"from_intent"}, name
        elif name == "language":  # issue 16: only which language to answer in; it grants nothing
            assert slot["mappings"] == [{"type": "from_entity", "entity": "language"}]
            assert slot["influence_conversation"] is False
        else:
            assert kinds == {"custom"}, f"slot {name} has mappings {kinds}"
    entities = {next(iter(e)) if isinstance(e, dict) else e for e in DOMAIN.get("entities", [])}
    assert not {"verified", "verify_step", "code_purpose", "factor_step"} & entities


def test_password_hashes_are_at_least_as_strong_as_argon2_cffi_defaults():
    """PWD-3: Argon2id with memory, time and parallelism no lower than argon2-cffi's defaults."""
    defaults = PasswordHasher()
    stored = hash_password("glacier-orbit-velvet-canyon")
    params = dict(p.split("=") for p in re.match(r"^\$argon2id\$v=19\$([^$]+)\$", stored).group(1).split(","))
    assert int(params["m"]) >= defaults.memory_cost
    assert int(params["t"]) >= defaults.time_cost
    assert int(params["p"]) >= defaults.parallelism
    assert verify_password(stored, "glacier-orbit-velvet-canyon")
    assert not verify_password(stored, "glacier-orbit-velvet")


NOTICES = [
    "utter_email_password_changed_body",
    "utter_email_totp_enabled_body",
    "utter_email_resolved_body",
]


@pytest.mark.parametrize("response", NOTICES)
def test_every_notice_states_time_and_channel_and_a_this_wasnt_me_path(response):
    """NOT-1: the notice texts themselves (the flows that send them are tested end to end)."""
    [variant] = DOMAIN["responses"][response]
    text = variant["text"]
    assert "{when}" in text and "{channel}" in text
    assert "this wasn't me" in text
    assert "http" not in text and "{link}" not in text and "{code}" not in text
