"""Every Alembic migration, on SQLite and PostgreSQL: from empty to head, data kept across each
revision, and the head schema matching the models exactly.

The per-revision test is generic: for each revision in order it migrates an empty database to
the revision before, fills every table that exists there with one representative row (built
from the reflected columns, foreign keys pointing at the parent rows), upgrades, and checks every
row and value is still there. A migration that needs a more specific check adds it below.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from portal import db as database
from portal.models import Base
from tests.conftest import BACKENDS, POSTGRES_URL


def _revisions() -> list[Any]:
    """Revisions from the first to head."""
    script = ScriptDirectory.from_config(database.alembic_config())
    return list(reversed(list(script.walk_revisions("base", "heads"))))


REVISIONS = _revisions()


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (no tables) on each backend."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
        yield engine
        engine.dispose()
        return
    name = f"portal_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(POSTGRES_URL).set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _value_for(column: sa.Column[Any], n: int) -> Any:
    """A representative, valid value for a reflected column."""
    kind = column.type
    if isinstance(kind, sa.Uuid):
        return uuid.UUID(int=n * 7919 + 1, version=4)
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return n + 3
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    if isinstance(kind, sa.Date):
        return dt.date(2026, 1, 2)
    if isinstance(kind, sa.LargeBinary):
        length = getattr(kind, "length", None) or 40
        return bytes((n + i) % 256 for i in range(length))
    if isinstance(kind, sa.JSON):
        return {"code": f"c{n}", "list": [1, 2]}
    if isinstance(kind, sa.String):
        length = getattr(kind, "length", None) or 40
        # On SQLite a UUID column reflects as CHAR(32): 32 hex digits suit both.
        return (uuid.UUID(int=n * 7919 + 1).hex * 3)[:length]
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} ({kind!r})")


def _fill(engine: Engine) -> dict[str, dict[str, Any]]:
    """One row in every table (parents first); returns the rows inserted, by table."""
    meta = sa.MetaData()
    meta.reflect(engine)
    rows: dict[str, dict[str, Any]] = {}
    with engine.begin() as conn:
        for n, table in enumerate(meta.sorted_tables):
            if table.name == "alembic_version":
                continue
            row = {c.name: _value_for(c, n) for c in table.columns}
            for fk in table.foreign_keys:
                parent = rows[fk.column.table.name]
                row[fk.parent.name] = parent[fk.column.name]
            conn.execute(table.insert().values(row))
            rows[table.name] = row
    return rows


def _normalise(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=value.tzinfo or dt.UTC).astimezone(dt.UTC)
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return uuid.UUID(value) if len(value) in (32, 36) else value
        except ValueError:
            return value
    return value


def _check_kept(engine: Engine, rows: dict[str, dict[str, Any]]) -> None:
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for name, row in rows.items():
            assert name in meta.tables, f"table {name} disappeared"
            table = meta.tables[name]
            found = conn.execute(table.select()).mappings().all()
            assert len(found) == 1, f"{name}: expected the one row, found {len(found)}"
            for column, value in row.items():
                if column in table.c:
                    assert _normalise(found[0][column]) == _normalise(value), f"{name}.{column}"


# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """SQLite files at each revision reached so far in this test process, each made by
    upgrading a copy of the one before by one revision: the chain of migrations runs once per
    process, not once per revision's test (each test still runs its own revision's migration
    on its own rows)."""
    return {"_folder": tmp_path_factory.mktemp("revisions")}


def _at_revision(engine: Engine, revision: str, files: dict[str, Path]) -> None:
    """Bring the empty database behind `engine` to `revision` by the migrations."""
    if engine.dialect.name != "sqlite":
        database.upgrade(engine, revision)
        return
    engine.dispose()
    assert engine.url.database is not None
    shutil.copy(_sqlite_file(revision, files), engine.url.database)


def _sqlite_file(revision: str, files: dict[str, Path]) -> Path:
    """The process's SQLite file at `revision`: the one before, copied and upgraded."""
    made = files.get(revision)
    if made is None:
        index = next(i for i, r in enumerate(REVISIONS) if r.revision == revision)
        made = files["_folder"] / f"{revision}.db"
        if index > 0:
            shutil.copy(_sqlite_file(REVISIONS[index - 1].revision, files), made)
        step = create_engine(f"sqlite:///{made}")
        database.upgrade(step, revision)
        step.dispose()
        files[revision] = made
    return made


def test_revisions_form_one_line() -> None:
    script = ScriptDirectory.from_config(database.alembic_config())
    assert len(script.get_heads()) == 1, "migrations have branched: merge them"
    assert REVISIONS and REVISIONS[0].down_revision is None
    for before, after in itertools.pairwise(REVISIONS):
        assert after.down_revision == before.revision


