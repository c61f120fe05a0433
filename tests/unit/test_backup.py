"""Backups and restores through the CLI: `flask backup` while the portal writes, `flask restore`
into a fresh instance with the same master key, and everything back byte for byte once
decrypted. Runs on SQLite and, when configured, PostgreSQL (and SQLite into PostgreSQL)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from portal import audit, backup, create_app, keyops
from portal.backup import rows as backup_rows
from portal.crypto import LocalMasterKey, new_master_key_b64
from portal.models import Base, Concern, ConcernChild, School, User, db
from tests import factories
from tests.conftest import MASTER_KEY, POSTGRES_URL, make_test_config
from tests.helpers.canaries import ATTACHMENT, _create_canary_records, assert_no_canary


def _invoke(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Make URLs of empty databases (no schema at all), on the test's backend by default."""
    counter = iter(range(100))

    def make(kind: str | None = None) -> str:
        kind = kind or backend
        n = next(counter)
        if kind == "sqlite":
            folder = tmp_path / f"fresh{n}"
            folder.mkdir()
            return f"sqlite:///{folder / 'portal.db'}"
        name = f"portal_r_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()

        def drop() -> None:
            engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()

        request.addfinalizer(drop)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    return make


def _fresh_app(tmp_path: Path, url: str, master: str = MASTER_KEY) -> Flask:
    return create_app(make_test_config(tmp_path / f"instance-{uuid.uuid4().hex[:6]}", url,
                                       master_key_b64=master))


def _everything() -> dict[str, Any]:
    """Every row as stored, every encrypted value decrypted, every attachment decrypted."""
    db.session.expire_all()
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            query = select(*table.columns).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(r) for r in conn.execute(query)]
    decrypted: dict[tuple[str, str, str], Any] = {}
    for group in keyops.encrypted_field_groups():
        for row in db.session.scalars(select(group.model)):
            for f in group.fields:
                if getattr(row, f.column) is not None:
                    decrypted[group.table, str(row.id), f.name] = getattr(row, f.name)
    store = current_app.extensions["attachments"]
    from portal.models import Attachment

    files = {a.store_name: b"".join(store.open(str(a.school_id), a.store_name))
             for a in db.session.scalars(select(Attachment))}
    return {"rows": rows, "decrypted": decrypted, "files": files}


def _populated(app: Flask) -> dict[str, Any]:
    demo = _invoke(app, "demo")
    assert demo.exit_code == 0, demo.output
    _create_canary_records()  # children, a concern, an incident, a decision, an attachment
    return _everything()


def _backup(app: Flask, path: Path) -> None:
    result = _invoke(app, "backup", str(path))
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output


def _restore_into(app: Flask, source: Path, *args: str) -> Any:
    with app.app_context():
        result = _invoke(app, "restore", str(source), *args)
        db.session.remove()
        return result


def _check_restored(app: Flask, expected: dict[str, Any]) -> None:
    with app.app_context():
        got = _everything()
        assert got["rows"] == expected["rows"]  # ciphertext and plain columns, byte for byte
        assert got["decrypted"] == expected["decrypted"]
        assert got["files"] == expected["files"]
        assert ATTACHMENT in got["files"].values()
        verified = _invoke(app, "verify-audit")
        assert verified.exit_code == 0, verified.output
        db.session.remove()
        db.engine.dispose()


# --------------------------------------------------------------------------------------------


def test_backup_and_restore_give_back_every_record(
    app: Flask, tmp_path: Path, fresh_url: Callable[..., str]
) -> None:
    expected = _populated(app)
    assert len(expected["decrypted"]) > 50 and expected["files"]
    out = tmp_path / "out" / "portal.portalbackup"
    out.parent.mkdir()
    _backup(app, out)
    assert [p.name for p in out.parent.iterdir()] == ["portal.portalbackup"]  # no temp left
    assert out.stat().st_mode & 0o077 == 0

    # Without the key the file says nothing: no canary, no table name, no plain column.
    data = out.read_bytes()
    assert_no_canary("the backup file", data)
    for name in [t.name for t in Base.metadata.sorted_tables] + [
        "Oakfield", "demo.example.org", "alembic", "manifest", "schema_revision", "rows",
    ]:
        assert name.encode() not in data, name

    fresh = _fresh_app(tmp_path, fresh_url())
    result = _restore_into(fresh, out)
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "audit trail intact" in result.output
    _check_restored(fresh, expected)

    # A database that holds rows is refused, unless --force (which replaces everything).
    refused = _restore_into(fresh, out)
    assert refused.exit_code == 1 and "already holds" in refused.output
    forced = _restore_into(fresh, out, "--force")
    assert forced.exit_code == 0, forced.output
    _check_restored(fresh, expected)


