"""A flooded child's file (issue 11, item 7): one child with thousands of chronology lines, as
an attacker with one staff account made them. Shared by tests/web/test_child_file_pages.py and
benchmarks/child_file.py. Invented names and text only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from portal.models import ChildRecordEntry, Concern, ConcernChild, db

START = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
WHAT = ("I saw two pupils arguing by the lockers after lunch; one pushed the other and took "
        "their bag. I moved them apart and the bag was given back.")
WORDS = "They said it keeps happening on the way home and they do not want to walk alone."


def add_lines(school: Any, staff: Any, child: Any, lines: int, *, start: int = 0) -> None:
    """Add `lines` lines to `child`'s chronology: concerns (each with the chronology note raising
    one writes) and, every third line, a standalone chronology entry. Commits."""
    for i in range(start, start + lines):
        at = START + dt.timedelta(minutes=i)
        if i % 3 == 2:
            entry = ChildRecordEntry(school_id=school.id, child_id=child.id, kind="note",
                                     author_id=staff.id, occurred_at=at)
            entry.body = f"Note {i}: checked in with the child at break; they seemed settled."
            db.session.add(entry)
            continue
        concern = Concern(school_id=school.id, raised_by_id=staff.id, state="submitted",
                          submitted_at=at, alerted_at=at)
        concern.what_happened = f"{WHAT} ({i})"
        concern.child_words = WORDS
        db.session.add(concern)
        db.session.flush()
        db.session.add(ConcernChild(concern_id=concern.id, child_id=child.id))
        note = ChildRecordEntry(school_id=school.id, child_id=child.id, kind="concern_raised",
                                author_id=staff.id, occurred_at=at, source_type="concerns",
                                source_id=concern.id)
        note.body = "Concern raised by Sam Staff"
        db.session.add(note)
        if i % 200 == 199:
            db.session.flush()
    db.session.commit()
