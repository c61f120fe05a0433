"""Flask extensions: created here, bound to the app in `init_app`."""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

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
        cursor.close()


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
    hasher = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
    app.extensions["passwords"] = hasher
    # Verified for unknown and backing-off accounts: made now, so no request pays for it.
    app.extensions["auth_dummy_hash"] = hasher.hash(secrets.token_urlsafe(24))
