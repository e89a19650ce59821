"""One file per schema revision, in order: each may import alembic and sqlalchemy only, so that an
old revision never changes when the schema module does."""
