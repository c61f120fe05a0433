"""The query planner knows the data (issue 15): SQLite's statistics are made after migrations
and on opening a portal database that has none; PostgreSQL is analysed after migrations."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from portal import db as database
from portal.extensions import planner_statistics
from tests.conftest import POSTGRES_URL


def _migrated(tmp_path: Path) -> Path:
    """A portal SQLite file migrated to head (and analysed, as `flask init-db` does)."""
    path = tmp_path / "portal.db"
    engine = create_engine(f"sqlite:///{path}")
    database.upgrade(engine)
    engine.dispose()
    return path


def _opened_by_the_portal(path: Path) -> dict[tuple[str, str | None], str]:
    """Open `path` as the portal does (the engine's connect event runs planner_statistics);
    the statistics then, by table and index."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    engine.dispose()
    return {(tbl, idx): stat for tbl, idx, stat in _stats(path)}


def _stats(path: Path) -> list[tuple[str, str | None, str]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute("SELECT tbl, idx, stat FROM sqlite_stat1"))


def test_migrating_analyses_sqlite(tmp_path: Path) -> None:
    path = _migrated(tmp_path)
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "sqlite_stat1" in tables  # ANALYZE ran (empty tables have no rows in it yet)


def test_a_portal_database_without_statistics_is_analysed_on_opening(tmp_path: Path) -> None:
    path = _migrated(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, school INTEGER, child INTEGER)")
        conn.execute("CREATE INDEX big_school ON big (school)")
        conn.executemany("INSERT INTO big (school, child) VALUES (?, ?)",
                         [(n % 3, n) for n in range(3000)])
        conn.execute("DROP TABLE sqlite_stat1")
    found = _opened_by_the_portal(path)
    # Estimated within the analysis limit: about 3,000 rows, about 1,000 per school.
    rows, per_school = map(int, found[("big", "big_school")].split())
    assert rows > 1000 and per_school > 300


def test_tables_that_grew_from_empty_after_migrating_are_analysed_on_opening(
    tmp_path: Path,
) -> None:
    """Every table is empty when `flask init-db` analyses it; SQLite before 3.46 never
    analyses it again by itself, so a school's first term of records had no statistics."""
    path = _migrated(tmp_path)
    assert not [row for row in _stats(path) if row[0] == "audit_events"]
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE grown (id INTEGER PRIMARY KEY, school INTEGER)")
        conn.execute("CREATE INDEX grown_school ON grown (school)")
        conn.execute("INSERT INTO grown (school) VALUES (1)")
        conn.execute("ANALYZE grown")  # analysed at one row
        conn.executemany("INSERT INTO grown (school) VALUES (?)", [(n % 4,) for n in range(2000)])
        conn.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, x INTEGER)")
        conn.execute("CREATE INDEX small_x ON small (x)")
        conn.executemany("INSERT INTO small (x) VALUES (?)", [(n,) for n in range(20)])
    found = _opened_by_the_portal(path)
    rows, per_school = map(int, found[("grown", "grown_school")].split())
    assert rows > 1000 and per_school > 200
    assert ("small", "small_x") not in found  # 20 rows: not worth analysing on every opening


def test_a_database_that_is_not_the_portals_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
        planner_statistics(conn.cursor())
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"t"}


def test_migrating_analyses_postgres() -> None:
    if not POSTGRES_URL:
        pytest.skip("PORTAL_TEST_POSTGRES_URL not set")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"portal_planner_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(POSTGRES_URL).set(database=name))
    try:
        database.upgrade(engine)
        with engine.connect() as connection:
            # -1: never analysed (PostgreSQL 14+); ANALYZE of an empty table makes it 0.
            tuples = connection.scalar(text(
                "SELECT reltuples FROM pg_class WHERE relname = 'incidents'"))
        assert tuples is not None and tuples >= 0
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