def test_upgrade_from_empty_to_head(empty_engine: Engine) -> None:
    database.upgrade(empty_engine)
    assert database.current_revision(empty_engine) == database.head_revision()
    tables = set(sa.inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    # Upgrading again is a no-op.
    database.upgrade(empty_engine)
    assert database.current_revision(empty_engine) == database.head_revision()


@pytest.mark.parametrize("revision", REVISIONS, ids=[r.revision for r in REVISIONS])
def test_each_revision_keeps_existing_data(empty_engine: Engine, revision: Any,
                                          sqlite_revisions: dict[str, Path]) -> None:
    previous = revision.down_revision
    if previous is not None:
        _at_revision(empty_engine, previous, sqlite_revisions)
    rows = _fill(empty_engine) if previous is not None else {}
    database.upgrade(empty_engine, revision.revision)
    assert database.current_revision(empty_engine) == revision.revision
    _check_kept(empty_engine, rows)
    # And the new schema takes a representative row in every table too.
    if previous is None:
        rows = _fill(empty_engine)
        _check_kept(empty_engine, rows)


def test_a_database_one_revision_behind_upgrades_to_head_with_its_rows(
    empty_engine: Engine, sqlite_revisions: dict[str, Path],
) -> None:
    """What a deployment does on release (`flask init-db`: upgrade to head, no target named):
    a database at the revision before head, holding a row in every table, ends at head with
    every row and value kept. (Replaces upgrading a database already at head, which could not
    fail.)"""
    if len(REVISIONS) < 2:
        pytest.skip("only one revision")
    _at_revision(empty_engine, REVISIONS[-2].revision, sqlite_revisions)
    rows = _fill(empty_engine)
    assert database.current_revision(empty_engine) != database.head_revision()
    database.upgrade(empty_engine)
    assert database.current_revision(empty_engine) == database.head_revision()
    _check_kept(empty_engine, rows)


def test_head_matches_the_models(empty_engine: Engine) -> None:
    database.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "target_metadata": Base.metadata}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; autogenerate a migration: {diff}"


def test_0010_keeps_concern_drafts_as_drafts_of_the_concern_form(
    empty_engine: Engine, sqlite_revisions: dict[str, Path],
) -> None:
    """Drafts saved before 0010 are the staff concern form's: they keep their row, id and
    ciphertext (the table name bound into it is unchanged) and take the form key "concerns.new"."""
    _at_revision(empty_engine, "0009", sqlite_revisions)
    rows = _fill(empty_engine)
    database.upgrade(empty_engine, "0010")
    _check_kept(empty_engine, rows)
    with empty_engine.connect() as conn:
        found = conn.execute(text(
            "SELECT form_key, local_authority_id FROM concern_drafts")).all()
    assert found == [("concerns.new", None)]


# (state, outcome, strategy meeting, responses, settled by the rule)
_0029_REFERRALS = [
    ("sent", None, False, (), False),
    ("acknowledged", None, False, (), False),
    ("answered", "no_further_action", False, ("no_further_action",), True),
    ("answered", "csc_assessment", False, ("csc_assessment",), False),
    ("answered", "early_help", False, ("early_help", "csc_assessment"), False),
    ("answered", "strategy_meeting", True, ("strategy_meeting",), False),
    ("answered", "early_help", True, ("strategy_meeting", "minutes_sent", "icpc_not_needed",
                                      "early_help"), True),
    ("answered", "early_help", True, ("strategy_meeting", "minutes_sent", "early_help"), False),
]


def test_0029_marks_the_referrals_already_there_by_the_settled_rule(
    empty_engine: Engine, sqlite_revisions: dict[str, Path],
) -> None:
    """Referrals written before 0029 take the mark the one rule (`settled_rule`) gives them,
    the same answer the portal keeps for new writes."""
    from portal.models import Referral
    from portal.models.referrals import settled_rule

    _at_revision(empty_engine, "0028", sqlite_revisions)
    rows = _fill(empty_engine)
    meta = sa.MetaData()
    meta.reflect(empty_engine, only=["referrals", "referral_responses"])
    referrals, responses = meta.tables["referrals"], meta.tables["referral_responses"]
    expected = {}
    with empty_engine.begin() as conn:
        for n, (state, outcome, meeting, kinds, settled) in enumerate(_0029_REFERRALS):
            referral_id = _value_for(referrals.c.id, 1_000 + n)
            conn.execute(referrals.insert().values({
                **rows["referrals"], "id": referral_id, "state": state, "outcome": outcome,
                "strategy_meeting_at": rows["referrals"]["strategy_meeting_at"]
                if meeting else None}))
            for k, kind in enumerate(kinds):
                conn.execute(responses.insert().values({
                    **rows["referral_responses"],
                    "id": _value_for(responses.c.id, 2_000 + 10 * n + k),
                    "referral_id": referral_id, "outcome": kind,
                    "local_authority_id": rows["referrals"]["local_authority_id"]}))
            expected[_normalise(referral_id)] = settled
    database.upgrade(empty_engine, "0029")
    with empty_engine.connect() as conn:
        marks = dict(conn.execute(sa.select(Referral.id.expression, text("settled"))
                                  .select_from(Referral.__table__)).all())
    assert {k: bool(marks[k]) for k in expected} == expected
    # Today's rule, at head, says the same of them (their children were never counted).
    database.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        rule = dict(conn.execute(sa.select(Referral.id, settled_rule())).all())
        marks = dict(conn.execute(sa.select(Referral.id, Referral.settled)).all())
    assert {k: bool(v) for k, v in rule.items()} == marks  # the filled row's too


