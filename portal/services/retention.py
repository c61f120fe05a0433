"""Retention of children's files (docs/retention.md, rules in portal/rules/retention.py): which
files are due for review, keeping one with reasons, and destroying one.

Destroying a child's file crypto-shreds that child's own key (docs/security.md, "One child's
key"), so every copy of its values (backups included) can never be read again, and empties or
deletes the rows of the file in the live database: the child's details, search terms and blind
indexes, chronology, parent and roll contacts, decisions about the child, the child's words in
incidents, and every concern and incident about this child alone (with their attachments).
What the child shares with other children stays, as part of their files, naming this child
only by reference. A tombstone says what was destroyed (record types and counts), when and by
whom.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import CompoundSelect, delete, exists, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session

from .. import audit, reads
from ..access import allow_retention_destroy
from ..clock import from_uk_local, uk_local
from ..models import (
    Addendum,
    Assessment,
    Attachment,
    Child,
    ChildMerge,
    ChildNameTerm,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    ConcernOutcome,
    ConsultationCall,
    Decision,
    Disclosure,
    Encrypted,
    FileTransfer,
    FormDraft,
    Incident,
    IncidentChild,
    IncidentRevision,
    ParentContact,
    ReceivedFile,
    Referral,
    RetentionReview,
    RetentionTombstone,
    RollContact,
    RollImport,
    RouteHandover,
    School,
    SealedExport,
    TransferAttachment,
    User,
    db,
    keyring,
    utcnow,
)
from ..models.base import child_key_org
from ..models.records import CONCERN_NOT_DEALT_WITH
from ..refusal import Problem, Refused
from ..rules import retention as rules
from ..rules.clock_words import day_words
from ..rules.vocabulary import OTHER_ROUTES_HANDED_ON
from . import chronology
from .file_export import AWAITING_RECEIPT

RETENTION_KEPT: Final = "retention.kept"
RETENTION_DESTROYED: Final = "retention.destroyed"
RETENTION_SETTING: Final = "retention.setting_updated"

#: What a tombstone counts, in the order shown, with plain words.
RECORD_LABELS: Final = {
    "child_details": "The child's details",
    "chronology_entries": "Chronology lines",
    "concerns": "Concerns about this child alone",
    "incidents": "Incidents about this child alone",
    "incident_parts": "The child's part in incidents shared with other children",
    "decisions": "Decisions about this child",
    "parent_contacts": "Records of telling parents or carers",
    "roll_contacts": "Parents and carers from the roll",
    "attachments": "Attachments",
    "retention_reviews": "Earlier retention reviews",
    "merged_records": "Other records of this child merged into this one",
}


# ---------------------------------------------------------------------------------------------
# Facts and the list of files due


@dataclass(frozen=True)
class DueFile:
    child: Child
    schedule: rules.Schedule
    last_kept: RetentionReview | None


def _day(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else uk_local(value).date()


def _last_records(school_id: uuid.UUID) -> dict[uuid.UUID, dt.datetime]:
    """The latest record of each child of the school, over concerns, incidents and lines."""
    latest: dict[uuid.UUID, dt.datetime] = {}
    queries = (
        select(ConcernChild.child_id, func.max(Concern.submitted_at))
        .join(Concern, Concern.id == ConcernChild.concern_id)
        .where(Concern.school_id == school_id, Concern.state != "draft")
        .group_by(ConcernChild.child_id),
        select(IncidentChild.child_id, func.max(Incident.opened_at))
        .join(Incident, Incident.id == IncidentChild.incident_id)
        .where(IncidentChild.school_id == school_id).group_by(IncidentChild.child_id),
        select(ChildRecordEntry.child_id, func.max(ChildRecordEntry.occurred_at))
        .where(ChildRecordEntry.school_id == school_id).group_by(ChildRecordEntry.child_id),
    )
    from ..models.base import UTCDateTime

    as_utc = UTCDateTime()
    for query in queries:
        for child_id, raw in db.session.execute(query):
            if raw is None:
                continue
            if isinstance(raw, str):  # SQLite's max() gives text
                raw = dt.datetime.fromisoformat(raw)
            when = as_utc.process_result_value(raw, None)
            if when is not None and (child_id not in latest or when > latest[child_id]):
                latest[child_id] = when
    return latest


def _latest_reviews(school_id: uuid.UUID) -> dict[uuid.UUID, RetentionReview]:
    reviews = db.session.scalars(
        select(RetentionReview).where(RetentionReview.school_id == school_id)
        .options(reads.people_named(RetentionReview.decided_by))  # (not one statement each)
        .order_by(RetentionReview.decided_at))
    return {r.child_id: r for r in reviews}


def kept_files(school_id: uuid.UUID,
               latest: dict[uuid.UUID, RetentionReview] | None = None
               ) -> list[tuple[RetentionReview, Child]]:
    """The latest "keep" decision of each file of the school still kept (not destroyed or
    merged), with its child, soonest next review first: the retention page shows their
    reasons and dates. `latest`: the school's latest reviews, when the caller read them."""
    if latest is None:
        latest = _latest_reviews(school_id)
    kept_ids = [r.child_id for r in latest.values() if r.outcome == "keep"]
    live = {child.id: child for child in db.session.scalars(select(Child).where(
        Child.id.in_(kept_ids), Child.destroyed_at.is_(None),
        Child.merged_into_id.is_(None)))} if kept_ids else {}
    kept = [(latest[i], live[i]) for i in kept_ids if i in live]
    return sorted(kept, key=lambda pair: pair[0].next_review_on)


