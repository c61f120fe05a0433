"""Reading and restoring a backup. The file is read twice: first to authenticate every chunk and
check every part against the manifest (nothing is touched if that fails), then to load. A
database that holds any row is refused unless ``force``."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import delete, insert
from sqlalchemy.engine import Connection

from .. import db as database
from ..crypto import MasterKeyProvider
from ..durable import fsync_dir
from ..models import db
from . import rows as rowio
from .frames import Part, frames
from .sealing import FORMAT_VERSION, BackupError, DamagedBackup, RestoredButUnverified, open_sealed
from .writing import instance_master


def _walk(path: Path, master: MasterKeyProvider) -> Iterator[tuple[str, str, bytes]]:
    with open(path, "rb") as src:
        yield from frames(open_sealed(src, master))


def _check(path: Path, master: MasterKeyProvider) -> dict[str, Any]:
    """Pass one: authenticate every chunk, check every part against the manifest."""
    parts: dict[tuple[str, str], Part] = {}
    order: list[tuple[str, str]] = []
    manifest: dict[str, Any] | None = None
    for kind, name, data in _walk(path, master):
        if manifest is not None:
            raise DamagedBackup("the backup has data after its manifest")
        if kind == "M":
            try:
                manifest = json.loads(data)
            except ValueError:
                raise DamagedBackup("the backup manifest cannot be read") from None
            continue
        if kind not in ("T", "F"):
            raise DamagedBackup(f"the backup holds an unknown frame kind {kind!r}")
        key = (kind, name)
        if key not in parts:
            if key in order:
                raise DamagedBackup("a part of the backup is split")
            parts[key] = Part()
            order.append(key)
        elif order[-1] != key:
            raise DamagedBackup("a part of the backup is split")
        part = parts[key]
        part.add(data)
        if kind == "T":
            part.rows += data.count(b"\n")
    if manifest is None:
        raise DamagedBackup("the backup has no manifest (truncated?)")
    if manifest.get("format") != "portal-backup" or manifest.get("version") != FORMAT_VERSION:
        raise DamagedBackup("the backup manifest has an unknown format")
    tables = manifest["tables"]
    files = manifest["attachments"]
    expected = [("T", n) for n, t in tables.items() if t["bytes"]] + [("F", n) for n in files]
    if sorted(expected) != sorted(parts):
        raise DamagedBackup("the backup's parts do not match its manifest")
    for name, info in tables.items():
        part = parts.get(("T", name), Part())
        if part.digest.hexdigest() != info["sha256"] or part.rows != info["rows"]:
            raise DamagedBackup(f"table {name} in the backup does not match its checksum")
    for name, info in files.items():
        part = parts[("F", name)]
        if part.digest.hexdigest() != info["sha256"] or part.size != info["bytes"]:
            raise DamagedBackup(f"attachment {name} in the backup does not match its checksum")
    known = [t.name for t in rowio.tables()]
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise BackupError(f"the backup holds tables this portal does not know: {unknown}")
    table_order = [n for k, n in order if k == "T"]
    if table_order != [n for n in known if n in table_order]:
        raise BackupError("the backup's tables are not in an order this portal can load")
    return manifest


def read_manifest(path: Path, master: MasterKeyProvider | None = None) -> dict[str, Any]:
    """Decrypt and check the whole backup; its manifest (for tests and `flask restore`)."""
    return _check(Path(path), master or instance_master())


@dataclass
class RestoreSummary:
    manifest: dict[str, Any]
    tables: dict[str, int]
    attachments: int
    audit_events: int
    audit_chains: int



class _Loader:
    """Pass two: the rows and files of a checked backup, part by part, into the database (one
    transaction, `conn`) and the attachment store (temporary files renamed into place)."""

    def __init__(self, conn: Connection, manifest: dict[str, Any], store: Any) -> None:
        self.conn = conn
        self.manifest = manifest
        self.store = store
        self.tables = {t.name: t for t in rowio.tables()}
        self.written: list[Path] = []
        self.digests: dict[tuple[str, str], Any] = {}
        self.loading: tuple[str, str] | None = None
        self.carry = b""
        self.rows: list[dict[str, Any]] = []
        self.columns: list[str] = []
        self.kinds: list[str] = []
        self.out: IO[bytes] | None = None
        self.temp: Path | None = None

    def load(self, kind: str, name: str, data: bytes) -> None:
        key = (kind, name)
        if key != self.loading:
            self.finish()
            self.begin(kind, name)
        self.digests[key].update(data)
        if kind == "T":
            self.load_rows(data)
        else:
            if self.out is None:  # cannot happen: a file part always opens one
                raise DamagedBackup("the backup's attachment data is out of place")
            self.out.write(data)

    def begin(self, kind: str, name: str) -> None:
        self.loading = (kind, name)
        self.digests[kind, name] = hashlib.sha256()
        if kind == "T":
            table = self.tables[name]
            self.columns = self.manifest["tables"][name]["columns"]
            missing = [c for c in self.columns if c not in table.c]
            if missing:
                raise BackupError(f"table {name} has no columns {missing} here")
            self.kinds = [rowio.column_kind(table.c[c]) for c in self.columns]
            self.carry = b""
        else:
            self.store.path(name)  # refuses anything but an id
            handle, temp_name = tempfile.mkstemp(dir=self.store.root, prefix=".restore-")
            self.out = os.fdopen(handle, "wb")
            self.temp = Path(temp_name)

    def load_rows(self, data: bytes) -> None:
        *lines, self.carry = (self.carry + data).split(b"\n")
        for line in lines:
            values = json.loads(line)
            self.rows.append({c: rowio.decode(k, v)
                              for c, k, v in zip(self.columns, self.kinds, values, strict=True)})
            if len(self.rows) >= rowio.BATCH_ROWS:
                self.flush_rows()

    def flush_rows(self) -> None:
        if self.rows and self.loading is not None:
            self.conn.execute(insert(self.tables[self.loading[1]]), self.rows)
            self.rows.clear()

    def finish(self) -> None:
        if self.loading is None:
            return
        if self.loading[0] == "T":
            if self.carry:
                raise DamagedBackup("a table in the backup ends mid-row")
            self.flush_rows()
        elif self.out is not None and self.temp is not None:
            self.out.flush()
            os.fsync(self.out.fileno())
            self.out.close()
            final = self.store.path(self.loading[1])
            os.chmod(self.temp, 0o600)
            os.replace(self.temp, final)
            self.written.append(final)
            self.out = self.temp = None

    def check(self) -> None:
        """The file could have been swapped between the two passes: check it again, and every
        table's row count."""
        for (kind, name), digest in self.digests.items():
            info = self.manifest["tables" if kind == "T" else "attachments"][name]
            if digest.hexdigest() != info["sha256"]:
                raise DamagedBackup("the backup file changed while it was being restored")
        counts = rowio.row_counts(self.conn)
        for name, info in self.manifest["tables"].items():
            if counts.get(name) != info["rows"]:
                raise BackupError(f"table {name}: {counts.get(name)} rows loaded, the "
                                  f"backup has {info['rows']}")

    def undo_files(self) -> None:
        for final in self.written:
            final.unlink(missing_ok=True)
        if self.out is not None:
            self.out.close()
        for stray in self.store.root.glob(".restore-*"):
            stray.unlink(missing_ok=True)