# (each answer's child, oldest first, None for every child; children answered after 0030)
_0030_REFERRALS = [
    ((), None),
    ((None,), None),
    (("C0001",), 1),
    ((None, "C0002"), 1),
    (("C0001", "C0002", "C0001"), 2),
    (("C0001", None), None),
]


def test_0030_counts_the_children_answered_of_the_referrals_already_there(
    empty_engine: Engine, sqlite_revisions: dict[str, Path],
) -> None:
    """Referrals answered before 0030 for one child only take the count of children with an
    answer (`rules.referral_answers.children_answered`; how many children a packet names is not
    known without the authority's key: NULL), so their status no longer reads as the latest
    answer for the whole referral (walk 10)."""
    from portal.models import Referral

    _at_revision(empty_engine, "0029", sqlite_revisions)
    rows = _fill(empty_engine)
    meta = sa.MetaData()
    meta.reflect(empty_engine, only=["referrals", "referral_responses"])
    referrals, responses = meta.tables["referrals"], meta.tables["referral_responses"]
    expected = {}
    at = dt.datetime(2026, 11, 2, 9, 0)
    with empty_engine.begin() as conn:
        for n, (refs, answered) in enumerate(_0030_REFERRALS):
            referral_id = _value_for(referrals.c.id, 1_000 + n)
            conn.execute(referrals.insert().values({
                **rows["referrals"], "id": referral_id, "state": "answered",
                "outcome": "early_help"}))
            for k, ref in enumerate([*refs, "milestone"]):
                conn.execute(responses.insert().values({
                    **rows["referral_responses"],
                    "id": _value_for(responses.c.id, 2_000 + 10 * n + k),
                    "referral_id": referral_id,
                    "outcome": "minutes_sent" if ref == "milestone" else "early_help",
                    "child_ref": None if ref == "milestone" else ref,
                    "recorded_at": at + dt.timedelta(minutes=k),
                    "local_authority_id": rows["referrals"]["local_authority_id"]}))
            expected[_normalise(referral_id)] = answered
    database.upgrade(empty_engine, "0030")
    with empty_engine.connect() as conn:
        found = dict(conn.execute(sa.select(Referral.id, Referral.children_answered)).all())
        children = set(conn.execute(sa.select(Referral.children)).scalars())
    assert {k: found[k] for k in expected} == expected
    assert children == {None}


def test_0031_clears_the_settled_mark_of_referrals_with_a_child_unanswered(
    empty_engine: Engine, sqlite_revisions: dict[str, Path],
) -> None:
    """Marked settled before 0031, a referral answered for 1 of its 2 children is live again
    (the other child's decision is still due); every other mark is left as it was."""
    from portal.models import Referral

    _at_revision(empty_engine, "0030", sqlite_revisions)
    rows = _fill(empty_engine)
    meta = sa.MetaData()
    meta.reflect(empty_engine, only=["referrals"])
    referrals = meta.tables["referrals"]
    # (children, children answered, settled before) -> settled after
    cases = [((2, 1, True), False), ((2, 2, True), True), ((3, 1, False), False),
             ((None, 1, True), True), ((2, None, True), True), ((2, 1, False), False)]
    expected = {}
    with empty_engine.begin() as conn:
        for n, ((children, answered, settled), after) in enumerate(cases):
            referral_id = _value_for(referrals.c.id, 3_000 + n)
            conn.execute(referrals.insert().values({
                **rows["referrals"], "id": referral_id, "state": "answered",
                "outcome": "early_help", "children": children,
                "children_answered": answered, "settled": settled}))
            expected[_normalise(referral_id)] = after
    database.upgrade(empty_engine, "0031")
    with empty_engine.connect() as conn:
        found = dict(conn.execute(sa.select(Referral.id, Referral.settled)).all())
    assert {k: bool(found[k]) for k in expected} == expected
