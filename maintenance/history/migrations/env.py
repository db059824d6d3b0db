"""Alembic environment: always driven by maintenance.history.migrate with a connection."""

from __future__ import annotations

from alembic import context

from maintenance.history.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running alembic by hand
    raise SystemExit("run migrations with `maint db upgrade`, not the alembic command")

context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
