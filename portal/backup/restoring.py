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



def restore_backup(path: Path, *, force: bool = False) -> RestoreSummary:
    """Check the backup, create the schema, load every row and file, then verify it all."""
    from ..audit import verify_report

    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    master = instance_master()
    manifest = _check(path, master)  # nothing is touched unless this passes
    revision = manifest["schema_revision"]
    try:
        from alembic.script import ScriptDirectory

        ScriptDirectory.from_config(database.alembic_config()).get_revision(revision)
    except Exception:
        raise BackupError(
            f"the backup's schema {revision} is unknown to this portal version; restore it "
            "with the version that made it"
        ) from None
    engine = db.engine
    db.session.remove()
    existing = rowio.existing_rows(engine)
    if existing and not force:
        raise BackupError(
            f"the database already holds {existing} rows: restore into a fresh instance, or "
            "give --force to replace everything in it"
        )
    database.upgrade(engine, revision)
    tables = {t.name: t for t in rowio.tables()}
    store = current_app.extensions["attachments"]
    store.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    digests: dict[tuple[str, str], Any] = {}
    try:
        with engine.begin() as conn:
            if force:
                for table in reversed(rowio.tables()):
                    conn.execute(delete(table))
            loading: tuple[str, str] | None = None
            carry = b""
            rows: list[dict[str, Any]] = []
            columns: list[str] = []
            kinds: list[str] = []
            out: IO[bytes] | None = None
            temp: Path | None = None

            def flush_rows() -> None:
                if rows:
                    conn.execute(insert(tables[loading[1]]), rows)  # type: ignore[index]
                    rows.clear()

            def finish() -> None:
                nonlocal out, temp
                if loading is None:
                    return
                if loading[0] == "T":
                    if carry:
                        raise DamagedBackup("a table in the backup ends mid-row")
                    flush_rows()
                elif out is not None and temp is not None:
                    out.flush()
                    os.fsync(out.fileno())
                    out.close()
                    final = store.path(loading[1])
                    os.chmod(temp, 0o600)
                    os.replace(temp, final)
                    written.append(final)
                    out = temp = None

            for kind, name, data in _walk(path, master):
                key = (kind, name)
                if kind == "M":
                    break
                if key != loading:
                    finish()
                    loading = key
                    digests[key] = hashlib.sha256()
                    if kind == "T":
                        table = tables[name]
                        columns = manifest["tables"][name]["columns"]
                        missing = [c for c in columns if c not in table.c]
                        if missing:
                            raise BackupError(f"table {name} has no columns {missing} here")
                        kinds = [rowio.column_kind(table.c[c]) for c in columns]
                        carry = b""
                    else:
                        store.path(name)  # refuses anything but an id
                        handle, temp_name = tempfile.mkstemp(dir=store.root, prefix=".restore-")
                        out = os.fdopen(handle, "wb")
                        temp = Path(temp_name)
                digests[key].update(data)
                if kind == "T":
                    *lines, carry = (carry + data).split(b"\n")
                    for line in lines:
                        values = json.loads(line)
                        rows.append({c: rowio.decode(k, v)
                                     for c, k, v in zip(columns, kinds, values, strict=True)})
                        if len(rows) >= rowio.BATCH_ROWS:
                            flush_rows()
                else:
                    if out is None:  # cannot happen: a file part always opens one
                        raise DamagedBackup("the backup's attachment data is out of place")
                    out.write(data)
            finish()
            # The file could have been swapped between the two passes: check again.
            for (kind, name), digest in digests.items():
                info = manifest["tables" if kind == "T" else "attachments"][name]
                if digest.hexdigest() != info["sha256"]:
                    raise DamagedBackup("the backup file changed while it was being restored")
            counts = rowio.row_counts(conn)
            for name, info in manifest["tables"].items():
                if counts.get(name) != info["rows"]:
                    raise BackupError(f"table {name}: {counts.get(name)} rows loaded, the "
                                      f"backup has {info['rows']}")
    except BaseException:
        for final in written:
            final.unlink(missing_ok=True)
        for stray in store.root.glob(".restore-*"):
            stray.unlink(missing_ok=True)
        raise
    fsync_dir(store.root)
    if revision != database.head_revision():
        database.upgrade(engine)
    # Check what is now on disk and in the database, as the portal will read it.
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
    return RestoreSummary(
        manifest=manifest,
        tables={n: t["rows"] for n, t in manifest["tables"].items()},
        attachments=len(manifest["attachments"]),
        audit_events=report.events, audit_chains=report.chains,
    )


