"""The bot's progress on an open ticket (issue 14): signed by the action server, added once, refused when
unsigned, replayed onto another ticket, or sent for another conversation's ticket."""

from __future__ import annotations

import asyncio
import json

import pytest
import requests

from recoverydesk.adapters.helpdesk_client import HelpdeskClient, TicketRejected
from recoverydesk.domain.signing import derive_key, sign
from tests.support.servers import helpdesk_with_a_ticket

SECRET = "e" * 48
CONVERSATION = "p" * 40
TICKET = "RD-700001"
OTHER_TICKET = "RD-700002"
VERIFIED = {
    "account_ref": "acc-progress",
    "display_name_masked": "C*** J***",
    "verification": {"level": "basic", "methods": ["email_code"]},
}


@pytest.fixture(scope="module")
def helpdesk(redis_server, tmp_path_factory):
    with helpdesk_with_a_ticket(
        redis_server.url, SECRET, tmp_path_factory.mktemp("var"), CONVERSATION, TICKET
    ) as server:
        server.file_ticket("q" * 40, OTHER_TICKET)
        yield server


def read(helpdesk, token: str, ticket_id: str) -> dict:
    reply = requests.get(
        f"{helpdesk.url}/api/v1/tickets/{ticket_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert reply.status_code == 200
    return reply.json()


async def add(helpdesk, ticket_id: str, progress: dict) -> None:
    client = HelpdeskClient(helpdesk.url, SECRET.encode())
    try:
        await client.add_progress(ticket_id, progress)
    finally:
        await client.close()


def test_signed_progress_reaches_the_open_ticket_once_and_is_audited(helpdesk, token):
    progress = {
        "conversation_id": CONVERSATION,
        "customer": VERIFIED,
        "reported_activity": [{"id": "ev-9", "kind": "login", "ip": "203.0.113.9"}],
        "suspicious_ips": ["203.0.113.9"],
        "actions_taken": ["Customer verified (basic: email_code)", "Signed out 2 other sessions"],
    }
    asyncio.run(add(helpdesk, TICKET, progress))
    asyncio.run(add(helpdesk, TICKET, progress))  # a retry adds nothing twice
    ticket = read(helpdesk, token, TICKET)
    assert ticket["customer"] == VERIFIED and "verified:basic" in ticket["tags"]
    assert ticket["reported_activity"] == progress["reported_activity"]
    assert ticket["actions_taken"] == progress["actions_taken"]
    audit = requests.get(
        f"{helpdesk.url}/api/v1/tickets/{TICKET}/audit", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert [e["action"] for e in audit["entries"]].count("ticket.bot_progress") == 2


def test_progress_for_another_conversations_ticket_is_refused(helpdesk, token):
    with pytest.raises(TicketRejected):
        asyncio.run(add(helpdesk, OTHER_TICKET, {"conversation_id": CONVERSATION, "customer": VERIFIED}))
    assert read(helpdesk, token, OTHER_TICKET)["customer"]["account_ref"] is None


def test_unsigned_or_replayed_progress_changes_nothing(helpdesk, token):
    body = json.dumps({"ticket_id": TICKET, "conversation_id": "q" * 40, "customer": VERIFIED}).encode()
    url = f"{helpdesk.url}/api/v1/tickets/{OTHER_TICKET}/progress"
    unsigned = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
    signed = sign(derive_key(SECRET.encode(), "tickets"), body)  # signed for TICKET, sent to OTHER_TICKET
    replayed = requests.post(url, data=body, headers={"Content-Type": "application/json", **signed}, timeout=10)
    assert (unsigned.status_code, replayed.status_code) == (401, 401)
    assert read(helpdesk, token, OTHER_TICKET)["customer"]["account_ref"] is None
    assert replayed.json()["error"]["code"] == "unauthenticated"
