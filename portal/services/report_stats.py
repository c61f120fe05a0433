"""The statistics codes for reports (issue 17) on a child's part in an incident: recorded when
the child is put in it, and filled for the rows from before them (docs/security.md, "Plain
statistics for reports"). Kept apart from `reports` so the incidents service can record them
without importing the reports."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Connection, Table, select, update

from ..models import Child, Encrypted, IncidentChild
from . import report_figures as rf


def statistics_of(child: Child) -> dict[str, str]:
    """The coarse codes of a child's year group, sex and SEND, from their encrypted details."""
    return {"stat_year_group": rf.year_group_code(child.year_group),
            "stat_sex": rf.sex_code(child.sex),
            "stat_send": rf.send_code(child.send)}


def record_statistics(row: IncidentChild, child: Child) -> None:
    """Copy the child's codes onto their part in an incident (when they are put in it)."""
    for name, value in statistics_of(child).items():
        setattr(row, name, value)


def fill_statistics(connection: Connection, batch: int = 500) -> int:
    """Give every part of a child in an incident that has no codes yet its codes, decrypting
    only the child's year group, sex and SEND (run by migration 0025 on its own connection and
    by `flask init-db`; safe to run again). Returns how many rows it filled."""
    from types import SimpleNamespace

    from ..crypto import KeyShredded
    from ..models.base import child_key_org

    def text(school_id: uuid.UUID, child_id: uuid.UUID, name: str, blob: bytes | None
             ) -> str | None:
        if blob is None:
            return None
        # As the Child model reads it: the child's own key, or the school's for a value
        # written before children had keys (docs/security.md 3.2.1).
        row = SimpleNamespace(id=child_id, school_id=school_id, key_org=child_key_org(child_id),
                              __tablename__="children")
        try:
            field: Encrypted[Any] = Child.__dict__[name]
            return field.decrypt_blob(row, blob).decode("utf-8")
        except KeyShredded:  # a file destroyed at the end of its retention: nothing to count
            return None

    ic, ch = cast(Table, IncidentChild.__table__), cast(Table, Child.__table__)
    done = 0
    while True:
        rows = connection.execute(
            select(ic.c.id, ch.c.id, ch.c.school_id, ch.c.year_group_enc, ch.c.sex_enc,
                   ch.c.send_enc)
            .join(ch, ch.c.id == ic.c.child_id)
            .where(ic.c.stat_year_group.is_(None)).limit(batch)).all()
        if not rows:
            return done
        for row_id, child_id, school_id, year, sex, send in rows:
            send_text = text(school_id, child_id, "send", send)
            connection.execute(update(ic).where(ic.c.id == row_id).values(
                stat_year_group=rf.year_group_code(text(school_id, child_id, "year_group", year)),
                stat_sex=rf.sex_code(text(school_id, child_id, "sex", sex)),
                stat_send=rf.send_code(None if send_text is None else send_text == "1")))
        done += len(rows)
