"""Alembic migrations of the system of record (recoverydesk/adapters/schema.py): may import
alembic, sqlalchemy and recoverydesk.adapters.schema, nothing else. Run by recoverydesk/adapters/migrator.py."""
