"""Creating and upgrading the database with Alembic (used by `flask init-db` and the tests)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

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


# PostgreSQL's own statistics of a table, and how many rows changed since its last ANALYZE.
_GROWN: Final = text(
    "SELECT c.relname, c.reltuples, s.n_mod_since_analyze FROM pg_class c "
    "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname IN :tables"
).bindparams(bindparam("tables", expanding=True))


def analyse_grown(session: Session | scoped_session[Any], tables: Sequence[str]) -> list[str]:
    """PostgreSQL: `ANALYZE` those of `tables` that changed by more rows than their statistics
    say they hold (a few thousand rows added to a nearly empty table); the caller commits.
    Returns the tables analysed. Other databases: nothing.

    Why: the plans PostgreSQL keeps for a connection's foreign key checks were made when the
    table was small, so they scan it. A school's first roll into a new portal added 3,000
    children, and each of the 20-odd rows written per child scanned every child so far
    (26 million rows read, a 3,000-pupil import 4 times as long as 1,000). Autovacuum would
    catch up, but only after its next round (a minute); a large table never qualifies here."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    grown = [name for name, estimated, changed in session.execute(_GROWN, {"tables": list(tables)})
             if changed is not None and changed >= 100 and changed > max(estimated, 0)]
    for name in grown:
        session.execute(text(f'ANALYZE "{name}"'))  # a name from `tables`, never user input
    return grown


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
