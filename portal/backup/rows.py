"""Rows as JSON lines (bytes base64, so ciphertext stays ciphertext; nothing is decrypted), read
in one database snapshot."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import JSON, LargeBinary, Table, TypeDecorator, func, inspect, select
from sqlalchemy.engine import Connection, Engine

from .. import db as database
from ..models import Base
from .sealing import BackupError

FRAME_TARGET: Final = 256 * 1024  # JSON lines per table frame, roughly
BATCH_ROWS: Final = 1000


def column_kind(column: Any) -> str:
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


def encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "uuid":
        return str(value)
    if kind in ("datetime", "date"):
        return value.isoformat()
    return value


def decode(kind: str, value: Any) -> Any:
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


def tables() -> list[Table]:
    """Every table, parents before children (the FK-safe insert order)."""
    return list(Base.metadata.sorted_tables)


def snapshot(engine: Engine) -> Connection:
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


def end_snapshot(conn: Connection) -> None:
    try:
        if conn.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ROLLBACK")
        else:
            conn.rollback()
    finally:
        conn.close()


def dump_table(conn: Connection, table: Table, emit: Callable[[bytes], None]) -> int:
    """Write the table's rows (primary key order) as JSON lines through `emit`; the row count."""
    kinds = [column_kind(c) for c in table.columns]
    query = select(*table.columns).order_by(*table.primary_key.columns)
    rows = 0
    pending: list[bytes] = []
    pending_size = 0
    result = conn.execute(
        query, execution_options={"stream_results": True, "yield_per": BATCH_ROWS}
    )
    for row in result:
        line = json.dumps([encode(k, v) for k, v in zip(kinds, row, strict=True)],
                          separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        data = line.encode("utf-8") + b"\n"
        pending.append(data)
        pending_size += len(data)
        rows += 1
        if pending_size >= FRAME_TARGET:
            emit(b"".join(pending))
            pending, pending_size = [], 0
    if pending:
        emit(b"".join(pending))
    return rows


def row_counts(conn: Connection) -> dict[str, int]:
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in tables()}


def existing_rows(engine: Engine) -> int:
    if database.current_revision(engine) is None:
        return 0
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        return sum(
            int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in tables() if t.name in names
        )