def test_backup_while_concerns_are_being_inserted_is_consistent(
    app: Flask, tmp_path: Path, fresh_url: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = _invoke(app, "demo")
    assert demo.exit_code == 0, demo.output
    school = db.session.scalar(select(School).where(School.urn == "990001"))
    staff = db.session.scalar(select(User).where(User.email == "staff.oakfield@demo.example.org"))
    assert school is not None and staff is not None
    child = factories.child(school, given="Writer", family="Thread")
    db.session.commit()
    school_id, staff_id, child_id = school.id, staff.id, child.id
    before = {m: db.session.scalar(select(func.count()).select_from(m))
              for m in (Concern, ConcernChild)}

    stop = threading.Event()
    inserted: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        with app.app_context():
            try:
                while not stop.is_set():
                    c = Concern(school_id=school_id, raised_by_id=staff_id)
                    c.what_happened = f"written during the backup {len(inserted)}"
                    db.session.add(c)
                    db.session.flush()
                    db.session.add(ConcernChild(concern_id=c.id, child_id=child_id))
                    audit.record("concern.submitted", org_id=str(school_id),
                                 object_type="concern", object_id=str(c.id))
                    db.session.commit()
                    inserted.append(1)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
            finally:
                db.session.remove()

    real_dump = backup_rows.dump_table

    def slow_dump(conn: Any, table: Any, emit: Any) -> int:
        n = real_dump(conn, table, emit)
        time.sleep(0.03)  # let the writer commit between the tables we read
        return n

    monkeypatch.setattr(backup_rows, "dump_table", slow_dump)
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(inserted) < 3 and thread.is_alive():
            time.sleep(0.01)
        out = tmp_path / "live.portalbackup"
        _backup(app, out)
        during = len(inserted)
    finally:
        stop.set()
        thread.join(10)
    assert not errors, errors
    manifest = backup.read_manifest(out, LocalMasterKey.from_b64(MASTER_KEY))
    tables = manifest["tables"]
    # One snapshot: every concern in the backup has its link row, and nothing half-seen.
    new_concerns = tables["concerns"]["rows"] - before[Concern]
    assert new_concerns == tables["concern_children"]["rows"] - before[ConcernChild]
    assert new_concerns >= 3
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Concern)) > \
        tables["concerns"]["rows"], f"the writer did not run during the backup ({during})"

    fresh = _fresh_app(tmp_path, fresh_url())
    result = _restore_into(fresh, out)
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        for name, info in tables.items():
            count = db.session.scalar(
                select(func.count()).select_from(Base.metadata.tables[name]))
            assert count == info["rows"], name
        assert _invoke(fresh, "verify-audit").exit_code == 0
        db.session.remove()
        db.engine.dispose()


def _small_backup(app: Flask, tmp_path: Path) -> Path:
    s = factories.school(urn="123456")
    factories.user("dsl", org=s, email="dsl@oakfield.example.org")
    factories.child(s, given="Quillonia", family="Zembrowicz")
    db.session.commit()
    out = tmp_path / "small.portalbackup"
    _backup(app, out)
    return out


def _assert_untouched(fresh: Flask) -> None:
    with fresh.app_context():
        from portal import db as database

        assert database.current_revision(db.engine) is None  # not even a schema
        db.engine.dispose()


def test_restore_with_another_master_key_says_so(
    app: Flask, tmp_path: Path, fresh_url: Callable[..., str]
) -> None:
    out = _small_backup(app, tmp_path)
    fresh = _fresh_app(tmp_path, fresh_url(), master=new_master_key_b64())
    result = _restore_into(fresh, out)
    assert result.exit_code == 1
    assert "this backup was made under a different master key" in result.output
    assert "Traceback" not in result.output
    _assert_untouched(fresh)


@pytest.mark.parametrize("where", ["body", "wrapped key", "last byte", "truncated", "appended"])
def test_a_damaged_backup_is_refused_cleanly(
    app: Flask, tmp_path: Path, fresh_url: Callable[..., str], where: str
) -> None:
    out = _small_backup(app, tmp_path)
    data = bytearray(out.read_bytes())
    header_end = 8 + 2 + data[9] + 4 + 16 + 7 + 2
    if where == "body":
        data[len(data) // 2] ^= 0x01
    elif where == "wrapped key":
        data[header_end + 5] ^= 0x80
    elif where == "last byte":
        data[-1] ^= 0x01
    elif where == "truncated":
        del data[-100:]
    else:
        data += b"\x00" * 50
    out.write_bytes(bytes(data))
    fresh = _fresh_app(tmp_path, fresh_url())
    result = _restore_into(fresh, out)
    assert result.exit_code == 1, result.output
    assert "damaged" in result.output and "Nothing restored" in result.output
    assert "Traceback" not in result.output
    _assert_untouched(fresh)


def test_backup_refuses_a_missing_directory(app: Flask, tmp_path: Path) -> None:
    result = _invoke(app, "backup", str(tmp_path / "no" / "such" / "x.portalbackup"))
    assert result.exit_code == 1 and "does not exist" in result.output


def test_sqlite_backup_restores_into_postgresql(
    app: Flask, backend: str, tmp_path: Path, fresh_url: Callable[..., str]
) -> None:
    if backend != "sqlite" or not POSTGRES_URL:
        pytest.skip("needs a SQLite source and PORTAL_TEST_POSTGRES_URL")
    expected = _populated(app)
    out = tmp_path / "cross.portalbackup"
    _backup(app, out)
    fresh = _fresh_app(tmp_path, fresh_url("postgres"))
    result = _restore_into(fresh, out)
    assert result.exit_code == 0, result.output
    _check_restored(fresh, expected)
