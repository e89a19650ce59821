"""Demo accounts that `recoverydesk up` loads, so the flows can be tried at once (listed in README)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.domain.accounts import AccountError


def _ago(**delta: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).isoformat(timespec="seconds")


DEMO_ACCOUNTS = [
    {
        "email": "jane.doe@example.com",
        "name": "Jane Doe",
        "events": [
            {
                "kind": "login",
                "ip": "81.2.69.160",
                "device": "iPhone, Safari",
                "place": "London, UK",
                "at": {"days": 2},
            },
            {
                "kind": "login",
                "ip": "185.220.101.4",
                "device": "Windows, Chrome",
                "place": "Bucharest, RO",
                "at": {"hours": 9},
            },
            {"kind": "profile_change", "detail": "Postal address changed", "ip": "185.220.101.4", "at": {"hours": 8}},
        ],
    },
    {
        "email": "sam.lee@example.com",
        "name": "Sam Lee",
        "events": [
            {"kind": "login", "ip": "203.0.113.8", "device": "Android app", "place": "Leeds, UK", "at": {"days": 1}},
            {"kind": "email_change", "detail": "Sign-in email changed", "ip": "198.51.100.23", "at": {"days": 3}},
        ],
    },
]


async def load_demo_accounts(directory: AccountDirectory) -> list[str]:
    """Adds the demo accounts that are missing; returns their emails."""
    for demo in DEMO_ACCOUNTS:
        try:
            await directory.add(demo["email"], demo["name"], secrets.token_urlsafe(24))
        except AccountError:
            continue  # already loaded on an earlier run
        account = await directory.require(demo["email"])
        for number, device in enumerate(("iPhone app", "Chrome on Windows", "Firefox on Linux"), start=1):
            await directory.sessions.add(account.ref, f"sess_demo_{number}", {"device": device})
        for event in demo["events"]:
            fields = {k: v for k, v in event.items() if k not in ("kind", "at")}
            await directory.add_event(demo["email"], event["kind"], at=_ago(**event["at"]), **fields)
    return [d["email"] for d in DEMO_ACCOUNTS]
