"""Each child's chronology, and how other children appear in it (RULES.md R6, 003 s4.6).

A child's file never shows another child's name: other children appear as initials and
reference number, unless they are in the same family group. Entries are written per child
with other children already redacted, and free text is redacted again when a file is shown
(staff may have typed another child's name into a narrative).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from typing import Any

from ..models import Child, ChildRecordEntry, Incident, db, utcnow


def may_see_name(of: Child, in_file_of: Child) -> bool:
    """Whether `of`'s name may appear in `in_file_of`'s file."""
    if of.id == in_file_of.id:
        return True
    return of.family_group is not None and of.family_group == in_file_of.family_group


def label(of: Child, in_file_of: Child) -> str:
    """How `of` appears in `in_file_of`'s file: the name, or initials and reference only."""
    return of.full_name if may_see_name(of, in_file_of) else of.redacted_label


class Redactor:
    """Replaces the names of children who may not be named in one child's file by their label.

    Full names and each part on its own (whole words, any case), so "Amira Khan", "Amira" and
    "KHAN" all become "AK (C0007)", and so does each part of a name in several parts. Built
    once for a set of children and reused for every text of a file: one compiled pattern, one
    pass, so a label already written is never matched again by a shorter name.
    """

    def __init__(self, others: Iterable[Child], in_file_of: Child) -> None:
        replacements: list[tuple[str, str]] = []
        for other in others:
            if may_see_name(other, in_file_of):
                continue
            tag = other.redacted_label
            for name in _name_forms(other):
                replacements.append((name, tag))
        # Longest first, so a full name wins over its parts; for the same name the first
        # child listed wins.
        replacements.sort(key=lambda pair: -len(pair[0]))
        self._tags: dict[str, str] = {}
        self._names: list[tuple[str, str]] = []
        for name, tag in replacements:
            if name.lower() not in self._tags:
                self._tags[name.lower()] = tag
                self._names.append((name, tag))
        self._pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(n) for n, _ in self._names) + r")(?!\w)",
            flags=re.IGNORECASE) if self._names else None

    def _tag(self, match: re.Match[str]) -> str:
        found = match.group(0)
        tag = self._tags.get(found.lower())
        if tag is None:  # case folding that lower() does not mirror (e.g. "ß"/"SS")
            tag = next(t for n, t in self._names
                       if re.fullmatch(re.escape(n), found, flags=re.IGNORECASE))
        return tag

    def __call__(self, text: str) -> str:
        return self._pattern.sub(self._tag, text) if self._pattern is not None else text


def _name_forms(child: Child) -> list[str]:
    """Every way staff may write a child's name: the full name, the given and family names, and
    each part of a name in several parts ("Maximilian-Alexander Bartholomew" is often written
    "Maximilian"). Parts of one letter are left alone (initials are what a label shows)."""
    given, family = (child.given_name or "").strip(), (child.family_name or "").strip()
    forms = [child.full_name.strip(), given, family]
    for name in (given, family):
        forms.extend(part for part in re.split(r"[\s\-\u2010\u2011]+", name) if part)
    return [f for f in dict.fromkeys(forms) if len(f) >= 2]


def redact(text: str, others: Iterable[Child], in_file_of: Child) -> str:
    """`text` with the names of `others` who may not be named in `in_file_of`'s file replaced
    by their label (see `Redactor`)."""
    return Redactor(others, in_file_of)(text)


def add_entry(
    child: Child,
    kind: str,
    body: str,
    *,
    author_id: uuid.UUID | None,
    incident: Incident | None = None,
    source: Any = None,
    occurred_at: dt.datetime | None = None,
) -> ChildRecordEntry:
    """Append one line to `child`'s chronology (flushes; never edited afterwards)."""
    entry = ChildRecordEntry(
        school_id=child.school_id,
        child_id=child.id,
        kind=kind,
        author_id=author_id,
        occurred_at=occurred_at or utcnow(),
        incident_id=incident.id if incident is not None else None,
        source_type=getattr(type(source), "__tablename__", None) if source is not None else None,
        source_id=getattr(source, "id", None),
    )
    entry.body = body
    db.session.add(entry)
    db.session.flush()
    return entry
