"""Helpdesk agents move to SQL (AGT-1): the application may add agents and advance their last TOTP
step, never delete one.

Revision ID: 0002_agents
Revises: 0001_audit
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_agents"
down_revision = "0001_audit"
branch_labels = None
depends_on = None

APP_ROLE = "recoverydesk_app"  # created by 0001_audit


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("totp_seed", sa.Text, nullable=False),
        sa.Column("last_totp_step", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_agents"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE ALL ON agents FROM PUBLIC, {APP_ROLE}")
        op.execute(f"GRANT SELECT, INSERT ON agents TO {APP_ROLE}")
        op.execute(f"GRANT UPDATE (last_totp_step) ON agents TO {APP_ROLE}")  # not the role or the password


def downgrade() -> None:
    op.drop_table("agents")
