"""Every table of the system of record, in one place; ``recoverydesk/migrations`` creates them.

A change here needs a migration (``alembic revision`` under ``recoverydesk/migrations``); a test
checks that the migrated database matches these tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

APP_ROLE = "recoverydesk_app"
"""PostgreSQL role of the running application: on the audit tables it may only INSERT and SELECT (AUD-2)."""

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per audited action (AGT-4, AUD-1..3). Rows are never updated; ``seq`` numbers the rows of
# one subject (a ticket or the desk) and ``link`` chains them (recoverydesk.domain.audit_chain).
audit = Table(
    "audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("subject", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("at", String(32), nullable=False),  # ISO 8601 UTC, as hashed (sorts as text)
    Column("action", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("ticket_id", String(32)),
    Column("detail", Text, nullable=False),  # JSON object of strings
    Column("before", Text),  # JSON object, or NULL when the change has no before/after
    Column("after", Text),
    Column("prev", String(64), nullable=False),
    Column("link", String(64), nullable=False),
    UniqueConstraint("subject", "seq"),
    Index(None, "at"),
)

# Where a chain starts after a retention purge: the last purged row's seq and link, per subject.
audit_anchor = Table(
    "audit_anchor",
    metadata,
    Column("subject", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("link", String(64), nullable=False),
    Column("purged_at", String(32), nullable=False),
)

# Helpdesk agents (AGT-1): who may sign in, as what. Sessions, failure counts and lockouts are short-lived
# and stay in Redis; the record survives a Redis loss. ``totp_seed`` is sealed with the root secret.
agents = Table(
    "agents",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("totp_seed", Text, nullable=False),
    Column("last_totp_step", BigInteger, nullable=False),  # replay safety: only a newer step is taken
    Column("created_at", String(32), nullable=False),
)