@dataclass
class ReviewPage:
    """The retention page: the files due now, each with what stops it being destroyed; those
    coming up within the year; the files kept, with their children; the files destroyed."""

    due: list[tuple[DueFile, list[str]]]
    coming: list[DueFile]
    kept: list[tuple[RetentionReview, Child]]
    destroyed: list[RetentionTombstone]


def review_page(school: School, today: dt.date) -> ReviewPage:
    """What the retention page lists, in a fixed few statements however many files (issue 15:
    each due file's blockers took five, each kept file's child one)."""
    latest = _latest_reviews(school.id)
    scheduled = files_scheduled(school, today + dt.timedelta(days=COMING_UP_DAYS), latest)
    due = [d for d in scheduled if d.schedule.review_on <= today]
    blockers = destroy_blockers_of(db.session, [d.child for d in due])
    return ReviewPage(due=[(d, blockers[d.child.id]) for d in due],
                      coming=[d for d in scheduled if d.schedule.review_on > today],
                      kept=kept_files(school.id, latest), destroyed=tombstones(school.id))


def files_due(school: School, today: dt.date) -> list[DueFile]:
    """The school's children's files whose review date has come, oldest date first. Children
    already destroyed or merged into another record are not listed."""
    return files_scheduled(school, today)


# How far ahead the retention page lists the files coming up for review.
COMING_UP_DAYS: Final = 365


def files_scheduled(school: School, until: dt.date,
                    reviews: dict[uuid.UUID, RetentionReview] | None = None) -> list[DueFile]:
    """The school's children's files whose review date is `until` or sooner (`files_due`; the
    retention page also lists those coming up), soonest first. `reviews`: the school's latest
    reviews, when the caller read them."""
    with_incident = set(db.session.scalars(
        select(IncidentChild.child_id).where(IncidentChild.school_id == school.id)))
    with_concern = set(db.session.scalars(
        select(ConcernChild.child_id).join(Concern, Concern.id == ConcernChild.concern_id)
        .where(Concern.school_id == school.id, Concern.state != "draft")))
    # A file received from an earlier school (on the portal or not) is a child protection
    # file here too, even with no incident of this school's own.
    with_incident |= set(db.session.scalars(select(FileTransfer.received_child_id).where(
        FileTransfer.to_school_id == school.id, FileTransfer.received_child_id.is_not(None))))
    with_incident |= set(db.session.scalars(
        select(ReceivedFile.child_id).where(ReceivedFile.school_id == school.id)))
    # A concern handed to someone outside the school makes a child protection file too.
    handed_on = set(db.session.scalars(
        select(ConcernChild.child_id)
        .join(ConcernOutcome, ConcernOutcome.concern_id == ConcernChild.concern_id)
        .where(ConcernOutcome.school_id == school.id,
               ConcernOutcome.route.in_(sorted(OTHER_ROUTES_HANDED_ON)))))
    latest = _last_records(school.id)
    if reviews is None:
        reviews = _latest_reviews(school.id)
    due: list[DueFile] = []
    children = db.session.scalars(select(Child).where(
        Child.school_id == school.id, Child.destroyed_at.is_(None),
        Child.merged_into_id.is_(None),
        Child.id.in_(with_concern | with_incident)))
    for child in children:
        review = reviews.get(child.id)
        facts = rules.FileFacts(
            date_of_birth=child.dob, has_incident=child.id in with_incident,
            has_concern=child.id in with_concern, last_record_on=_day(latest.get(child.id)),
            kept_until=review.next_review_on if review else None,
            handed_on=child.id in handed_on)
        found = rules.schedule(facts, school.nfa_retention_months)
        if found is not None and found.review_on <= until:
            due.append(DueFile(child, found, review))
    due.sort(key=lambda d: (d.schedule.review_on, d.child.reference))
    return due


