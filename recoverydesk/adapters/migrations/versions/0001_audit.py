"""The audit trail (AUD-1..3): hash-chained rows per subject, anchors for purged chains, and on
PostgreSQL the application role that may only INSERT and SELECT them.

Revision ID: 0001_audit
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_audit"
down_revision = None
branch_labels = None
depends_on = None

APP_ROLE = "recoverydesk_app"  # as recoverydesk.adapters.schema.APP_ROLE, frozen with this revision


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("ticket_id", sa.String(32)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("prev", sa.String(64), nullable=False),
        sa.Column("link", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
        sa.UniqueConstraint("subject", "seq", name="uq_audit_subject_seq"),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_table(
        "audit_anchor",
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("link", sa.String(64), nullable=False),
        sa.Column("purged_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("subject", name="pk_audit_anchor"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # AUD-2: the running application cannot change history; only the owner (migrations, purge) can.
        # Concurrent first migrations of two databases in one cluster may race to create the role.
        op.execute(
            f"""
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
              END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """
        )
        op.execute(f"REVOKE ALL ON audit, audit_anchor FROM PUBLIC, {APP_ROLE}")
        op.execute(f"GRANT SELECT, INSERT ON audit TO {APP_ROLE}")
        op.execute(f"GRANT SELECT ON audit_anchor, alembic_version TO {APP_ROLE}")
        op.execute(f"GRANT USAGE ON SEQUENCE audit_id_seq TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("audit_anchor")
    op.drop_index("ix_audit_at", "audit")
    op.drop_table("audit")
