"""The Redis names in recoverydesk.adapters.keys are stored data's addresses: they must not drift."""

from __future__ import annotations

import ast
from pathlib import Path

from recoverydesk.adapters import keys

ROOT = Path(__file__).resolve().parents[2]
# Where the product's code lives; tests spell keys out on purpose, to pin the stored names.
PRODUCT = ("recoverydesk", "actions", "bot", "helpdesk_plugin", "bench", "tests/support")


def test_every_key_keeps_the_name_its_data_is_stored_under():
    assert keys.TRACKER_PREFIX == "rdtracker" and keys.LOCK_PREFIX == "rdlock"
    assert keys.conversation_stream("c1") == "rd:conversation:c1:lines"
    assert keys.account("acct_1", "secrets") == "rd:account:acct_1:secrets"
    assert keys.account("email", "a@example.com") == "rd:account:email:a@example.com"
    assert keys.verification("c1") == "rd:verification:c1"
    assert keys.verification_pending("c1") == "rd:verification:c1:pending"
    assert keys.verification_by_account("acct_1") == "rd:verification_by_account:acct_1"
    assert keys.one_time_code("acct_1", "c1") == "rd:otp:acct_1:c1"
    assert keys.code_inbox("c1") == "rd:code_inbox:c1"
    assert keys.code_inbox("c1", "recovery_code") == "rd:code_inbox:c1:recovery_code"
    assert keys.secure_link("ab12") == "rd:secure_link:ab12"
    assert keys.secure_links_of_account("acct_1") == "rd:secure_link:account:acct_1"
    assert keys.webchat_delivery("s1", "m1") == "rd:webchat:delivered:s1:m1"
    assert keys.failures("totp", "acct_1") == "rd:limits:failures:totp:acct_1"
    assert keys.sends("email_code", "acct_1") == "rd:limits:sends:email_code:acct_1"
    assert keys.traffic_window("message", "global", 7) == "rd:limits:rl4:message:global:7"
    assert keys.traffic_window("message", "session:s1", 7) == "rd:limits:rl4:message:session:s1:7"
    assert keys.outbox_due("mail") == "rd:outbox:mail:due"
    assert keys.outbox_item("tickets", "k1") == "rd:outbox:tickets:item:k1"
    assert keys.helpdesk("ticket", "RD-000001") == "rd:helpdesk:ticket:RD-000001"
    assert keys.agent("alice") == "rd:helpdesk:agent:alice"
    assert keys.TICKET_SEQUENCE == "rd:helpdesk:ticket_seq"
    assert keys.CHANGES_STREAM == "rd:helpdesk:changes"
    assert keys.AUDIT_STREAM == "rd:helpdesk:audit"
    assert keys.ticket_audit_stream("RD-000001") == "rd:helpdesk:audit:ticket:RD-000001"
    assert keys.incidents("incident", "INC-0001") == "rd:incidents:incident:INC-0001"
    assert keys.CONTACTS_BY_START == "rd:contacts:by_start"
    assert keys.contact_record("c1") == "rd:contacts:record:c1"
    assert keys.contact_edits("c1") == "rd:contacts:edits:c1"
    assert keys.ALERTS_SENT == "rd:alerts:sent"
    assert keys.alert_once("k") == "rd:alerts:once:k"
    assert keys.alert_kinds("INC-0001") == "rd:alerts:kinds:INC-0001"
    assert keys.METRICS == "rd:metrics"


def test_no_module_but_keys_spells_a_redis_name():
    found = []
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "keys.py" and path.parent.name == "adapters":
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if node.value.startswith(("rd:", "rdtracker", "rdlock")):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, "Redis names belong in recoverydesk/adapters/keys.py:\n" + "\n".join(found)
