"""Encrypted, consistent backups (`flask backup`) and restoring them (`flask restore`).

What a backup holds
    Every table's rows as JSON lines (bytes base64, so ciphertext stays ciphertext; nothing is
    decrypted), the wrapped organisation keys (the ``org_keys`` rows, still wrapped), every
    attachment file as stored (already ciphertext), and a manifest: format version, schema
    revision, creation time, each table's row count and columns, and the SHA-256 of every part.

Consistency
    All rows are read in one database snapshot while the portal keeps serving: one REPEATABLE
    READ, READ ONLY transaction on PostgreSQL; one read transaction on SQLite (WAL lets writers
    carry on). Attachment files are write-once; a file re-encrypted by a key rotation after the
    snapshot would be under a key the snapshot lacks, so that is detected and the backup fails.

The file (format 1)::

    "PORTALBK" | 0x01 | len(master key id) | master key id | chunk size (4) | salt (16)
      | nonce prefix (7) | len(wrapped) (2) | wrapped file key | chunks...

    file key     = 32 random bytes, wrapped by the master key (AAD: "portal-backup-v1" + header)
    stream key   = HKDF-SHA256(file key, salt, info = "portal-backup-v1")
    each chunk   = AES-256-GCM(stream key, nonce = prefix | counter (4) | final flag (1),
                               AAD = header | counter | final flag)

    The wrap goes through the master key provider, so this works with a key service as well
    as a local key. A chunk opens only at its own position and the last one only as the last:
    truncation, reordering and extension are all detected. Without the master key the file
    reveals nothing but its length: not the table names, not the row counts.

Inside the encryption, a sequence of frames: kind (1) | len(name) (2) | name | len(data) (4) |
data. Kinds: ``T`` JSON lines of a table, ``F`` bytes of an attachment file, ``M`` the manifest
(last). A part is the concatenation of the data of its frames.

Restore reads the file twice: first to authenticate every chunk and check every part against the
manifest (nothing is touched if that fails), then to load. It refuses a database that holds any
row unless ``--force``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import struct
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import click
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import (
    JSON,
    LargeBinary,
    Table,
    TypeDecorator,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from . import db as database
from .crypto import CryptoError, KeyRing, MasterKeyProvider, key_id_of
from .durable import fsync_dir
from .models import Base, db

__all__ = [
    "BackupError",
    "BackupSummary",
    "RestoreSummary",
    "backup_command",
    "read_manifest",
    "restore_backup",
    "restore_command",
    "write_backup",
]

MAGIC: Final = b"PORTALBK"
FORMAT_VERSION: Final = 1
INFO: Final = b"portal-backup-v1"
CHUNK_SIZE: Final = 256 * 1024
_SALT_LEN: Final = 16
_PREFIX_LEN: Final = 7
_TAG_LEN: Final = 16
_MAX_CHUNK: Final = 8 * 1024 * 1024
_FRAME_TARGET: Final = 256 * 1024  # JSON lines per table frame, roughly
_BATCH_ROWS: Final = 1000
_HEADER_BYTES: Final = 66  # enough for an attachment's key id (see crypto.key_id_of)


class BackupError(Exception):
    """The backup cannot be made or restored; the message is plain and names no record content."""


class WrongMasterKey(BackupError):
    """The backup was made under another master key."""


class DamagedBackup(BackupError):
    """The backup file is corrupt, truncated, or was tampered with."""


class RestoredButUnverified(BackupError):
    """The rows were loaded and committed, but a check afterwards failed."""


# --------------------------------------------------------------------------------------------
# The encrypted container


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _stream_aead(file_key: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO)
    return AESGCM(hkdf.derive(file_key))


def _chunk_params(header: bytes, prefix: bytes, index: int, final: bool) -> tuple[bytes, bytes]:
    if index >= 2**32:
        raise BackupError("backup too large for one stream")
    tail = index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")
    return prefix + tail, header + tail


class SealedWriter:
    """A write-only file object that encrypts everything written to it, chunk by chunk."""

    def __init__(self, dst: IO[bytes], master: MasterKeyProvider,
                 chunk_size: int = CHUNK_SIZE) -> None:
        self._dst = dst
        self._chunk = chunk_size
        salt = secrets.token_bytes(_SALT_LEN)
        self._prefix = secrets.token_bytes(_PREFIX_LEN)
        mk = master.key_id.encode("ascii")
        fixed = (MAGIC + bytes((FORMAT_VERSION, len(mk))) + mk + chunk_size.to_bytes(4, "big")
                 + salt + self._prefix)
        file_key = secrets.token_bytes(32)
        wrapped = master.wrap(file_key, _lp(INFO) + _lp(fixed))
        self._header = fixed + len(wrapped).to_bytes(2, "big") + wrapped
        self._aead = _stream_aead(file_key, salt)
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        dst.write(self._header)

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("write to a closed backup")
        self._buffer += data
        # Keep at least one byte back: the last chunk must be sealed with the final flag.
        while len(self._buffer) > self._chunk:
            self._seal(bytes(self._buffer[: self._chunk]), final=False)
            del self._buffer[: self._chunk]
        return len(data)

    def _seal(self, plain: bytes, final: bool) -> None:
        nonce, aad = _chunk_params(self._header, self._prefix, self._index, final)
        self._dst.write(self._aead.encrypt(nonce, plain, aad))
        self._index += 1

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._closed = True


@dataclass(frozen=True)
class _Header:
    raw: bytes
    master_key_id: str
    chunk_size: int
    salt: bytes
    prefix: bytes
    wrapped: bytes
    fixed: bytes


def _read_exact(src: IO[bytes], n: int) -> bytes:
    parts: list[bytes] = []
    while n > 0:
        chunk = src.read(n)
        if not chunk:
            break
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _read_header(src: IO[bytes]) -> _Header:
    start = _read_exact(src, len(MAGIC) + 2)
    if len(start) < len(MAGIC) + 2 or not start.startswith(MAGIC):
        raise DamagedBackup("this is not a portal backup file (or its header is damaged)")
    version, mk_len = start[len(MAGIC)], start[len(MAGIC) + 1]
    if version != FORMAT_VERSION:
        raise DamagedBackup(f"unsupported backup format version {version} (or a damaged header)")
    rest = _read_exact(src, mk_len + 4 + _SALT_LEN + _PREFIX_LEN + 2)
    if len(rest) < mk_len + 4 + _SALT_LEN + _PREFIX_LEN + 2:
        raise DamagedBackup("the backup file is truncated (header)")
    try:
        mk_id = rest[:mk_len].decode("ascii")
    except UnicodeDecodeError:
        raise DamagedBackup("the backup header is damaged") from None
    pos = mk_len
    chunk_size = int.from_bytes(rest[pos : pos + 4], "big")
    pos += 4
    salt = rest[pos : pos + _SALT_LEN]
    pos += _SALT_LEN
    prefix = rest[pos : pos + _PREFIX_LEN]
    pos += _PREFIX_LEN
    wrapped_len = int.from_bytes(rest[pos : pos + 2], "big")
    wrapped = _read_exact(src, wrapped_len)
    if len(wrapped) < wrapped_len:
        raise DamagedBackup("the backup file is truncated (header)")
    if not 16 <= chunk_size <= _MAX_CHUNK:
        raise DamagedBackup("the backup header is damaged (chunk size)")
    fixed = start + rest[: pos]
    return _Header(start + rest + wrapped, mk_id, chunk_size, salt, prefix, wrapped, fixed)


def _open_sealed(src: IO[bytes], master: MasterKeyProvider) -> Iterator[bytes]:
    """Authenticated plaintext chunks of a backup; raises WrongMasterKey or DamagedBackup."""
    header = _read_header(src)
    try:
        file_key = master.unwrap(header.wrapped, _lp(INFO) + _lp(header.fixed))
    except CryptoError:
        if header.master_key_id != master.key_id:
            raise WrongMasterKey(
                f"this backup was made under a different master key ({header.master_key_id}); "
                f"this instance uses {master.key_id}. Restore with the master key that was in "
                "use when the backup was made (keep old master keys for as long as backups "
                "made under them)."
            ) from None
        raise DamagedBackup(
            "the backup file is damaged or was tampered with (its header fails authentication)"
        ) from None
    return _chunks(src, header, _stream_aead(file_key, header.salt))


def _chunks(src: IO[bytes], header: _Header, aead: AESGCM) -> Iterator[bytes]:
    sealed = header.chunk_size + _TAG_LEN
    index = 0
    current = _read_exact(src, sealed)
    while True:
        following = _read_exact(src, sealed) if len(current) == sealed else b""
        final = not following
        nonce, aad = _chunk_params(header.raw, header.prefix, index, final)
        try:
            yield aead.decrypt(nonce, current, aad)
        except InvalidTag:
            raise DamagedBackup(
                f"the backup file is damaged, truncated or was tampered with (at chunk {index})"
            ) from None
        if final:
            return
        current, index = following, index + 1


# --------------------------------------------------------------------------------------------
# Frames inside the container

_FRAME_HEAD = struct.Struct(">cH")
_LEN = struct.Struct(">I")


def _frame(kind: bytes, name: str, data: bytes) -> bytes:
    n = name.encode("utf-8")
    return _FRAME_HEAD.pack(kind, len(n)) + n + _LEN.pack(len(data)) + data


def _frames(chunks: Iterator[bytes]) -> Iterator[tuple[str, str, bytes]]:
    buffer = bytearray()
    pos = 0
    done = False

    def need(n: int) -> bool:
        nonlocal buffer, pos, done
        while len(buffer) - pos < n and not done:
            nxt = next(chunks, None)
            if nxt is None:
                done = True
                break
            if pos:
                del buffer[:pos]
                pos = 0
            buffer += nxt
        return len(buffer) - pos >= n

    while True:
        if not need(1):
            return
        if not need(_FRAME_HEAD.size):
            raise DamagedBackup("the backup ends inside a frame")
        kind, name_len = _FRAME_HEAD.unpack_from(buffer, pos)
        if not need(_FRAME_HEAD.size + name_len + _LEN.size):
            raise DamagedBackup("the backup ends inside a frame")
        name = bytes(buffer[pos + 3 : pos + 3 + name_len]).decode("utf-8")
        (size,) = _LEN.unpack_from(buffer, pos + 3 + name_len)
        start = pos + 3 + name_len + _LEN.size
        if not need(start - pos + size):
            raise DamagedBackup("the backup ends inside a frame")
        data = bytes(buffer[start : start + size])
        pos = start + size
        yield kind.decode("ascii"), name, data


# --------------------------------------------------------------------------------------------
# Rows as JSON


def _column_kind(column: Any) -> str:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, JSON):
        return "json"
    if isinstance(kind, LargeBinary):
        return "bytes"
    try:
        py = kind.python_type
    except NotImplementedError:  # pragma: no cover - every portal type has one
        return "plain"
    if py is uuid.UUID:
        return "uuid"
    if py is dt.datetime:
        return "datetime"
    if py is dt.date:
        return "date"
    return "plain"


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "uuid":
        return str(value)
    if kind in ("datetime", "date"):
        return value.isoformat()
    return value


def _decode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "uuid":
        return uuid.UUID(value)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    return value


def _tables() -> list[Table]:
    """Every table, parents before children (the FK-safe insert order)."""
    return list(Base.metadata.sorted_tables)


# --------------------------------------------------------------------------------------------
# Making a backup


@dataclass
class BackupSummary:
    path: Path
    schema_revision: str
    tables: dict[str, int]
    attachments: int
    missing_attachments: list[str]
    size: int


def _master() -> MasterKeyProvider:
    # The provider this instance's key ring really uses (a local key or a key service).
    ring: KeyRing = current_app.extensions["keyring"]
    return ring.master


@dataclass
class _Part:
    digest: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    rows: int = 0

    def add(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)


def _snapshot(engine: Engine) -> Connection:
    """A connection inside one read-only snapshot of the whole database."""
    if engine.dialect.name == "postgresql":
        conn = engine.connect().execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        conn.begin()
        return conn
    if engine.dialect.name == "sqlite":
        # pysqlite does not begin a transaction before a SELECT: take control and BEGIN
        # ourselves, so every read below sees the one snapshot the first read fixes (WAL).
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("BEGIN")
        return conn
    raise BackupError(f"backups are not supported on {engine.dialect.name}")


def _end_snapshot(conn: Connection) -> None:
    try:
        if conn.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ROLLBACK")
        else:
            conn.rollback()
    finally:
        conn.close()


def _dump_table(conn: Connection, table: Table, emit: Callable[[bytes], None]) -> int:
    """Write the table's rows (primary key order) as JSON lines through `emit`; the row count."""
    kinds = [_column_kind(c) for c in table.columns]
    query = select(*table.columns).order_by(*table.primary_key.columns)
    rows = 0
    pending: list[bytes] = []
    pending_size = 0
    result = conn.execute(
        query, execution_options={"stream_results": True, "yield_per": _BATCH_ROWS}
    )
    for row in result:
        line = json.dumps([_encode(k, v) for k, v in zip(kinds, row, strict=True)],
                          separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        data = line.encode("utf-8") + b"\n"
        pending.append(data)
        pending_size += len(data)
        rows += 1
        if pending_size >= _FRAME_TARGET:
            emit(b"".join(pending))
            pending, pending_size = [], 0
    if pending:
        emit(b"".join(pending))
    return rows


def write_backup(out: Path) -> BackupSummary:
    """Write an encrypted backup of the whole instance to `out` (temp file, fsync, rename)."""
    engine = db.engine
    master = _master()
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
            conn = _snapshot(engine)
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
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
                "dialect": engine.dialect.name,
                "master_key_id": master.key_id,
                "tables": {},
                "attachments": {},
                "missing_attachments": [],
            }
            for table in _tables():
                part = _Part()

                def emit(data: bytes, name: str = table.name, part: _Part = part) -> None:
                    part.add(data)
                    sealed.write(_frame(b"T", name, data))

                part.rows = _dump_table(conn, table, emit)
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
                    part = _Part()
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
                        sealed.write(_frame(b"F", name, chunk))
                    if first:  # an empty file: still a part
                        sealed.write(_frame(b"F", name, b""))
                manifest["attachments"][name] = {
                    "school_id": str(school_id), "bytes": part.size,
                    "sha256": part.digest.hexdigest(),
                }
            _end_snapshot(conn)
            conn = None
            sealed.write(_frame(b"M", "manifest", json.dumps(manifest, sort_keys=True).encode()))
            sealed.close()
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, out)
        fsync_dir(out.parent)
    except BaseException:
        if conn is not None:
            _end_snapshot(conn)
        temp.unlink(missing_ok=True)
        raise
    return BackupSummary(
        path=out, schema_revision=manifest["schema_revision"],
        tables={n: t["rows"] for n, t in manifest["tables"].items()},
        attachments=len(manifest["attachments"]),
        missing_attachments=list(manifest["missing_attachments"]), size=out.stat().st_size,
    )


