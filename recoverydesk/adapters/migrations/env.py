"""Alembic's entry point: runs the migrations on the connection the migrator hands over."""

from __future__ import annotations

from alembic import context

from recoverydesk.adapters.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