def schedule_of(child: Child, today: dt.date) -> DueFile | None:
    """The child's file and its schedule if it is due for review today, else None."""
    school = db.session.get(School, child.school_id)
    if school is None or child.destroyed_at is not None:
        return None
    return next((d for d in files_due(school, today) if d.child.id == child.id), None)


# ---------------------------------------------------------------------------------------------
# What stops a file being destroyed


# An incident still open, the one rule: `open_incidents` lists a child's, `destroy_blockers_of`
# asks which children have one.
_INCIDENT_OPEN: Final = Incident.state == "open"


def _open_incidents_of(child: Child) -> Any:
    """The incidents about the child still open."""
    return select(Incident).where(
        Incident.id.in_(select(IncidentChild.incident_id)
                        .where(IncidentChild.child_id == child.id)),
        _INCIDENT_OPEN)


def open_incidents(session: Session | Any, child: Child) -> list[Incident]:
    """The incidents about the child still open, oldest first: one stops their file being
    destroyed, and the page saying so links to each."""
    return list(session.scalars(_open_incidents_of(child).order_by(Incident.opened_at)))


def destroy_blockers(session: Session | Any, child: Child) -> list[str]:
    """Every reason, in plain words, that the child's file cannot be destroyed now (empty: it
    can). The one place for these checks (`destroy_blockers_of`); a transfer in progress is
    added there too."""
    return destroy_blockers_of(session, [child])[child.id]


# What stops a file being destroyed, in the order a DSL is told.
_BLOCKED_BY: Final = {
    "referral": "A referral about this child is still open with the local authority",
    "incident": "An incident about this child is still open",
    "concern": "A concern about this child has not been dealt with yet",
    "sending": "The file has been sent to the child's new school and they have not accepted "
               "it yet",
    "sealed": "A sealed copy of the file is waiting for the new school to confirm receipt",
}


def destroy_blockers_of(session: Session | Any, children: Sequence[Child]
                        ) -> dict[uuid.UUID, list[str]]:
    """`destroy_blockers` of each of `children`, by child id: one statement for them all (the
    retention page lists every due file with its reasons)."""
    from .referrals import _settled  # the one definition of a referral needing nothing more

    found: dict[uuid.UUID, set[str]] = {child.id: set() for child in children}
    if children:
        ids = list(found)
        kinds: CompoundSelect[Any] = union_all(
            select(literal_column("'referral'"), IncidentChild.child_id)
            .join(Referral, Referral.incident_id == IncidentChild.incident_id)
            .where(IncidentChild.child_id.in_(ids), ~_settled()),
            select(literal_column("'incident'"), IncidentChild.child_id)
            .join(Incident, Incident.id == IncidentChild.incident_id)
            .where(IncidentChild.child_id.in_(ids), _INCIDENT_OPEN),
            select(literal_column("'concern'"), ConcernChild.child_id)
            .join(Concern, Concern.id == ConcernChild.concern_id)
            .where(ConcernChild.child_id.in_(ids), Concern.state.in_(CONCERN_NOT_DEALT_WITH)),
            select(literal_column("'sending'"), FileTransfer.child_id)
            .where(FileTransfer.child_id.in_(ids), FileTransfer.state == "sent"),
            select(literal_column("'sealed'"), SealedExport.child_id)
            .where(SealedExport.child_id.in_(ids), AWAITING_RECEIPT))
        for kind, child_id in session.execute(kinds):
            found[child_id].add(kind)
    out: dict[uuid.UUID, list[str]] = {}
    for child in children:
        reasons = [words for kind, words in _BLOCKED_BY.items() if kind in found[child.id]]
        if child.merged_into_id is not None:
            reasons.append("This record was merged into another: review that file instead")
        if child.destroyed_at is not None:
            reasons.append("This file has already been destroyed")
        out[child.id] = reasons
    return out


