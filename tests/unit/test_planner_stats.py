"""Planner statistics kept current while a roll grows nearly empty tables (portal.db
`analyse_grown`): on PostgreSQL, a table that changed by more rows than its statistics say it
holds is analysed, and then not again until it grows as much once more; on SQLite nothing."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from flask import Flask
from sqlalchemy import insert, text

from portal.db import analyse_grown
from portal.models import OrgKey, db


def _add_keys(count: int) -> None:
    now = dt.datetime.now(dt.UTC)
    db.session.execute(insert(OrgKey), [
        {"id": uuid.uuid4(), "org_id": f"child:{uuid.uuid4().hex}", "key_id": "k1",
         "purpose": "data", "wrapped": b"x" * 60, "master_key_id": "m", "state": "active",
         "created_at": now} for _ in range(count)])
    db.session.commit()


def _analysed_within(seconds: float) -> list[str]:
    """analyse_grown once the inserts' counts have reached PostgreSQL's statistics (they are
    sent at a transaction's end, at most once a second)."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.execute(text("SELECT pg_stat_force_next_flush()"))
        db.session.commit()
        db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
        done = analyse_grown(db.session, ["org_keys", "children"])
        db.session.commit()
        if done or time.monotonic() > deadline:
            return done
        time.sleep(0.2)


def test_a_table_grown_past_its_statistics_is_analysed_once(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        _add_keys(500)
        assert analyse_grown(db.session, ["org_keys"]) == []  # SQLite plans by its indexes
        return
    db.session.execute(text("ANALYZE org_keys"))
    db.session.commit()
    _add_keys(500)
    assert _analysed_within(15) == ["org_keys"]  # children: unchanged, not analysed
    estimated = db.session.scalar(text(
        "SELECT reltuples FROM pg_class WHERE relname = 'org_keys'"))
    assert estimated is not None and estimated >= 500
    # Analysed now: the same table is left alone until it grows past its new statistics.
    assert analyse_grown(db.session, ["org_keys"]) == []
