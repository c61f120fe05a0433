"""Canaries: distinctive invented values written through the models must never appear at rest
or in logs: not in the SQLite file or its WAL (before and after a checkpoint), not in a
`pg_dump` of the PostgreSQL database, not in the attachment store, not in any log record."""

from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

from portal import keyops
from portal.models import (
    db,
)
from tests.helpers.canaries import (  # noqa: F401 - older imports from here
    ATTACHMENT,
    CANARIES,
    _create_canary_records,
    _forms,
    assert_no_canary,
)

# Not a file type the upload check would refuse, though the store does not check.








def _pg_dump() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump")) or (
        [shutil.which("pg_dump")] if shutil.which("pg_dump") else []
    )
    if not found:
        pytest.fail("pg_dump not found (install postgresql-client)")
    return str(found[-1])


@pytest.fixture
def logs(app: Flask, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy pins its own loggers at WARNING; at DEBUG every statement and its bound
    # parameters are logged, so a plaintext value reaching the database would show up here.
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    app.logger.setLevel(logging.DEBUG)
    return caplog


def test_no_canary_at_rest_or_in_logs(app: Flask, backend: str, logs, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    demo = runner.invoke(args=["demo"])
    assert demo.exit_code == 0, demo.output
    _create_canary_records()
    # Key operations read and rewrite every value and attachment: they must not leak either.
    rotated = runner.invoke(args=["rotate-keys", "--org", "990001", "--settle-seconds", "0"])
    assert rotated.exit_code == 0, rotated.output
    refused = runner.invoke(args=["shred-org", "990001"])
    assert refused.exit_code == 1
    for output in (demo.output, rotated.output, refused.output):
        assert_no_canary("command output", output.encode())
    current_app.logger.debug("canary test finished writing")

    # Logs: every captured record, its formatted message and its raw arguments.
    names = {r.name for r in logs.records}
    assert any(n.startswith("sqlalchemy.engine") for n in names), "SQL was not logged"
    assert_no_canary("captured logs", logs.text.encode("utf-8", "replace"))
    for record in logs.records:
        assert_no_canary(f"log record {record.name}", repr(record.args).encode())
        assert_no_canary(f"log record {record.name}", record.getMessage().encode())

    # The attachment store holds only ciphertext.
    att_dir = Path(current_app.config["PORTAL_SETTINGS"].resolved_attachment_dir)
    files = [p for p in att_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert_no_canary(f"attachment file {path.name}", path.read_bytes())

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if backend == "sqlite":
        db_path = Path(url.database or "")
        wal = Path(f"{db_path}-wal")
        assert_no_canary("portal.db", db_path.read_bytes())
        if wal.exists():
            assert_no_canary("portal.db-wal", wal.read_bytes())
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        assert_no_canary("portal.db after checkpoint", db_path.read_bytes())
        if wal.exists():
            assert_no_canary("portal.db-wal after checkpoint", wal.read_bytes())
        for extra in db_path.parent.glob(db_path.name + "-*"):
            assert_no_canary(extra.name, extra.read_bytes())
    else:
        libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run(
            [_pg_dump(), "--no-owner", "--no-privileges", "--dbname", libpq],
            check=True, capture_output=True, env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        ).stdout
        assert b"COPY public.children" in dump, "dump does not hold the data"
        assert_no_canary("pg_dump", dump)


def test_canary_check_would_catch_a_leak() -> None:
    """The detector itself works, in each encoding."""
    for value in CANARIES.values():
        for _form, needle in _forms(value):
            with pytest.raises(AssertionError):
                assert_no_canary("sample", b"xx" + needle + b"yy")


def test_rotation_output_names_no_record(app: Flask) -> None:
    keyops.seed_authorities()
    result = app.test_cli_runner().invoke(args=["rotate-keys", "--org", "deployment"])
    assert result.exit_code == 0, result.output