def set_nfa_months(user: User, school: School, months: int) -> None:
    """The school's months to keep a file of concerns that led to nothing (flushed, audited)."""
    problem = rules.nfa_months_problem(months)
    if problem:
        raise Refused(problem, field="nfa_months")
    before = school.nfa_retention_months
    school.nfa_retention_months = months
    db.session.flush()
    audit.record(RETENTION_SETTING, org_id=str(school.id), actor_id=user.id,
                 object_type="school", object_id=school.id,
                 detail={"nfa_retention_months": months, "was": before})


# ---------------------------------------------------------------------------------------------
# Keep

#: The chronology line a decision to keep the file writes.
KEPT_AFTER_REVIEW: Final = "kept_after_review"


def keep(user: User, child: Child, reasons: str, next_review: dt.date | None, *,
         today: dt.date, now: dt.datetime | None = None) -> RetentionReview:
    """Record a DSL's decision to keep the file until `next_review`, with reasons (flushed, not
    committed). Refused with the rule's problems if the reasons or date are missing."""
    problems = rules.keep_problems(reasons, next_review, today)
    if problems or next_review is None:
        raise Refused(*(Problem("", field, message) for field, message in problems.items()))
    if child.destroyed_at is not None:
        raise Refused("This file has already been destroyed")
    now = now or utcnow()
    review = RetentionReview(school_id=child.school_id, child_id=child.id, outcome="keep",
                             next_review_on=next_review, decided_by_id=user.id, decided_at=now)
    review.reasons = reasons.strip()
    db.session.add(review)
    db.session.flush()
    # On the child's page as a line of the chronology (no query of its own: issue 15).
    chronology.add_entry(
        child, KEPT_AFTER_REVIEW,
        f"Kept after a retention review. Reasons: {review.reasons} "
        f"Next review {day_words(next_review)}.", author_id=user.id, occurred_at=now,
        source=review)
    audit.record(RETENTION_KEPT, org_id=str(child.school_id), actor_id=user.id,
                 object_type="child", object_id=child.id, at=now,
                 detail={"next_review_on": next_review.isoformat()})
    return review


# ---------------------------------------------------------------------------------------------
# Destroy


def _encrypted_columns(model: type[Any]) -> list[str]:
    columns = {value.column for klass in model.__mro__ for value in vars(klass).values()
               if isinstance(value, Encrypted)}
    return sorted(columns)


def _empty(row: Any) -> None:
    """Delete every encrypted value of the row (the row stays, with its codes and dates)."""
    for column in _encrypted_columns(type(row)):
        setattr(row, column, None)


@dataclass
class Plan:
    """What destroying a child's file would destroy (ids by kind, counted on the confirm page
    and in the tombstone)."""

    sole_concerns: list[uuid.UUID] = field(default_factory=list)
    sole_incidents: list[uuid.UUID] = field(default_factory=list)
    shared_incident_parts: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _sole(link_model: Any, parent_col: Any, child: Child) -> list[uuid.UUID]:
    """Ids of concerns (incidents) naming this child and no other."""
    mine = select(parent_col).where(link_model.child_id == child.id)
    others = select(parent_col).where(link_model.child_id != child.id)
    return list(db.session.scalars(
        select(parent_col).where(parent_col.in_(mine), ~parent_col.in_(others)).distinct()))