# --------------------------------------------------------------------------------------------
# Reading and restoring


def _walk(path: Path, master: MasterKeyProvider) -> Iterator[tuple[str, str, bytes]]:
    with open(path, "rb") as src:
        yield from _frames(_open_sealed(src, master))


def _check(path: Path, master: MasterKeyProvider) -> dict[str, Any]:
    """Pass one: authenticate every chunk, check every part against the manifest."""
    parts: dict[tuple[str, str], _Part] = {}
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
            parts[key] = _Part()
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
        part = parts.get(("T", name), _Part())
        if part.digest.hexdigest() != info["sha256"] or part.rows != info["rows"]:
            raise DamagedBackup(f"table {name} in the backup does not match its checksum")
    for name, info in files.items():
        part = parts[("F", name)]
        if part.digest.hexdigest() != info["sha256"] or part.size != info["bytes"]:
            raise DamagedBackup(f"attachment {name} in the backup does not match its checksum")
    known = [t.name for t in _tables()]
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise BackupError(f"the backup holds tables this portal does not know: {unknown}")
    table_order = [n for k, n in order if k == "T"]
    if table_order != [n for n in known if n in table_order]:
        raise BackupError("the backup's tables are not in an order this portal can load")
    return manifest


def read_manifest(path: Path, master: MasterKeyProvider | None = None) -> dict[str, Any]:
    """Decrypt and check the whole backup; its manifest (for tests and `flask restore`)."""
    return _check(Path(path), master or _master())