def _known_revision(revision: str) -> None:
    from alembic.script import ScriptDirectory

    try:
        ScriptDirectory.from_config(database.alembic_config()).get_revision(revision)
    except Exception:
        raise BackupError(
            f"the backup's schema {revision} is unknown to this portal version; restore it "
            "with the version that made it"
        ) from None


def _load(path: Path, master: MasterKeyProvider, manifest: dict[str, Any], engine: Any,
          *, force: bool) -> None:
    store = current_app.extensions["attachments"]
    store.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    loader: _Loader | None = None
    try:
        with engine.begin() as conn:
            if force:
                for table in reversed(rowio.tables()):
                    conn.execute(delete(table))
            loader = _Loader(conn, manifest, store)
            for kind, name, data in _walk(path, master):
                if kind == "M":
                    break
                loader.load(kind, name, data)
            loader.finish()
            loader.check()
    except BaseException:
        if loader is not None:
            loader.undo_files()
        else:
            for stray in store.root.glob(".restore-*"):
                stray.unlink(missing_ok=True)
        raise
    fsync_dir(store.root)


def _verify(manifest: dict[str, Any]) -> tuple[int, int]:
    """Check what is now on disk and in the database, as the portal will read it: (audit
    events, audit chains)."""
    from ..audit import verify_report

    store = current_app.extensions["attachments"]
    for name, info in manifest["attachments"].items():
        digest = hashlib.sha256(store.path(name).read_bytes()).hexdigest()
        if digest != info["sha256"]:
            raise RestoredButUnverified(
                f"attachment {name} does not match the backup after writing")
    current_app.extensions["keyring"].clear_cache()
    report = verify_report()
    db.session.remove()
    if not report.intact:
        raise RestoredButUnverified(
            "the restored audit trail does not verify: "
            + "; ".join(str(p) for p in report.problems)
        )
    return report.events, report.chains


def restore_backup(path: Path, *, force: bool = False) -> RestoreSummary:
    """Check the backup, create the schema, load every row and file, then verify it all."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    master = instance_master()
    manifest = _check(path, master)  # nothing is touched unless this passes
    revision = manifest["schema_revision"]
    _known_revision(revision)
    engine = db.engine
    db.session.remove()
    existing = rowio.existing_rows(engine)
    if existing and not force:
        raise BackupError(
            f"the database already holds {existing} rows: restore into a fresh instance, or "
            "give --force to replace everything in it"
        )
    database.upgrade(engine, revision)
    _load(path, master, manifest, engine, force=force)
    if revision != database.head_revision():
        database.upgrade(engine)
    events, chains = _verify(manifest)
    return RestoreSummary(
        manifest=manifest,
        tables={n: t["rows"] for n, t in manifest["tables"].items()},
        attachments=len(manifest["attachments"]),
        audit_events=events, audit_chains=chains,
    )