def plan(child: Child) -> Plan:
    """What `destroy` would destroy, counted by record type."""
    sole_concerns = _sole(ConcernChild, ConcernChild.concern_id, child)
    sole_incidents = _sole(IncidentChild, IncidentChild.incident_id, child)
    parts = db.session.scalar(select(func.count()).select_from(IncidentChild).where(
        IncidentChild.child_id == child.id,
        IncidentChild.incident_id.not_in(sole_incidents))) or 0

    def count(query: Any) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0

    attachments = count(select(Attachment.id).where(or_(
        Attachment.concern_id.in_(sole_concerns), Attachment.incident_id.in_(sole_incidents))))
    counts = {
        "child_details": 1,
        "chronology_entries": count(select(ChildRecordEntry.id)
                                    .where(ChildRecordEntry.child_id == child.id)),
        "concerns": len(sole_concerns),
        "incidents": len(sole_incidents),
        "incident_parts": parts,
        "decisions": count(select(Decision.id).where(Decision.child_id == child.id)),
        "parent_contacts": count(select(ParentContact.id)
                                 .where(ParentContact.child_id == child.id)),
        "roll_contacts": count(select(RollContact.id).where(RollContact.child_id == child.id)),
        "attachments": attachments,
        "retention_reviews": count(select(RetentionReview.id)
                                   .where(RetentionReview.child_id == child.id)),
        "merged_records": len(_merged_into(child)),
    }
    return Plan(sole_concerns, sole_incidents, parts, {k: v for k, v in counts.items() if v})


@dataclass
class Destroyed:
    tombstone: RetentionTombstone
    #: Attachment files to remove once the transaction is committed (`remove_files`).
    files: list[Path]


def destroy(user: User, child: Child, *, today: dt.date, store: Any,
            now: dt.datetime | None = None) -> Destroyed:
    """Destroy the child's file (flushed, not committed; then `remove_files`). Refused with the
    reasons of `destroy_blockers`, or if the file is not due for review."""
    blockers = destroy_blockers(db.session, child)
    if blockers:
        raise Refused(blockers[0])
    due = schedule_of(child, today)
    if due is None:
        raise Refused("This file is not due for review")
    now = now or utcnow()
    found = plan(child)
    # A file sent to another school is read-only (portal.access), but its retention still runs.
    with allow_retention_destroy():
        files = _destroy_rows(child, found, store, now)

    # Crypto-shredding: each record's key is destroyed, so any copy of the values above (a
    # database dump, a disk block not yet reused) can never be read again.
    ring = keyring()
    for record in [child, *_merged_into(child)]:
        ring.shred_org(child_key_org(record.id))

    tombstone = RetentionTombstone(
        school_id=child.school_id, child_id=child.id, child_reference=child.reference,
        destroyed_by_id=user.id, destroyed_at=now, counts=found.counts,
        review_due_on=due.schedule.review_on)
    db.session.add(tombstone)
    db.session.flush()
    detail: dict[str, str | int | bool | list[str] | None] = dict(found.counts)
    detail["reference"] = child.reference
    audit.record(RETENTION_DESTROYED, org_id=str(child.school_id), actor_id=user.id,
                 object_type="child", object_id=child.id, at=now, detail=detail)
    return Destroyed(tombstone, files)


