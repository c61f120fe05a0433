"""Flask extensions: created here, bound to the app in `init_app`."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask
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


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL for concurrent readers; secure_delete so freed pages hold no old ciphertext."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=5000")
        files = [row[2] for row in cursor.execute("PRAGMA database_list") if row[2]]
        cursor.close()
        for name in files:
            private_sqlite_files(Path(name))


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
            "`python -m portal.keys init` to create instance/keys/ for development."
        ) from exc


def init_app(app: Flask, settings: Settings) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url
    _create_private_sqlite(settings.database_url)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    db.init_app(app)
    csrf.init_app(app)
    if settings.testing and not settings.master_key_b64:
        master = LocalMasterKey.generate()
    else:
        master = master_key_for(settings)
    ring = KeyRing(master, DatabaseKeyStore())
    app.extensions["keyring"] = ring
    # Uploads stay in memory and reach the disk only as ciphertext.
    app.request_class = InMemoryUploadRequest
    app.extensions["attachments"] = AttachmentStore(settings.resolved_attachment_dir, ring)
    app.extensions["passwords"] = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
