"""Flask extensions: created here, bound to the app in `init_app`."""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from .attachments import AttachmentStore, InMemoryUploadRequest
from .config import ConfigError, Settings
from .crypto import KeyRing, LocalMasterKey, MasterKeyMissing, load_master_key
from .keystore import DatabaseKeyStore
from .models import db
from .passwords import Passwords

csrf = CSRFProtect()


def client_address() -> str:
    """The client's address: the socket's peer, or what `proxy_count` trusted proxies said
    (ProxyFix, set up in `init_app`, has already put it in `remote_addr`)."""
    return request.remote_addr or "unknown"


# Per-address limits (the sign-in and code steps use them: portal/auth/views.py). Storage is
# settings.ratelimit_storage_uri; nothing is limited unless a view asks.
limiter = Limiter(key_func=client_address, default_limits=[], headers_enabled=False)


def _limit_only_where_asked(app: Flask) -> None:
    """Flask-Limiter checks every request before its view for limits that apply to all views
    (default, application, blueprint and meta limits). The portal sets none: the sign-in steps'
    decorators check their own. So that check (about 0.05 ms a request, issue 15) runs only if
    some such limit exists."""
    check = limiter._check_request_limit
    funcs = app.before_request_funcs.get(None, [])
    if check not in funcs:
        return
    manager = limiter.limit_manager

    def _check_app_wide_limits() -> None:
        if (manager.default_limits or manager.application_limits
                or manager._blueprint_limits or limiter._meta_limits):
            check()

    funcs[funcs.index(check)] = _check_app_wide_limits


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL for concurrent readers; secure_delete so freed pages hold no old ciphertext."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        # Statistics are refreshed only when nobody is writing (no wait: a request never waits
        # for them); then writers wait up to 5 seconds for one another.
        cursor.execute("PRAGMA busy_timeout=0")
        planner_statistics(cursor)
        cursor.execute("PRAGMA busy_timeout=5000")
        files = [row[2] for row in cursor.execute("PRAGMA database_list") if row[2]]
        cursor.close()
        for name in files:
            private_sqlite_files(Path(name))


# Rows ANALYZE reads per index at most: statistics good enough for the planner in milliseconds,
# however large the database (docs/deploy.md, "The query planner").
ANALYSIS_LIMIT = 1000


def planner_statistics(cursor: Any) -> None:
    """Give SQLite's planner statistics (issue 15): without them it picks `school_id` over
    `incident_id` or `child_id` and reads a school's every row. A portal database opened
    without any (never analysed) is analysed now, within `ANALYSIS_LIMIT`; otherwise each
    table whose statistics are stale is analysed (`stale_tables`), then `PRAGMA optimize`.
    A database another connection is writing is left for the next connection, at once."""
    cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
    try:
        found = {row[0] for row in cursor.execute(
            "SELECT name FROM sqlite_master WHERE name IN ('sqlite_stat1', 'alembic_version')")}
        if found == {"alembic_version"}:
            cursor.execute("ANALYZE")
        elif found:
            if "alembic_version" in found:  # a portal database: its stale tables first
                for table in stale_tables(cursor):
                    cursor.execute(f'ANALYZE "{table}"')
            cursor.execute("PRAGMA optimize=0x10002")
    except sqlite3.OperationalError:
        pass


# Fewer rows than this and the planner's guess without statistics does no harm.
STALE_MIN_ROWS = 100


def stale_tables(cursor: Any) -> list[str]:
    """Tables with at least `STALE_MIN_ROWS` rows whose statistics count ten times fewer or more
    rows than they hold now, or that have none: `PRAGMA optimize`'s own rule, which SQLite
    before 3.46 applies only to tables a connection has queried before closing, and never to a
    table that was empty when last analysed. Every portal table starts empty at `flask
    init-db`, so on such a SQLite the planner never learnt the data. Rows are estimated by the
    largest rowid (one index step, not a count)."""
    counted: dict[str, int] = {}
    for table, stat in cursor.execute("SELECT tbl, stat FROM sqlite_stat1").fetchall():
        head = str(stat or "0").split(" ", 1)[0]
        counted[table] = max(counted.get(table, 0), int(head) if head.isdigit() else 0)
    tables = [row[0] for row in cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()]
    stale = []
    for table in tables:
        try:
            # The table's name as sqlite_master has it, quoted: nothing from outside.
            rows = cursor.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0] or 0  # noqa: S608
        except sqlite3.OperationalError:  # a table without rowid: left to PRAGMA optimize
            continue
        before = counted.get(table, 0)
        if rows >= STALE_MIN_ROWS and (rows >= 10 * max(before, 1) or before >= 10 * rows):
            stale.append(table)
    return stale


def private_sqlite_files(path: Path) -> None:
    """The SQLite database and its -wal and -shm files readable by the portal's user only.

    SQLite makes -wal and -shm with the database file's mode, so a database made 0600 before
    SQLite first opens it keeps them 0600 too; an older, wider file is narrowed here.
    """
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)


def _create_private_sqlite(database_url: str) -> None:
    """Make the SQLite file (empty, mode 0600) before SQLite does, which would use 0644."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return
    name = url.database or ""
    if not name or name == ":memory:" or name.startswith("file:") or url.query.get("mode"):
        return
    path = Path(name)
    if not path.exists() and path.parent.is_dir():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    private_sqlite_files(path)


def master_key_for(settings: Settings) -> LocalMasterKey:
    """The master key: environment in production, instance/keys in development, or the test's."""
    if settings.master_key_b64:
        return LocalMasterKey.from_b64(settings.master_key_b64, source="settings")
    try:
        return load_master_key(
            env_var=settings.master_key_env, key_file=settings.resolved_master_key_file
        )
    except MasterKeyMissing as exc:
        raise ConfigError(
            f"No master key ({exc}). Set {settings.master_key_env} or run "
            "`.venv/bin/python -m portal.keys init` to create instance/keys/ for development."
        ) from exc


def init_app(app: Flask, settings: Settings) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url
    _create_private_sqlite(settings.database_url)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    db.init_app(app)
    csrf.init_app(app)
    if settings.proxy_count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only as many X-Forwarded-* entries as there are proxies we run: the rest are the
        # client's to choose, and would let it pick a fresh address for every guess.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count)
    app.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage_uri
    app.config["RATELIMIT_KEY_PREFIX"] = "portal"
    # If Redis is unreachable, count in this process for a while rather than fail sign-ins.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    limiter.init_app(app)
    _limit_only_where_asked(app)
    if settings.testing and not settings.master_key_b64:
        master = LocalMasterKey.generate()
    else:
        master = master_key_for(settings)
    ring = KeyRing(master, DatabaseKeyStore())
    app.extensions["keyring"] = ring
    # Uploads stay in memory and reach the disk only as ciphertext.
    app.request_class = InMemoryUploadRequest
    app.extensions["attachments"] = AttachmentStore(settings.resolved_attachment_dir, ring)
    hasher = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib,
                       settings.argon2_max_concurrent)
    app.extensions["passwords"] = hasher
    # Verified for unknown and backing-off accounts: made now, so no request pays for it.
    app.extensions["auth_dummy_hash"] = hasher.hash(secrets.token_urlsafe(24))