def _destroy_rows(child: Child, found: Plan, store: Any, now: dt.datetime) -> list[Path]:
    """Empty or delete every row of the file (flushed); the attachment files to remove after
    the commit."""
    files: list[Path] = []
    # Concerns and incidents about this child alone: every value of theirs goes, with their
    # attachments. Their rows stay, emptied, where other records point at them.
    concern_ids, incident_ids = found.sole_concerns, found.sole_incidents
    emptied: list[uuid.UUID] = []
    sole_rows: tuple[tuple[Any, Any], ...] = (
        (Concern, Concern.id.in_(concern_ids)),
        (ConcernOutcome, ConcernOutcome.concern_id.in_(concern_ids)),
        (Incident, Incident.id.in_(incident_ids)),
        (IncidentRevision, IncidentRevision.incident_id.in_(incident_ids)),
        (Assessment, Assessment.incident_id.in_(incident_ids)),
        (Decision, Decision.incident_id.in_(incident_ids)),
        (ConsultationCall, ConsultationCall.incident_id.in_(incident_ids)),
        (RouteHandover, RouteHandover.incident_id.in_(incident_ids)),
        (Attachment, or_(Attachment.concern_id.in_(concern_ids),
                         Attachment.incident_id.in_(incident_ids))),
    )
    for model, where in sole_rows:
        row: Any
        for row in db.session.scalars(select(model).where(where)):
            _empty(row)
            emptied.append(row.id)
            if isinstance(row, Attachment):
                files.append(Path(store.path(row.store_name)))

    # The child's own file, and every record of the same child merged into it (a merge leaves
    # the other record's details on its row and in the merge's note).
    records = [child, *_merged_into(child)]
    for record in records:
        _scrub_roll_imports(record)  # before its UPN is gone
    for record in records:
        emptied.extend(_destroy_own(record, now))
    for merge in db.session.scalars(select(ChildMerge).where(or_(
            ChildMerge.kept_child_id.in_([r.id for r in records]),
            ChildMerge.merged_child_id.in_([r.id for r in records])))):
        _empty(merge)
    # The files that came with a file from an earlier school.
    ids = [r.id for r in records]
    for attachment in db.session.scalars(select(Attachment).where(Attachment.id.in_(
            select(ReceivedFile.attachment_id).where(ReceivedFile.child_id.in_(ids))))):
        _empty(attachment)
        emptied.append(attachment.id)
        files.append(Path(store.path(attachment.store_name)))
    for copy in db.session.scalars(select(TransferAttachment).where(
            TransferAttachment.transfer_id.in_(select(FileTransfer.id).where(
                FileTransfer.received_child_id.in_(ids))))):
        _empty(copy)
        files.append(Path(store.path(copy.store_name)))
    # Corrections of anything destroyed.
    for chunk_start in range(0, len(emptied), 500):
        chunk = emptied[chunk_start:chunk_start + 500]
        for addendum in db.session.scalars(select(Addendum).where(Addendum.target_id.in_(chunk))):
            _empty(addendum)
    db.session.flush()

    return files


def _merged_into(child: Child) -> list[Child]:
    """Every record merged into this child's, directly or along a chain of merges."""
    found: list[Child] = []
    frontier = [child.id]
    seen = {child.id}
    while frontier:
        more = list(db.session.scalars(select(Child).where(
            Child.merged_into_id.in_(frontier), Child.school_id == child.school_id)))
        more = [c for c in more if c.id not in seen]
        seen.update(c.id for c in more)
        found.extend(more)
        frontier = [c.id for c in more]
    return found


def _destroy_own(child: Child, now: dt.datetime) -> list[uuid.UUID]:
    """Empty or delete every row of the child's own file (under its key), its search terms,
    blind indexes and drafts; the ids of the rows emptied or deleted."""
    ids: list[uuid.UUID] = []
    for part in db.session.scalars(select(IncidentChild).where(
            IncidentChild.child_id == child.id)):
        _empty(part)  # kept as a row: the shared incident still had this child in it
    for decision in db.session.scalars(select(Decision).where(Decision.child_id == child.id)):
        _empty(decision)  # kept as a row: a later review may name it
        ids.append(decision.id)
    owned: tuple[Any, ...] = (ChildRecordEntry, ParentContact, RollContact, RetentionReview)
    for model in owned:
        ids.extend(db.session.scalars(select(model.id).where(model.child_id == child.id)))
        db.session.execute(delete(model).where(model.child_id == child.id))
    # Copies of the file: sealed for a school not on the portal, released for a subject access
    # request or the police, received from the previous school or from a school on the portal.
    copies: tuple[Any, ...] = (SealedExport, Disclosure, ReceivedFile)
    for model in copies:
        row: Any
        for row in db.session.scalars(select(model).where(model.child_id == child.id)):
            _empty(row)
            ids.append(row.id)
    for transfer in db.session.scalars(select(FileTransfer).where(
            FileTransfer.received_child_id == child.id)):
        _empty(transfer)
        ids.append(transfer.id)
    for draft in db.session.scalars(select(FormDraft).where(
            FormDraft.form_key.contains(str(child.id)))):
        db.session.delete(draft)
    db.session.execute(delete(ChildNameTerm).where(ChildNameTerm.child_id == child.id))
    _empty(child)
    child.name_index = ""
    child.family_name_index = ""
    child.former_family_indexes = None
    child.upn_index = None
    child.roll_digest = None
    child.family_group = None
    child.local_authority_code = None
    child.destroyed_at = now
    ids.append(child.id)
    return ids


