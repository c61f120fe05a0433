"""Making a backup: one snapshot's rows, the attachment files of its rows, and a manifest
(format version, schema revision, creation time, each table's row count and columns, the SHA-256
of every part), sealed into one file written to a temporary name, fsynced and renamed."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from flask import current_app
from sqlalchemy import select, text

from .. import clock
from .. import db as database
from ..crypto import KeyRing, MasterKeyProvider, key_id_of
from ..durable import fsync_dir
from ..models import Base, db
from . import rows
from .frames import Part, frame
from .sealing import CHUNK_SIZE, FORMAT_VERSION, BackupError, SealedWriter

_HEADER_BYTES: Final = 66  # enough for an attachment's key id (see crypto.key_id_of)


@dataclass
class BackupSummary:
    path: Path
    schema_revision: str
    tables: dict[str, int]
    attachments: int
    missing_attachments: list[str]
    size: int


def instance_master() -> MasterKeyProvider:
    # The provider this instance's key ring really uses (a local key or a key service).
    ring: KeyRing = current_app.extensions["keyring"]
    return ring.master



def write_backup(out: Path) -> BackupSummary:
    """Write an encrypted backup of the whole instance to `out` (temp file, fsync, rename)."""
    engine = db.engine
    master = instance_master()
    store = current_app.extensions["attachments"]
    out = out.resolve()
    if out.is_dir():
        raise BackupError(f"{out} is a directory; give a file name such as portal.portalbackup")
    if not out.parent.is_dir():
        raise BackupError(f"the directory {out.parent} does not exist")
    fd, temp_name = tempfile.mkstemp(dir=out.parent, prefix=".backup-", suffix=".partial")
    temp = Path(temp_name)
    conn = None
    try:
        with os.fdopen(fd, "wb") as handle:
            sealed = SealedWriter(handle, master)
            conn = rows.snapshot(engine)
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            head = database.head_revision()
            if revision != head:
                raise BackupError(
                    f"the database schema is {revision or 'empty'}, not this portal's {head}: "
                    "run `flask init-db` first"
                )
            manifest: dict[str, Any] = {
                "format": "portal-backup",
                "version": FORMAT_VERSION,
                "schema_revision": revision,
                "created_at": clock.now().isoformat(),
                "dialect": engine.dialect.name,
                "master_key_id": master.key_id,
                "tables": {},
                "attachments": {},
                "missing_attachments": [],
            }
            for table in rows.tables():
                part = Part()

                def emit(data: bytes, name: str = table.name, part: Part = part) -> None:
                    part.add(data)
                    sealed.write(frame(b"T", name, data))

                part.rows = rows.dump_table(conn, table, emit)
                manifest["tables"][table.name] = {
                    "columns": [c.name for c in table.columns],
                    "rows": part.rows, "bytes": part.size, "sha256": part.digest.hexdigest(),
                }
            # Attachment files of the rows in the snapshot, checked against the snapshot's keys.
            att = Base.metadata.tables["attachments"]
            keys = Base.metadata.tables["org_keys"]
            org_keys: dict[str, set[str]] = {}
            for org_id, key_id in conn.execute(select(keys.c.org_id, keys.c.key_id)):
                org_keys.setdefault(org_id, set()).add(key_id)
            for att_id, school_id in conn.execute(
                select(att.c.id, att.c.school_id).order_by(att.c.id)
            ):
                name = att_id.hex
                try:
                    source = open(store.path(name), "rb")  # noqa: SIM115
                except FileNotFoundError:
                    manifest["missing_attachments"].append(name)
                    continue
                with source:
                    part = Part()
                    first = True
                    while chunk := source.read(CHUNK_SIZE):
                        if first:
                            first = False
                            if key_id_of(chunk[:_HEADER_BYTES]) not in org_keys.get(
                                str(school_id), set()
                            ):
                                raise BackupError(
                                    "an attachment was re-encrypted under a key newer than the "
                                    "database snapshot (a key rotation is running): run the "
                                    "backup again when it has finished"
                                )
                        part.add(chunk)
                        sealed.write(frame(b"F", name, chunk))
                    if first:  # an empty file: still a part
                        sealed.write(frame(b"F", name, b""))
                manifest["attachments"][name] = {
                    "school_id": str(school_id), "bytes": part.size,
                    "sha256": part.digest.hexdigest(),
                }
            rows.end_snapshot(conn)
            conn = None
            sealed.write(frame(b"M", "manifest", json.dumps(manifest, sort_keys=True).encode()))
            sealed.close()
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, out)
        fsync_dir(out.parent)
    except BaseException:
        if conn is not None:
            rows.end_snapshot(conn)
        temp.unlink(missing_ok=True)
        raise
    return BackupSummary(
        path=out, schema_revision=manifest["schema_revision"],
        tables={n: t["rows"] for n, t in manifest["tables"].items()},
        attachments=len(manifest["attachments"]),
        missing_attachments=list(manifest["missing_attachments"]), size=out.stat().st_size,
    )
