"""Alembic environment: runs on the connection `portal.db.upgrade()` hands it."""

from __future__ import annotations

from alembic import context

from portal.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through portal.db
    raise RuntimeError("run migrations with `flask init-db` (portal.db.upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite needs batch mode to alter tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
