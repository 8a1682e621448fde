"""Alembic migrations for prescale's store (SQLite and PostgreSQL, one history for both)."""