@dataclass
class RestoreSummary:
    manifest: dict[str, Any]
    tables: dict[str, int]
    attachments: int
    audit_events: int
    audit_chains: int


def _row_counts(conn: Connection) -> dict[str, int]:
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in _tables()}


def _existing_rows(engine: Engine) -> int:
    if database.current_revision(engine) is None:
        return 0
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        return sum(
            int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in _tables() if t.name in names
        )


def restore_backup(path: Path, *, force: bool = False) -> RestoreSummary:
    """Check the backup, create the schema, load every row and file, then verify it all."""
    from .audit import verify_report

    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    master = _master()
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
    existing = _existing_rows(engine)
    if existing and not force:
        raise BackupError(
            f"the database already holds {existing} rows: restore into a fresh instance, or "
            "give --force to replace everything in it"
        )
    database.upgrade(engine, revision)
    tables = {t.name: t for t in _tables()}
    store = current_app.extensions["attachments"]
    store.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    digests: dict[tuple[str, str], Any] = {}
    try:
        with engine.begin() as conn:
            if force:
                for table in reversed(_tables()):
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
                        kinds = [_column_kind(table.c[c]) for c in columns]
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
                        rows.append({c: _decode(k, v)
                                     for c, k, v in zip(columns, kinds, values, strict=True)})
                        if len(rows) >= _BATCH_ROWS:
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
            counts = _row_counts(conn)
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


