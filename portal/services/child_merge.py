"""Two records of one child made one (issue 13, item 3): a DSL merges a second record (added
again by someone who could not find the child) into the record kept.

* Chronologies join: every concern link, incident part, decision, parents record and chronology
  line of the merged record is moved to the kept child (attachments belong to incidents and
  concerns, so they follow). The ids moved are kept on the `ChildMerge` row.
* Nothing is lost: the merged record stays, marked `merged_into_id`, with both records' details
  as they were (encrypted) on the `ChildMerge` row; only a concern that named both records keeps
  one link (the other's id is kept on the row too).
* Both ids keep working: the merged record's file leads to the kept one (`children.file`).
* Audited (`child.merged`) and explained in the kept child's file: "Record C0042 merged into
  this file on ..., by ..., because ...".
* Open incidents of the kept child are assessed again, so the rules use the kept child's
  details. Two records on the same incident are refused: the incident names them as two
  children, which a DSL must correct first.

Both records must be of the DSL's own school (the views fetch them with `get_child_or_404`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select, update

from .. import audit
from ..models import (
    Child,
    ChildMerge,
    ChildRecordEntry,
    ConcernChild,
    Decision,
    Disclosure,
    FileTransfer,
    Incident,
    IncidentChild,
    ParentContact,
    ReceivedFile,
    SealedExport,
    User,
    db,
)
from . import child_keys, chronology, repeat_harm
from . import incidents as incident_service
from .children import set_names

__all__ = ["DETAILS", "MergeRefused", "explanation", "merge_children", "merges_into"]

CHRONOLOGY_KIND: Final = "records_merged"
# The details a DSL chooses between, in page order, with their plain names.
DETAILS: Final = {
    "given_name": "Given name",
    "family_name": "Family name",
    "preferred_name": "Name they go by",
    "dob": "Date of birth",
    "send": "Special educational needs",
    "local_authority_code": "Local authority",
}
SOURCES: Final = ("kept", "merged")


class MergeRefused(Exception):
    """The merge cannot be made; the message says why, in plain words."""


def _details(child: Child) -> dict[str, Any]:
    return {"given_name": child.given_name, "family_name": child.family_name,
            "preferred_name": child.preferred_name, "dob": child.dob,
            "send": bool(child.send), "local_authority_code": child.local_authority_code}


def _plain(details: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, dt.date) else value
            for key, value in details.items()}


def merge_children(user: User, kept: Child, merged: Child, *, choices: Mapping[str, str],
                   reasons: str, now: dt.datetime) -> ChildMerge:
    """Merge `merged` into `kept` (flushes; the caller commits). `choices` says, for each of
    DETAILS, which record's value to keep ("kept" or "merged"; missing: the kept one's)."""
    text, picked = _check(user, kept, merged, choices=choices, reasons=reasons)
    before = {"kept": _plain(_details(kept)), "merged": _plain(_details(merged)),
              "kept_reference": kept.reference, "merged_reference": merged.reference}
    theirs, mine = _details(merged), _details(kept)
    chosen = {key: (theirs if picked[key] == "merged" else mine)[key] for key in DETAILS}
    moved = _move_rows(kept, merged)
    _take_details(kept, merged, chosen)
    record = ChildMerge(school_id=kept.school_id, kept_child_id=kept.id,
                        merged_child_id=merged.id, merged_by_id=user.id, merged_at=now,
                        choices=picked, moved=moved)
    record.reasons = text
    record.before = json.dumps(before, ensure_ascii=False, sort_keys=True)
    db.session.add(record)
    db.session.flush()
    _tell(user, kept, merged, record, text, picked=picked, moved=moved, now=now)
    # The rules use the kept child's details from now on.
    for incident in db.session.scalars(
        select(Incident).join(IncidentChild, IncidentChild.incident_id == Incident.id)
        .where(IncidentChild.child_id == kept.id, Incident.state == "open")
        .order_by(Incident.reference)
    ):
        incident_service.reassess(user, incident, incident.version, now)
    return record


def _check(user: User, kept: Child, merged: Child, *, choices: Mapping[str, str],
           reasons: str) -> tuple[str, dict[str, str]]:
    """The merge may be made: the reasons (stripped) and the source of each detail; else
    PermissionError or MergeRefused."""
    if user.role != "dsl" or user.school_id is None:
        raise PermissionError("only a school's DSL may merge records")
    if kept.school_id != user.school_id or merged.school_id != user.school_id:
        raise PermissionError("both records must be of the DSL's school")
    if kept.id == merged.id:
        raise MergeRefused("Choose two different records")
    if kept.merged_into_id is not None or merged.merged_into_id is not None:
        raise MergeRefused("One of these records has already been merged into another")
    text = (reasons or "").strip()
    if not text:
        raise MergeRefused("Enter why these are the same child")
    picked = {key: choices.get(key, "kept") for key in DETAILS}
    if any(value not in SOURCES for value in picked.values()):
        raise MergeRefused("Choose which record each detail comes from")
    shared = db.session.scalars(
        select(Incident.reference).join(IncidentChild, IncidentChild.incident_id == Incident.id)
        .where(IncidentChild.child_id == kept.id, Incident.id.in_(
            select(IncidentChild.incident_id).where(IncidentChild.child_id == merged.id)))
        .order_by(Incident.reference)).all()
    if shared:
        raise MergeRefused(
            f"Both records are in incident {', '.join(shared)} as two different children. "
            "Correct the incident first, then merge the records")
    return text, picked


def _move_rows(kept: Child, merged: Child) -> dict[str, list[str]]:
    """Every row of the merged record's moved to the kept one (flushed): the ids moved, by
    kind."""
    moved: dict[str, list[str]] = {}
    both = set(db.session.scalars(select(ConcernChild.concern_id)
                                  .where(ConcernChild.child_id == kept.id)))
    links = list(db.session.scalars(select(ConcernChild).where(ConcernChild.child_id == merged.id)))
    for link in links:
        if link.concern_id in both:
            # The concern named both records: it keeps the kept child's link. The other link
            # is removed, its id kept here, so the concern lists the child once.
            moved.setdefault("concern_children_removed", []).append(str(link.id))
            moved.setdefault("concerns_named_both", []).append(str(link.concern_id))
            db.session.delete(link)
        else:
            moved.setdefault("concern_children", []).append(str(link.id))
            link.child_id = kept.id
    owned: tuple[tuple[Any, str], ...] = (
        (IncidentChild, "incident_children"), (Decision, "decisions"),
        (ParentContact, "parent_contacts"), (ChildRecordEntry, "child_record_entries"))
    for model, key in owned:
        rows: list[Any] = list(db.session.scalars(
            select(model).where(model.child_id == merged.id)))
        if rows:
            moved[key] = [str(row.id) for row in rows]
            # Under the kept child's key from now on (docs/security.md, "One child's key").
            child_keys.move_to_child(rows, kept.id)
    # Issue 16: a file from the previous school, sealed files, copies released (under the
    # school's key: only the child they belong to changes).
    for model, key in ((ReceivedFile, "received_files"), (SealedExport, "sealed_exports"),
                       (Disclosure, "disclosures")):
        ids = [str(i) for i in db.session.scalars(
            select(model.id).where(model.child_id == merged.id))]
        if ids:
            moved[key] = ids
            db.session.execute(update(model).where(model.child_id == merged.id)
                               .values(child_id=kept.id))
    # Files accepted from another school on the portal follow the child (a file this school
    # sent away is read-only: `portal.access` refuses the merge itself).
    received = [str(i) for i in db.session.scalars(
        select(FileTransfer.id).where(FileTransfer.received_child_id == merged.id))]
    if received:
        moved["file_transfers_received"] = received
        db.session.execute(update(FileTransfer).where(FileTransfer.received_child_id == merged.id)
                           .values(received_child_id=kept.id))
    db.session.flush()
    return moved


def _take_details(kept: Child, merged: Child, chosen: Mapping[str, Any]) -> None:
    """The details chosen, on the kept record; the merged record stays as it was, marked."""
    kept.dob = chosen["dob"]
    kept.send = bool(chosen["send"])
    kept.local_authority_code = chosen["local_authority_code"]
    kept.on_roll = bool(kept.on_roll or merged.on_roll)
    if kept.family_group is None and merged.family_group is not None:
        kept.family_group = merged.family_group
    set_names(kept, given_name=chosen["given_name"] or "", family_name=chosen["family_name"]
              or "", preferred_name=chosen["preferred_name"])
    merged.merged_into_id = kept.id
    set_names(merged, given_name=merged.given_name or "", family_name=merged.family_name or "",
              preferred_name=merged.preferred_name)  # no search terms: never found again
    # The kept child now has both records' incidents; the merged record has none.
    repeat_harm.mark_child(kept)
    repeat_harm.mark_child(merged)


def _tell(user: User, kept: Child, merged: Child, record: ChildMerge, text: str, *,
          picked: Mapping[str, str], moved: Mapping[str, list[str]], now: dt.datetime) -> None:
    """The line in the kept child's chronology and the audit record of the merge."""
    chronology.add_entry(
        kept, CHRONOLOGY_KIND, explanation(merged.reference, now, text),
        author_id=user.id, source=record, occurred_at=now)
    detail: dict[str, str | int | bool | list[str] | None] = {
        "merged_child": str(merged.id), "merged_reference": merged.reference,
        "taken_from_merged": [key for key in DETAILS if picked[key] == "merged"]}
    detail.update({f"moved_{key}": len(ids) for key, ids in sorted(moved.items())})
    audit.record(audit.CHILD_MERGED, org_id=str(kept.school_id), actor_id=user.id,
                 object_type="child", object_id=kept.id, at=now, detail=detail)


def explanation(reference: str, when: dt.datetime, reasons: str) -> str:
    """The line in the kept child's file that says what happened and why; who merged them is
    its author, shown beside it (in its words, a pupil sharing the name hid it as theirs)."""
    from .child_file import when_text

    return f"Record {reference} merged into this file on {when_text(when)}, because: {reasons}"


def merges_into(child: Child) -> list[ChildMerge]:
    """The merges made into `child`, oldest first."""
    return list(db.session.scalars(
        select(ChildMerge).where(ChildMerge.kept_child_id == child.id)
        .order_by(ChildMerge.merged_at)))
