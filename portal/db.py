"""Creating and upgrading the database with Alembic (used by `flask init-db` and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to `revision`, in one transaction where the database allows."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    analyse(engine)


def analyse(engine: Engine) -> None:
    """Fresh planner statistics for every table (after migrations: new indexes, new tables).

    SQLite: `ANALYZE` within the connection's `analysis_limit` (portal/extensions.py), then
    `PRAGMA optimize`. PostgreSQL: `ANALYZE` (autovacuum keeps it fresh afterwards, see
    docs/deploy.md)."""
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
        if connection.dialect.name == "sqlite":
            connection.execute(text("PRAGMA optimize"))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
