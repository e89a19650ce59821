"""Every Redis key, key prefix and stream name Recovery Desk uses; no other module spells one.

These strings are a stored contract shared by the Rasa server, the action server, the helpdesk
and operators' tools: renaming one orphans the data kept under the old name, so a change here
needs a migration. Rasa's own tracker and lock stores take a bare alphanumeric prefix (Rasa
adds the colon), everything else lives under ``rd:``.
"""

from __future__ import annotations

TRACKER_PREFIX = "rdtracker"
"""Rasa tracker store prefix: ``rdtracker:events:<sender>`` (and the legacy ``rdtracker:tracker:<sender>``)."""

LOCK_PREFIX = "rdlock"
"""Rasa lock store prefix: ``rdlock:<conversation id>`` holds the conversation's ticket lock."""


def conversation_stream(conversation_id: str) -> str:
    """The stream where the Rasa event broker writes a conversation's redacted lines for the helpdesk."""
    return f"rd:conversation:{conversation_id}:lines"


ACCOUNT_PREFIX = "rd:account:"
"""Customer accounts: every account key starts with this."""


def account(*parts: str) -> str:
    """``rd:account:<ref>:<part>``, a customer account's record: ``profile`` (JSON), ``secrets`` (hash:
    password_hash, totp_seed, totp_last_step), ``events`` (sorted set), ``sessions`` (hash),
    ``risky_change_hold``, ``totp_pending`` and ``recovery_codes`` (set); ``account("email", <email>)``
    is the index from a normalised email address to the account's ref."""
    return ACCOUNT_PREFIX + ":".join(parts)


VERIFICATION_PREFIX = "rd:verification:"
"""``rd:verification:<conversation id>`` is the conversation's identity grant, ``...:pending`` the
account a code was sent for; both are built by :func:`verification` and :func:`verification_pending`."""


def verification(conversation_id: str) -> str:
    """The verification grant a conversation holds (JSON, expiring)."""
    return VERIFICATION_PREFIX + conversation_id


def verification_pending(conversation_id: str) -> str:
    """The account a conversation is being verified for, while its code is outstanding."""
    return f"{VERIFICATION_PREFIX}{conversation_id}:pending"


def verification_by_account(account_ref: str) -> str:
    """The set of conversations that hold or await a grant for one account."""
    return f"rd:verification_by_account:{account_ref}"


def one_time_code(account_ref: str, conversation_id: str) -> str:
    """The keyed digest of the email code sent to an account for one conversation."""
    return f"rd:otp:{account_ref}:{conversation_id}"


def code_inbox(conversation_id: str, kind: str = "code") -> str:
    """A code (``kind`` "code") or other secret a channel took out of a message, sealed, until an action reads it."""
    return f"rd:code_inbox:{conversation_id}" if kind == "code" else f"rd:code_inbox:{conversation_id}:{kind}"


SECURE_LINK_PREFIX = "rd:secure_link:"
"""Secure-page links: ``rd:secure_link:<sha256 of the token>`` and ``rd:secure_link:account:<ref>``."""


def secure_link(token_digest: str) -> str:
    """One secure-page link's grant, keyed by the SHA-256 hex digest of its token (never the token)."""
    return SECURE_LINK_PREFIX + token_digest


def secure_links_of_account(account_ref: str) -> str:
    """The set of an account's live secure-link keys, so they can all be revoked."""
    return f"{SECURE_LINK_PREFIX}account:{account_ref}"


def webchat_delivery(session_id: str, message_id: str) -> str:
    """A web chat message the server has taken (by the id the page gave it), so a re-send after a
    reconnect causes no second turn."""
    return f"rd:webchat:delivered:{session_id}:{message_id}"


LIMITS_PREFIX = "rd:limits:"
"""Rate limits and lockouts."""


def failures(factor: str, account_ref: str) -> str:
    """Failed attempts and the lockout time for one verification factor of one account (hash)."""
    return f"{LIMITS_PREFIX}failures:{factor}:{account_ref}"


def sends(limit_name: str, subject: str) -> str:
    """The sliding window (sorted set) of sends a named limit counts for one subject."""
    return f"{LIMITS_PREFIX}sends:{limit_name}:{subject}"


TRAFFIC_PREFIX = "rd:limits:rl4:"
"""RL-4 traffic limits: per-session and global fixed-window counters, built by :func:`traffic_window`."""


def traffic_window(kind: str, scope: str, window: int) -> str:
    """``rd:limits:rl4:<kind>:<scope>:<window>``; scope is ``session:<id>`` or ``global``."""
    return f"{TRAFFIC_PREFIX}{kind}:{scope}:{window}"