def _scrub_roll_imports(child: Child) -> None:
    """Take the child's row out of any roll import still holding its rows (one previewed and
    not yet confirmed, or interrupted: a finished import keeps none)."""
    upn = (child.upn or "").casefold()
    for roll_import in db.session.scalars(select(RollImport).where(
            RollImport.school_id == child.school_id, RollImport.rows_enc.is_not(None))):
        rows = json.loads(roll_import.rows or "[]")
        kept = [row for row in rows
                if not (upn and str(row.get("upn", "")).casefold() == upn)
                and row.get("link_child_id") != str(child.id)]
        if len(kept) != len(rows):
            roll_import.rows = json.dumps(kept, ensure_ascii=False)


def remove_files(files: Sequence[Path]) -> None:
    """Delete destroyed attachments' files (after the commit: a failed commit keeps them)."""
    for path in files:
        path.unlink(missing_ok=True)


def tombstones(school_id: uuid.UUID) -> list[RetentionTombstone]:
    return list(db.session.scalars(
        select(RetentionTombstone).where(RetentionTombstone.school_id == school_id)
        .order_by(RetentionTombstone.destroyed_at.desc())))


# What destroying will destroy, as sentences of the confirm page: (one, many) with {n}.
DESTROY_WORDS: Final = {
    "child_details": ("The child's details: their name, date of birth and everything the roll "
                      "holds about them.", None),
    "chronology_entries": ("{n} line of their chronology.", "{n} lines of their chronology."),
    "concerns": ("{n} concern about this child alone.", "{n} concerns about this child alone."),
    "incidents": ("{n} incident about this child alone.",
                  "{n} incidents about this child alone."),
    "incident_parts": ("Their part in {n} incident shared with other children.",
                       "Their part in {n} incidents shared with other children."),
    "decisions": ("{n} decision about this child.", "{n} decisions about this child."),
    "parent_contacts": ("{n} record of telling parents or carers.",
                        "{n} records of telling parents or carers."),
    "roll_contacts": ("{n} parent or carer from the roll.",
                      "{n} parents or carers from the roll."),
    "attachments": ("{n} attached file.", "{n} attached files."),
    "retention_reviews": ("{n} earlier retention review.", "{n} earlier retention reviews."),
    "merged_records": ("{n} other record of this child merged into this one.",
                       "{n} other records of this child merged into this one."),
}


def destroy_sentences(counts: dict[str, int]) -> list[str]:
    """What destroying will destroy, in plain sentences ("3 lines of their chronology.")."""
    out = []
    for key, (one, many) in DESTROY_WORDS.items():
        n = counts.get(key) or 0
        if n:
            out.append((one if n == 1 or many is None else many).format(n=n))
    return out


def count_lines(counts: dict[str, int]) -> list[str]:
    """A tombstone's counts in plain words ("Chronology lines: 12"); the child's details, one
    set of them, without a count (walk 8: "The child's details: 1")."""
    return [label if key == "child_details" else f"{label}: {counts[key]}"
            for key, label in RECORD_LABELS.items() if counts.get(key)]


# ---------------------------------------------------------------------------------------------
# The monthly reminder


def reminders_due(*, now: dt.datetime | None = None) -> list[tuple[School, int]]:
    """Each active school to remind this month (not reminded since the month began; the audit
    trail remembers the last) with how many of its files are due for review (reads only: the
    email is queued and sent by `notify.send_retention_reminders`)."""
    now = now or utcnow()
    today = uk_local(now).date()
    month_start = from_uk_local(uk_local(now).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0))
    out: list[tuple[School, int]] = []
    for school in db.session.scalars(select(School).where(School.active.is_(True))):
        if _reminded_since(school.id, month_start):
            continue
        due = files_due(school, today)
        if due:
            out.append((school, len(due)))
    return out


def _reminded_since(school_id: uuid.UUID, since: dt.datetime) -> bool:
    from ..models import OutboxMessage

    return bool(db.session.scalar(select(exists().where(
        OutboxMessage.org_id == str(school_id), OutboxMessage.kind == "retention_reminder",
        OutboxMessage.created_at >= since))))