# --------------------------------------------------------------------------------------------
# Commands


@click.command("backup")
@click.argument("out", metavar="OUT.portalbackup",
                type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path) -> None:
    """Write an encrypted, consistent backup of the database and attachments while serving.

    Only this instance's master key opens it; keep the master key (and old ones, after a
    rotation) for as long as the backup.
    """
    try:
        summary = write_backup(out)
    except (BackupError, CryptoError) as exc:
        db.session.rollback()
        raise click.ClickException(f"No backup written: {exc}") from None
    rows = sum(summary.tables.values())
    click.echo(f"Backup written to {summary.path} ({summary.size} bytes, encrypted): {rows} rows "
               f"in {len(summary.tables)} tables and {summary.attachments} attachment files; "
               f"schema {summary.schema_revision}.")
    if summary.missing_attachments:
        click.echo(f"Warning: {len(summary.missing_attachments)} attachment files were missing "
                   "from the store and are not in the backup: "
                   f"{', '.join(summary.missing_attachments)}", err=True)


@click.command("restore")
@click.argument("source", metavar="IN.portalbackup",
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace everything in a database that already holds rows.")
@with_appcontext
def restore_command(source: Path, force: bool) -> None:
    """Restore a backup into a fresh instance that has the same master key."""
    try:
        summary = restore_backup(source, force=force)
    except RestoredButUnverified as exc:
        db.session.rollback()
        raise click.ClickException(
            f"The backup was loaded, but a check afterwards failed: {exc}. Do not use this "
            "instance; investigate, then restore again with --force."
        ) from None
    except (BackupError, CryptoError) as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing restored: {exc}") from None
    manifest = summary.manifest
    rows = sum(summary.tables.values())
    click.echo(f"Restored {rows} rows in {len(summary.tables)} tables and "
               f"{summary.attachments} attachment files from the backup made "
               f"{manifest['created_at']} (schema {manifest['schema_revision']}). "
               "Every part matched its checksum and every table its row count.")
    click.echo(f"audit trail intact: {summary.audit_events} events in "
               f"{summary.audit_chains} chains")