OUTBOX_PREFIX = "rd:outbox:"
"""Durable outboxes (``mail``, ``tickets``): a due queue and one item per idempotency key."""


def outbox_due(name: str) -> str:
    """The sorted set of an outbox's item keys by the time they are next due."""
    return f"{OUTBOX_PREFIX}{name}:due"


def outbox_item(name: str, key: str) -> str:
    """One outbox item (hash: sealed payload, state, attempts, ref)."""
    return f"{OUTBOX_PREFIX}{name}:item:{key}"


HELPDESK_PREFIX = "rd:helpdesk:"
"""The helpdesk's records, built by :func:`helpdesk`."""


def helpdesk(*parts: str) -> str:
    """``rd:helpdesk:<parts>``: ``ticket:<id>`` (JSON), ``notes:<id>`` (list), ``queue:open`` and
    ``queue:all`` (sorted sets of ids), ``idem:<idempotency key>``, ``conversation:<id>`` (its ticket),
    ``agent:<username>`` (hash), ``lock:<username>``, ``failures:<username>``,
    ``session:<sha256 of the console token>``."""
    return HELPDESK_PREFIX + ":".join(parts)


def agent(username: str) -> str:
    """Where an agent's record was kept before agents moved to SQL (hash: role, password hash, sealed
    TOTP seed, last TOTP step); agent_store copies one it finds here into SQL on first lookup."""
    return helpdesk("agent", username)


TICKET_SEQUENCE = "rd:helpdesk:ticket_seq"
"""The one counter ticket numbers are drawn from, by the helpdesk and by the action server's outbox."""

CHANGES_STREAM = "rd:helpdesk:changes"
"""The stream announcing each created or changed ticket (field ``ticket_id``) to consoles."""

AUDIT_STREAM = "rd:helpdesk:audit"
"""Where the audit log was kept before it moved to SQL (issue #17); kept for the one-time import."""


def ticket_audit_stream(ticket_id: str) -> str:
    """One ticket's own audit stream before the move to SQL (issue #17); kept for the one-time import."""
    return f"rd:helpdesk:audit:ticket:{ticket_id}"


INCIDENTS_PREFIX = "rd:incidents:"
"""Declared incidents, built by :func:`incidents`."""


def incidents(*parts: str) -> str:
    """``rd:incidents:<parts>``: ``seq`` (the INC- counter), ``incident:<id>`` (JSON), ``all`` and
    ``active`` (sorted sets of ids by start)."""
    return INCIDENTS_PREFIX + ":".join(parts)


CONTACTS_PREFIX = "rd:contacts:"
"""The contact log: one record and one edit history per conversation."""

CONTACTS_BY_START = "rd:contacts:by_start"
"""The sorted set of conversation ids by when the contact started."""


def contact_record(conversation_id: str) -> str:
    """One conversation's contact record (JSON)."""
    return f"{CONTACTS_PREFIX}record:{conversation_id}"


def contact_edits(conversation_id: str) -> str:
    """One contact record's edit history (list)."""
    return f"{CONTACTS_PREFIX}edits:{conversation_id}"


ALERTS_PREFIX = "rd:alerts:"
"""Crisis alerts: which were sent, once each, and which data kinds each incident raised."""

ALERTS_SENT = "rd:alerts:sent"
"""The sorted set of sent alerts (JSON entries) by the time they were sent."""


def alert_once(alert_key: str) -> str:
    """Set once when an alert is sent, so the same alert is never sent twice."""
    return f"{ALERTS_PREFIX}once:{alert_key}"


def alert_kinds(incident_id: str) -> str:
    """The set of data kinds an incident's alerts already reported."""
    return f"{ALERTS_PREFIX}kinds:{incident_id}"


METRICS = "rd:metrics"
"""The hash of Prometheus counters shared by every process."""


MESSENGER_PREFIX = "rd:messenger:"
"""Messenger channels: a conversation's platform address and reply window, and platform message ids seen."""


def messenger_conversation(conversation_id: str) -> str:
    """A messenger conversation's hash: ``channel``, ``address`` (sealed platform chat id),
    ``last_inbound`` (epoch seconds of the customer's last message), ``last_failure`` (kind and time)."""
    return f"{MESSENGER_PREFIX}conversation:{conversation_id}"


def messenger_seen(channel: str, message_digest: str) -> str:
    """Set while a platform message id (its keyed digest) may still be retried by the platform."""
    return f"{MESSENGER_PREFIX}seen:{channel}:{message_digest}"


def messenger_notice_given(conversation_id: str, notice: str) -> str:
    """Set once a once-per-conversation notice (``notice``) was sent."""
    return f"{MESSENGER_PREFIX}notice:{conversation_id}:{notice}"
