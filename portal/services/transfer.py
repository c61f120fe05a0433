"""Sending a child's protection file to their next school on the portal (issue 16, item 1).

Planned, then sent: `plan_transfer` reads the whole file as the sending DSL sees it (the
chronology, the child's part in each incident, decisions, calls, referrals and their answers,
handovers, corrections and the files, with other children as initials and reference, R6) into a
frozen `TransferPlan`; the confirm page shows what will go, and `send` writes it. Everything is
read in plain words through the model descriptors and written again through them under the
receiving school's key (`FileTransfer.packet`, `TransferAttachment`): ciphertext is never copied.

The receiving school's DSLs are emailed (a link, nothing about the child) and see it on their
dashboard; a DSL accepts it into their roll, matching a pupil they already have (the roll's UPN,
then the duplicate check of `services.children`) or adding one. The acceptance is the receipt:
who and when, shown to both schools. Both see the 5-school-day clock
(`portal.rules.school_days`, the sending school's term dates). The sending school's copy is
read-only from the moment it is sent (`portal.access.read_only_reason`).

Functions flush, never commit; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from .. import audit, wording
from ..access import (
    attachments_visible_to,
    check_writable,
    referral_responses_visible_to,
    referrals_visible_to,
    school_row_visible_bound,
    school_rows_visible_to,
    transfer_visible_bound,
    transfers_visible_to,
)
from ..attachments import ALLOWED_TYPES, AttachmentStore, size_text
from ..clock import uk_local
from ..crypto.stream import ChunkReader
from ..kept import kept
from ..models import (
    Attachment,
    Child,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    ConsultationCall,
    FileTransfer,
    Incident,
    IncidentChild,
    LocalAuthority,
    Referral,
    ReferralResponse,
    RouteHandover,
    School,
    SchoolTerm,
    SealedExport,
    TransferAttachment,
    User,
    db,
    keyring,
)
from ..models.records import CONCERN_NOT_DEALT_WITH
from ..models.transfer import WITHDRAWN
from ..reads import per_request
from ..refusal import Problem, Refused
from ..rules import school_days
from ..rules.school_days import Term
from ..rules.vocabulary import REFERRAL_OUTCOME_LABELS, ROUTE_LABELS
from . import chronology
from .attachments import clean_filename
from .child_file import ChildFile, build_whole_file
from .children import add_child, add_earlier_names, possible_duplicates
from .file_export import (
    AWAITING_RECEIPT,
    ChildPanels,
    ExportRow,
    child_panels_of,
    child_panels_query,
    event_data,
    export_rows_of,
)
from .referral_files import discard

__all__ = ["WITHDRAWN", "clean_filename", "discard"]  # for the views
from .roll import UPN_INDEX

PACKET_VERSION: Final = 1
RULE: Final = "transfer"
CHILD_FIELDS: Final = ("given_name", "family_name", "preferred_name", "upn", "sex", "year_group",
                       "address", "first_language", "ethnicity", "religion", "gp",
                       "other_agencies", "home_authority_text")


# ---------------------------------------------------------------------------------------------
# Term dates and the clock


def terms_of(school_id: uuid.UUID) -> list[SchoolTerm]:
    return list(db.session.scalars(select(SchoolTerm).where(SchoolTerm.school_id == school_id)
                                   .order_by(SchoolTerm.starts_on)))


def _rule_terms(school_id: uuid.UUID) -> list[Term]:
    return [Term(t.starts_on, t.ends_on, t.half_term_starts, t.half_term_ends)
            for t in terms_of(school_id)]


def add_term(user: User, school: School, term: Term, now: dt.datetime) -> SchoolTerm:
    """Record one term of the school's year (flushed, audited); Refused when wrong."""
    problems = [Problem(RULE, f, m) for f, m in school_days.term_problems(term)]
    if not problems and any(term.starts_on <= t.ends_on and t.starts_on <= term.ends_on
                            for t in _rule_terms(school.id)):
        problems.append(Problem(RULE, "starts_on", "This term overlaps a term already entered"))
    if problems:
        raise Refused(*problems)
    row = SchoolTerm(school_id=school.id, starts_on=term.starts_on, ends_on=term.ends_on,
                     half_term_starts=term.half_term_starts, half_term_ends=term.half_term_ends)
    db.session.add(row)
    audit.record(audit.TERMS_UPDATED, org_id=str(school.id), actor_id=user.id, at=now,
                 object_type="school", object_id=school.id, detail={"change": "added"})
    db.session.flush()
    return row


def remove_term(user: User, school: School, term_id: uuid.UUID, now: dt.datetime) -> bool:
    row = db.session.get(SchoolTerm, term_id)
    if row is None or row.school_id != school.id:
        return False
    db.session.delete(row)
    audit.record(audit.TERMS_UPDATED, org_id=str(school.id), actor_id=user.id, at=now,
                 object_type="school", object_id=school.id, detail={"change": "removed"})
    db.session.flush()
    return True


@dataclass(frozen=True)
class Clock:
    """Where a transfer stands against the 5-school-day clock."""

    due_on: dt.date
    received: bool
    overdue: bool
    days_left: int

    @property
    def words(self) -> str:
        due = wording.day(self.due_on)
        if self.received:
            return f"Was due by {due}"
        if self.overdue:
            return f"It was due by {due}"  # shown after an "Overdue" tag: not twice
        if self.days_left == 0:
            return f"Due today, {due}"
        plural = "day" if self.days_left == 1 else "days"
        return f"Due by {due} ({self.days_left} school {plural} left)"


def clock_for(transfer: FileTransfer, today: dt.date,
              terms: list[Term] | None = None) -> Clock:
    """The clock of the sending school (its term dates, `terms` when the caller loaded them):
    due on the fifth school day after the child moved; overdue when not yet accepted after
    that day."""
    if terms is None:
        terms = _rule_terms(transfer.from_school_id)
    due = school_days.transfer_due_on(transfer.moved_on, terms)
    received = transfer.state == "accepted"
    end = uk_local(transfer.accepted_at).date() if transfer.accepted_at else today
    return Clock(due_on=due, received=received, overdue=school_days.is_overdue(end, due),
                 days_left=0 if received else school_days.school_days_left(today, due, terms))


# ---------------------------------------------------------------------------------------------
# Planning and sending


def destinations(school_id: uuid.UUID) -> list[School]:
    """The other active schools on the portal, by name."""
    return list(db.session.scalars(select(School).where(School.active.is_(True),
                                                        School.id != school_id)
                                   .order_by(School.name)))


def destination_of(child: Child) -> School | None:
    """The school on the portal a leaver moved to, as the roll gives it (by URN), if any."""
    urn = (child.destination_school or "").strip()
    if child.roll_status != "left" or not urn:
        return None
    return db.session.scalar(select(School).where(School.urn == urn, School.active.is_(True),
                                                  School.id != child.school_id))


@dataclass(frozen=True)
class TransferPlan:
    """What a transfer will send, frozen: the inputs (child, receiving school, the day they
    moved), the packet as JSON (plain words; encrypted only by `send`), the sending school's
    attachments to copy, and counts for the confirm page."""

    child_id: uuid.UUID
    from_school_id: uuid.UUID
    to_school_id: uuid.UUID
    to_school_name: str
    moved_on: dt.date
    packet_json: str
    attachment_ids: tuple[uuid.UUID, ...]
    # Files that came to this school with earlier transfers (their `TransferAttachment` ids).
    copy_ids: tuple[uuid.UUID, ...]
    line_count: int
    earlier_count: int
    call_count: int
    referral_count: int
    answer_count: int

    @property
    def digest(self) -> str:
        """Changes when anything that would be sent changes (checked again when sending)."""
        text = json.dumps([self.packet_json, [str(i) for i in self.attachment_ids],
                           [str(i) for i in self.copy_ids], str(self.to_school_id),
                           self.moved_on.isoformat()])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def file_count(self) -> int:
        return len(self.attachment_ids) + len(self.copy_ids)

    @property
    def what_goes(self) -> list[str]:
        """The confirm page's list, in words."""
        count = wording.counted
        # What there is none of is said once, not as "0 calls" (a walk: read as machine output).
        none = [what for number, what in (
            (self.call_count, "calls to a consultation line"), (self.referral_count, "referrals"),
            (self.file_count, "attached files")) if not number]
        none_words = ", ".join(none[:-1]) + " or " + none[-1] if len(none) > 1 else "".join(none)
        answers = (count(self.answer_count, "answer") + " from the local authority"
                   if self.answer_count else "no answer from the local authority yet")
        return [
            "The child's details: names, date of birth, the school roll's details",
            count(self.line_count, "line", "lines") + " of the chronology: concerns, the "
            "child's part in each incident, decisions and notes, with every correction",
            *([count(self.call_count, "call") + " to a consultation line"]
              if self.call_count else []),
            *([count(self.referral_count, "referral") + " to the local authority, with "
               + answers] if self.referral_count else []),
            *([count(self.earlier_count, "line", "lines") + " of the file that came from the "
               "child's earlier schools"] if self.earlier_count else []),
            *([count(self.file_count, "attached file")] if self.file_count else []),
            *([f"No {none_words}"] if none else []),
            "Other children appear only as initials and reference number",
        ]


def _iso(at: dt.datetime | dt.date | None) -> str | None:
    return at.isoformat() if at is not None else None


def _line(kind: str, at: dt.datetime, heading: str, by: str | None,
          items: Iterable[tuple[str, str | None]], reference: str | None) -> dict[str, Any]:
    """A call, referral, answer or handover as a line of the packet, in the shape of
    `file_export.event_data` (the sealed file's JSON): one shape for the file as data."""
    return {"id": None, "kind": kind, "at": _iso(at), "when": wording.when(at),
            "heading": heading, "recorded_by": by, "incident_reference": reference,
            "from_previous_school": False,
            "items": [{"label": k, "text": v, "corrections": []} for k, v in items if v],
            "other_children": [], "notes": [], "corrections": [], "files": []}


def _names(ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name)
                                   .where(User.id.in_(wanted))).all())


def _authority_names() -> dict[Any, str]:
    rows = db.session.execute(select(LocalAuthority.id, LocalAuthority.code,
                                     LocalAuthority.name)).all()
    out: dict[Any, str] = {}
    for ident, code, name in rows:
        out[ident] = name
        out[code] = name
    return out


def _chronology_lines(child: Child, lines: Iterable[dict[str, Any]],
                      sources: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The line of the packet (`lines`, the file's own) of the chronology entry each of
    `sources` (calls, referrals, answers, handovers) has in `child`'s chronology: a record
    already there goes once, not a second time as a line of its own (a walk: each call was
    shown twice to the receiving school). A child added to an incident after a call has no
    line for it: that call goes as a line of its own."""
    wanted = list(sources)
    if not wanted:
        return {}
    by_id = {line["id"]: line for line in lines}
    entries = db.session.execute(select(ChildRecordEntry.source_id, ChildRecordEntry.id).where(
        ChildRecordEntry.school_id == child.school_id, ChildRecordEntry.child_id == child.id,
        ChildRecordEntry.source_id.in_(wanted)))
    return {source: by_id[str(entry)] for source, entry in entries
            if source is not None and str(entry) in by_id}


def _records_about(user: User, child: Child, ids: list[uuid.UUID]) -> tuple[
        list[ConsultationCall], list[Referral], list[ReferralResponse], list[RouteHandover]]:
    """The calls, referrals, answers for `child` and handovers of the incidents `ids`."""
    calls = list(db.session.scalars(school_rows_visible_to(user, ConsultationCall)
                                    .where(ConsultationCall.incident_id.in_(ids))))
    referrals = list(db.session.scalars(referrals_visible_to(user)
                                        .where(Referral.incident_id.in_(ids))))
    answers = [a for a in db.session.scalars(
        referral_responses_visible_to(user)
        .where(ReferralResponse.referral_id.in_([r.id for r in referrals])))
        if a.child_ref in (None, child.reference)]
    handovers = list(db.session.scalars(school_rows_visible_to(user, RouteHandover)
                                        .where(RouteHandover.incident_id.in_(ids))))
    return calls, referrals, answers, handovers


def _more_lines(user: User, child: Child, record: ChildFile, lines: list[dict[str, Any]],
                redact: Callable[[str | None], str]) -> tuple[list[dict[str, Any]], int, int, int]:
    """Calls, referrals with their answers for this child, and handovers of the incidents the
    child is part of, as chronology lines (free text redacted as the file redacts it), those
    not already in the file's own `lines` (an answer's reasons are added to its line there
    when that line does not hold them: one written before they were)."""
    incidents = {e.id: e.incident_reference for e in record.events if e.kind == "incident"}
    if not incidents:
        return [], 0, 0, 0
    calls, referrals, answers, handovers = _records_about(user, child, list(incidents))
    in_file = _chronology_lines(child, lines, [*(c.id for c in calls), *(r.id for r in referrals),
                                               *(a.id for a in answers),
                                               *(h.id for h in handovers)])
    names = _names([c.recorded_by_id for c in calls] + [r.sent_by_id for r in referrals]
                   + [a.recorded_by_id for a in answers] + [h.recorded_by_id for h in handovers])
    authorities = _authority_names()
    more = []
    for call in (c for c in calls if c.id not in in_file):
        more.append(_line(
            "call", call.called_at,
            f"Call to {authorities.get(call.local_authority_code, 'a consultation line')}",
            names.get(call.recorded_by_id),
            [("Spoke to", redact(call.spoke_to)), ("Advice", redact(call.advice)),
             ("Decision", redact(call.decision)), ("Reasons", redact(call.reasons))],
            incidents.get(call.incident_id)))
    by_referral = {r.id: r for r in referrals}
    for referral in (r for r in referrals if r.id not in in_file):
        more.append(_line(
            "referral", referral.sent_at,
            f"Referral to {authorities.get(referral.local_authority_id, 'a local authority')}",
            names.get(referral.sent_by_id), [], incidents.get(referral.incident_id)))
    for answer in answers:
        reasons = redact(answer.reasons)
        if answer.id in in_file:
            items = in_file[answer.id]["items"]
            # (lines written before the line held the reasons: added to it)
            if reasons and not any(reasons in item["text"] for item in items):
                items.append({"label": "Reasons", "text": reasons, "corrections": []})
            continue
        referral = by_referral[answer.referral_id]
        outcome = REFERRAL_OUTCOME_LABELS.get(answer.outcome, wording.label(answer.outcome,
                                                                            "outcome"))
        more.append(_line(
            "answer", answer.recorded_at,
            f"Answer from {authorities.get(referral.local_authority_id, 'the authority')}: "
            f"{outcome}", names.get(answer.recorded_by_id),
            [("Reasons", reasons)], incidents.get(referral.incident_id)))
    for handover in (h for h in handovers if h.id not in in_file):
        more.append(_line(
            "handover", handover.happened_at,
            ROUTE_LABELS.get(handover.route, "Handed over"), names.get(handover.recorded_by_id),
            [("Who was told", redact(handover.recipient or handover.force)),
             ("Reference", redact(handover.reference))],
            incidents.get(handover.incident_id)))
    return more, len(calls), len(referrals), len(answers)


def _child_details(child: Child) -> dict[str, Any]:
    details: dict[str, Any] = {name: getattr(child, name) for name in CHILD_FIELDS}
    details.update(reference=child.reference, dob=_iso(child.dob), send=child.send,
                   interpreter=child.interpreter,
                   local_authority_code=child.local_authority_code,
                   # The next school finds them, and hides them in other files, by these too.
                   earlier_names=[list(name) for name in child.earlier_names])
    return details


def _received_into(user: User, child: Child) -> list[FileTransfer]:
    """The files that came to this school with the child from earlier schools (accepted
    transfers), in the order they came."""
    return list(db.session.scalars(
        transfers_visible_to(user).where(FileTransfer.received_child_id == child.id,
                                         FileTransfer.to_school_id == child.school_id)
        .order_by(FileTransfer.accepted_at)))


def _earlier_lines(user: User, child: Child) -> tuple[list[dict[str, Any]], list[uuid.UUID]]:
    """The lines and files of the files that came to this school with the child from earlier
    schools (accepted transfers): they go on with the rest, marked with where they came from."""
    lines: list[dict[str, Any]] = []
    copies: list[uuid.UUID] = []
    for transfer in _received_into(user, child):
        packet = read_packet(transfer)
        for line in packet.get("lines", []):
            line.setdefault("from_school", packet.get("from_school", ""))
            lines.append(line)
        copies.extend(db.session.scalars(select(TransferAttachment.id).where(
            TransferAttachment.transfer_id == transfer.id,
            TransferAttachment.to_school_id == child.school_id)))
    return lines, copies


def unfinished(child: Child, now: dt.datetime) -> list[str]:
    """What is still open about `child` at the sending school, in plain words, for the confirm
    page: concerns not yet dealt with, and open incidents with a mandatory route not yet
    handed over. The school may finish them after sending (`portal.access._FINISHING_LINES`),
    but the new school will not see what is added after the send."""
    from . import handover

    waiting = db.session.scalar(
        select(func.count()).select_from(ConcernChild)
        .join(Concern, Concern.id == ConcernChild.concern_id)
        .where(ConcernChild.child_id == child.id, Concern.school_id == child.school_id,
               Concern.state.in_(CONCERN_NOT_DEALT_WITH))) or 0
    out: list[str] = []
    if waiting:
        out.append(f"{wording.counted(waiting, 'concern').capitalize()} about this child "
                   f"{'is' if waiting == 1 else 'are'} not yet dealt with.")
    incidents = db.session.scalars(
        select(Incident).join(IncidentChild, IncidentChild.incident_id == Incident.id)
        .where(IncidentChild.child_id == child.id, Incident.school_id == child.school_id,
               Incident.state == "open").order_by(Incident.opened_at))
    for incident in incidents:
        owed = handover.still_owed(incident, now)
        if owed:
            routes = ", ".join(state.label.lower() for state in owed)
            out.append(f"Incident {incident.reference}: not yet handed over ({routes}).")
    return out


def plan_transfer(user: User, child: Child, to_school: School,
                  moved_on: dt.date, *, today: dt.date) -> TransferPlan:
    """What sending `child`'s file to `to_school` would send (reads only). Refused when it
    cannot go (`check_transfer`)."""
    check_transfer(child, to_school, moved_on, today=today)
    record, redact = build_whole_file(user, child)
    file_ids = {a.id for e in record.events for a in e.attachments}
    own = [event_data(e, {i: str(i) for i in file_ids}) for e in record.events]
    more, calls, referrals, answers = _more_lines(user, child, record, own, redact)
    earlier, copy_ids = _earlier_lines(user, child)
    lines = own + more + earlier
    lines.sort(key=lambda line: line["at"] or "")
    attachments = tuple(a.id for a in db.session.scalars(
        attachments_visible_to(user).where(Attachment.id.in_(file_ids))
        .order_by(Attachment.uploaded_at, Attachment.id))) if file_ids else ()
    from_school = db.session.get(School, child.school_id)
    packet = {
        "version": PACKET_VERSION,
        "from_school": from_school.name if from_school else "",
        "child": _child_details(child),
        "family_members": list(record.family_members),
        "lines": lines,
    }
    return TransferPlan(
        child_id=child.id, from_school_id=child.school_id, to_school_id=to_school.id,
        to_school_name=to_school.name, moved_on=moved_on,
        packet_json=json.dumps(packet, sort_keys=True, ensure_ascii=False),
        attachment_ids=attachments, copy_ids=tuple(copy_ids), line_count=len(own) + len(more),
        earlier_count=len(earlier), call_count=calls,
        referral_count=referrals, answer_count=answers)


def _lead_awaiting_admin(school: School) -> bool:
    """Whether a first designated safeguarding lead of `school` waits for a second
    administrator to confirm them (`awaiting_admin`)."""
    return db.session.scalar(select(User.id).where(
        User.school_id == school.id, User.role == "dsl", User.active.is_(True),
        User.approval == "awaiting_admin").limit(1)) is not None


def check_transfer(child: Child, to_school: School, moved_on: dt.date, *,
                   today: dt.date) -> None:
    """Refused when `child`'s file cannot go to `to_school`: the receiving school is the child's
    own or not on the portal, or has no designated safeguarding lead to receive it; the child
    has not left yet (`moved_on` after `today`); or the file was already sent. Reads only, and
    builds nothing: the choice of school is checked before the check page builds the file."""
    from .escalation import school_dsls

    problems = []
    leads = school_dsls(to_school) if to_school.active else []
    if to_school.id == child.school_id or not to_school.active:
        problems.append(Problem(RULE, "school", "Choose another school on the portal"))
    elif not leads and _lead_awaiting_admin(to_school):
        # (a walk: told the school had no lead and to ask for one, while one was waiting)
        problems.append(Problem(RULE, "school", (
            f"The designated safeguarding lead of {to_school.name} (school number "
            f"{to_school.urn}) is waiting for a second portal administrator to confirm their "
            "account, so nobody there could receive the file yet: send it once they are "
            "confirmed and have set up their account")))
    elif not leads:
        # Nobody there would be told or could accept it, and this school's copy is read-only
        # once sent: the file would be stuck (a walk).
        problems.append(Problem(RULE, "school", (
            f"{to_school.name} (school number {to_school.urn}) has no designated "
            "safeguarding lead on the portal yet, so "
            "nobody there could receive the file: ask your portal administrator to add one, "
            "then send it")))
    elif all(lead.setup_pending for lead in leads):
        # Nor can a lead who has not yet set up their account (walk 8: the file was sent, its
        # 5 school days started, and nobody could sign in to read it).
        problems.append(Problem(RULE, "school", (
            f"The designated safeguarding lead of {to_school.name} (school number "
            f"{to_school.urn}) has not yet set up their portal account, so nobody there could "
            "receive the file: send it once they have")))
    if moved_on > today:
        # This school's copy is read-only once sent: sent ahead, it would be for the months
        # the child is still here (a walk sent a file for a move nine months ahead).
        problems.append(Problem(RULE, "moved_on", (
            "The day the child left must be today or before: send the file once they have "
            "left, as this school's copy can no longer be added to after it is sent")))
    if child.merged_into_id is not None:
        problems.append(Problem(RULE, None, "This record was merged into another: send that "
                                            "child's file"))
    if problems:
        raise Refused(*problems)
    check_writable(child)


@dataclass(frozen=True)
class Sent:
    transfer: FileTransfer
    written: list[Path]  # the files' copies, removed by the caller if its commit fails
    mail_batch: uuid.UUID | None


def send(user: User, plan: TransferPlan, store: AttachmentStore, now: dt.datetime) -> Sent:
    """Write the plan: the transfer with its packet and the files' copies under the receiving
    school's key, an audit on both schools' chains and the receiving DSLs' email (queued)."""
    from .. import notify
    from .escalation import school_dsls

    child = db.session.get(Child, plan.child_id)
    to_school = db.session.get(School, plan.to_school_id)
    if child is None or to_school is None:
        raise Refused(Problem(RULE, None, "The child or the school is no longer there"))
    check_writable(child)  # sent already (a second click, another DSL)
    transfer = FileTransfer(child_id=child.id, from_school_id=plan.from_school_id,
                            to_school_id=to_school.id, state="sent", moved_on=plan.moved_on,
                            sent_by_id=user.id, sent_at=now, line_count=plan.line_count,
                            file_count=plan.file_count)
    copies = {source: uuid.uuid4() for source in (*plan.attachment_ids, *plan.copy_ids)}
    transfer.packet = _packet_naming_copies(plan, user, copies)
    db.session.add(transfer)
    db.session.flush()
    written = _copy_files(plan, transfer, copies, store, now)
    detail: dict[str, str | int | bool | list[str] | None] = {
        "lines": plan.line_count, "files": plan.file_count}
    audit.record(audit.TRANSFER_SENT, org_id=str(plan.from_school_id), actor_id=user.id, at=now,
                 object_type="file_transfer", object_id=transfer.id, detail=detail)
    audit.record(audit.TRANSFER_SENT, org_id=str(to_school.id), actor_id=user.id, at=now,
                 object_type="file_transfer", object_id=transfer.id, detail=detail)
    batch = notify.queue_transfer_alert(transfer.id, to_school, school_dsls(to_school))
    return Sent(transfer, written, batch)


def _packet_naming_copies(plan: TransferPlan, user: User, copies: dict[uuid.UUID, uuid.UUID]
                          ) -> str:
    """The plan's packet as sent: by whom, each file named by its copy at the receiving
    school."""
    packet = json.loads(plan.packet_json)
    packet["sent_by"] = user.display_name
    for line in packet["lines"]:
        line["files"] = [{**f, "path": str(copies[uuid.UUID(f["path"])])}
                         for f in line["files"]
                         if f.get("path") and uuid.UUID(f["path"]) in copies]
    return json.dumps(packet, sort_keys=True, ensure_ascii=False)


def _copy_files(plan: TransferPlan, transfer: FileTransfer, copies: dict[uuid.UUID, uuid.UUID],
                store: AttachmentStore, now: dt.datetime) -> list[Path]:
    """Each file's copy under the receiving school's key (flushed): the school's own files and
    the copies of files it received earlier. The files written (removed again on a failure)."""
    written: list[Path] = []
    try:
        for source in db.session.scalars(select(Attachment).where(
                Attachment.id.in_(list(copies)), Attachment.school_id == plan.from_school_id)):
            written.append(_copy_file(
                source, str(source.school_id), transfer, copies[source.id], store, now,
                source_id=source.id))
        for earlier in db.session.scalars(select(TransferAttachment).where(
                TransferAttachment.id.in_(list(plan.copy_ids)),
                TransferAttachment.to_school_id == plan.from_school_id)):
            written.append(_copy_file(
                earlier, str(earlier.to_school_id), transfer, copies[earlier.id], store, now,
                source_copy_id=earlier.id))
        db.session.flush()
    except BaseException:
        discard(written)
        raise
    return written


def _copy_file(source: Attachment | TransferAttachment, held_by: str, transfer: FileTransfer,
               copy_id: uuid.UUID, store: AttachmentStore, now: dt.datetime, *,
               source_id: uuid.UUID | None = None, source_copy_id: uuid.UUID | None = None
               ) -> Path:
    """One file (held by the school `held_by`) copied for the receiving school: its row and
    its content under that school's key; the path written."""
    copy = TransferAttachment(id=copy_id, transfer_id=transfer.id,
                              to_school_id=transfer.to_school_id, source_id=source_id,
                              source_copy_id=source_copy_id,
                              content_type=source.content_type, size=source.size,
                              created_at=now)
    copy.filename = clean_filename(source.filename)
    copy.description = source.description or None
    db.session.add(copy)
    plain = ChunkReader(store.open(held_by, source.store_name))
    store.save(str(transfer.to_school_id), copy.store_name, plain)
    return store.path(copy.store_name)


# ---------------------------------------------------------------------------------------------
# What the receiving school reads, and accepting it


@dataclass(frozen=True)
class FileCopy:
    id: uuid.UUID
    name: str
    kind: str
    size: str
    description: str


def read_packet(transfer: FileTransfer) -> dict[str, Any]:
    """The packet (the receiving school's DSLs only: the views check)."""
    data: dict[str, Any] = json.loads(transfer.packet or "{}")
    return data


def files_of(transfer: FileTransfer) -> dict[str, FileCopy]:
    rows = db.session.scalars(select(TransferAttachment).where(
        TransferAttachment.transfer_id == transfer.id,
        TransferAttachment.to_school_id == transfer.to_school_id)
        .order_by(TransferAttachment.created_at, TransferAttachment.id))
    return {str(r.id): FileCopy(r.id, clean_filename(r.filename),
                                ALLOWED_TYPES.get(r.content_type, "File"), size_text(r.size),
                                r.description or "") for r in rows}


_REFERENCE = re.compile(r"\(([A-Z]\d{4,})\)")


def at_school(text: str, school: str) -> str:
    """Another child as a received file names them, "BL (C0002): Harmer", with whose reference
    it is: "BL (C0002 at Oakfield Academy): Harmer" (never mistaken for this school's)."""
    return _REFERENCE.sub(lambda m: f"({m.group(1)} at {school})", text, count=1)


@dataclass(frozen=True)
class ReceivedPacket:
    """A file that came with the child from an earlier school, as the receiving school reads
    it: its transfer, the sending school's name, its packet and its files' copies."""

    transfer: FileTransfer
    from_school: str
    packet: dict[str, Any]
    files: dict[str, FileCopy]


def received_packets(user: User, child: Child) -> list[ReceivedPacket]:
    """Every file that came to this school with the child, to print with their file (a walk:
    the printout held only "File received", and a DSL took it to a strategy meeting without
    the child's history)."""
    return [ReceivedPacket(t, school_name(t.from_school_id), read_packet(t), files_of(t))
            for t in _received_into(user, child)]


def matches(transfer: FileTransfer) -> list[Child]:
    """Pupils of the receiving school who may be this child: the same UPN first, then the
    duplicate check's matches (name, preferred name, date of birth)."""
    child = read_packet(transfer).get("child", {})
    school_id = transfer.to_school_id
    found: list[Child] = []
    if child.get("upn"):
        index = keyring().blind_indexer(str(school_id), UPN_INDEX)(child["upn"].casefold())
        found.extend(db.session.scalars(select(Child).where(
            Child.school_id == school_id, Child.upn_index == index,
            Child.merged_into_id.is_(None))))
    dob = dt.date.fromisoformat(child["dob"]) if child.get("dob") else None
    for other in possible_duplicates(school_id, given_name=child.get("given_name") or "",
                                     family_name=child.get("family_name") or "", dob=dob,
                                     preferred_name=child.get("preferred_name"),
                                     exclude=[c.id for c in found]):
        found.append(other)
    return found


class Accepted(NamedTuple):
    """A file accepted: the child it went into, and the sending DSLs' email (queued: to
    `notify.deliver_now` after the commit; None when there is nobody to tell)."""

    child: Child
    mail_batch: uuid.UUID | None


def accept(user: User, transfer: FileTransfer, match: Child | None,
           now: dt.datetime) -> Accepted:
    """The receiving DSL's receipt: into `match` (a pupil of their school) or a new child from
    the file's details. A chronology line on the child says what came, from where and who
    accepted it; audited on both schools' chains; the sending school's DSLs are emailed."""
    if transfer.state != "sent":
        raise Refused(Problem(RULE, None, not_acceptable(transfer)))
    school = db.session.get(School, transfer.to_school_id)
    if school is None or user.school_id != school.id:
        raise Refused(Problem(RULE, None, "Only the receiving school can accept it"))
    if match is not None and (match.school_id != school.id or match.merged_into_id is not None):
        raise Refused(Problem(RULE, "match", "Choose a pupil of your school"))
    if match is not None:
        check_writable(match)
    _change_state(transfer, "accepted", not_acceptable)
    packet = read_packet(transfer)
    child = match if match is not None else _child_from(packet.get("child", {}), school, user,
                                                        now)
    add_earlier_names(child, packet.get("child", {}).get("earlier_names") or [])
    transfer.state = "accepted"
    transfer.accepted_by_id = user.id
    transfer.accepted_at = now
    transfer.received_child_id = child.id
    sender = _names([transfer.sent_by_id]).get(transfer.sent_by_id, "their DSL")
    chronology.add_entry(
        child, "file_received",
        f"Child protection file received from {packet.get('from_school', 'their last school')}"
        f": {wording.counted(transfer.line_count, 'line')} and "
        f"{wording.counted(transfer.file_count, 'file')}, sent by {sender} on "
        f"{wording.when(transfer.sent_at)}, accepted by {user.display_name}.",
        author_id=user.id, source=transfer, occurred_at=now)
    for org in (transfer.from_school_id, transfer.to_school_id):
        audit.record(audit.TRANSFER_ACCEPTED, org_id=str(org), actor_id=user.id, at=now,
                     object_type="file_transfer", object_id=transfer.id,
                     detail={"matched": match is not None})
    db.session.flush()
    return Accepted(child, _tell_the_sender(transfer))  # (its rows go with the commit)


WITHDRAWN_ENTRY: Final = "transfer_withdrawn"


class Withdrawn(NamedTuple):
    """A transfer withdrawn: the copies of its files to remove once committed, and the
    receiving DSLs' email (queued: to `notify.deliver_now` after the commit; None: nobody)."""

    files: list[Path]
    mail_batch: uuid.UUID | None


def withdraw(user: User, transfer: FileTransfer, reasons: str | None, store: AttachmentStore,
             now: dt.datetime) -> Withdrawn:
    """The sending school takes back a file not yet accepted (sent to the wrong school, or the
    child did not move after all), with reasons (R2, R3). The receiving school's copy is erased
    (what was sent, and its files: copies only, the sending school's record is untouched),
    their DSLs are told it was withdrawn (nothing of why: the reasons are the sending school's,
    under its key), the sending school's record is writable again with a line in the child's
    chronology, and both schools' audit chains say so. Flushes; the caller commits."""
    from .. import notify
    from .escalation import school_dsls
    from .recording import check_reasons

    if user.school_id != transfer.from_school_id:
        raise Refused(Problem(RULE, None, "Only the school that sent the file can withdraw it"))
    if transfer.state != "sent":
        raise Refused(Problem(RULE, None, not_withdrawable(transfer)))
    clean = check_reasons(reasons, empty_message="Enter why you are withdrawing the file")
    _change_state(transfer, WITHDRAWN, not_withdrawable)
    transfer.state = WITHDRAWN
    transfer.withdrawn_by_id = user.id
    transfer.withdrawn_at = now
    transfer.withdrawn_reasons = clean
    transfer.packet = None
    copies = list(db.session.scalars(select(TransferAttachment).where(
        TransferAttachment.transfer_id == transfer.id)))
    files = [Path(store.path(copy.store_name)) for copy in copies]
    for copy in copies:
        db.session.delete(copy)
    to_school = school_name(transfer.to_school_id)
    child = db.session.get(Child, transfer.child_id)
    if child is not None:
        chronology.add_entry(
            child, WITHDRAWN_ENTRY,
            # Why is kept with the transfer (the sending school's alone): this line goes
            # with the file when it is sent on, to a school that may be the one it went to.
            f"The child protection file sent to {to_school} on "
            f"{wording.when(transfer.sent_at)} was withdrawn before it was accepted, and "
            f"{to_school}'s copy was erased. Why is recorded with the transfer at the school "
            "that sent it.",
            author_id=user.id, source=transfer, occurred_at=now)
    for org in (transfer.from_school_id, transfer.to_school_id):
        audit.record(audit.TRANSFER_WITHDRAWN, org_id=str(org), actor_id=user.id, at=now,
                     object_type="file_transfer", object_id=transfer.id,
                     detail={"files": len(copies)})
    db.session.flush()
    receiving = db.session.get(School, transfer.to_school_id)
    batch = (notify.queue_transfer_withdrawn(transfer.id, receiving, school_dsls(receiving))
             if receiving is not None else None)
    return Withdrawn(files, batch)


def _child_from(details: dict[str, Any], school: School, user: User, now: dt.datetime) -> Child:
    """A new child of `school` from a received file's details (`accept`, no pupil matched)."""
    dob = dt.date.fromisoformat(details["dob"]) if details.get("dob") else None
    child = add_child(school, given_name=details.get("given_name") or "",
                      family_name=details.get("family_name") or "", dob=dob,
                      send=bool(details.get("send")),
                      local_authority_code=details.get("local_authority_code"),
                      created_by_id=user.id, on_roll=False,
                      preferred_name=details.get("preferred_name"))
    for name in ("sex", "year_group", "first_language", "ethnicity", "religion", "gp",
                 "other_agencies"):
        if details.get(name):
            setattr(child, name, details[name])
    if details.get("interpreter") is not None:
        child.interpreter = details["interpreter"]
    if details.get("upn"):  # the school's roll import then finds them by it
        index = keyring().blind_indexer(str(school.id), UPN_INDEX)(details["upn"].casefold())
        taken = db.session.scalar(select(Child.id).where(Child.school_id == school.id,
                                                         Child.upn_index == index))
        if taken is None:
            child.upn = details["upn"]
            child.upn_index = index
    db.session.add(child)
    db.session.flush()
    audit.record(audit.CHILD_CREATED, org_id=str(school.id), actor_id=user.id, at=now,
                 object_type="child", object_id=child.id, detail={"via": "transfer"})
    return child


def _change_state(transfer: FileTransfer, state: str,
                  refusal: Callable[[FileTransfer], str]) -> None:
    """`transfer` from "sent" to `state` in one statement, before anything else is written:
    the receiving school accepting it and the sending school withdrawing it at the same moment
    both ask for this change, one wins and the other is refused with `refusal(transfer)` as it
    now is (on PostgreSQL the second waits for the first's commit, then finds no row "sent")."""
    changed = db.session.execute(
        update(FileTransfer)
        .where(FileTransfer.id == transfer.id, FileTransfer.state == "sent")
        .values(state=state).execution_options(synchronize_session=False))
    if getattr(changed, "rowcount", 0) != 1:
        db.session.refresh(transfer)
        raise Refused(Problem(RULE, None, refusal(transfer)))


def not_withdrawable(transfer: FileTransfer) -> str:
    """Why `transfer` can no longer be withdrawn, in words."""
    if transfer.state == WITHDRAWN:
        return "This file has already been withdrawn"
    return ("The new school has already accepted this file, so it can no longer be withdrawn. "
            "If it went to the wrong school, ask their designated safeguarding lead to delete "
            "it, and tell your data protection officer")


def not_acceptable(transfer: FileTransfer) -> str:
    """Why `transfer` can no longer be accepted, in words."""
    if transfer.state == WITHDRAWN:
        return ("The school that sent this file has withdrawn it, so it can no longer be "
                "accepted")
    return "This file has already been accepted"


def _tell_the_sender(transfer: FileTransfer) -> uuid.UUID | None:
    """Queue the email to the sending school's DSLs that their file was accepted (the batch,
    or None when there is nobody to tell)."""
    from .. import notify
    from .escalation import school_dsls

    from_school = db.session.get(School, transfer.from_school_id)
    if from_school is None:
        return None
    return notify.queue_transfer_accepted(transfer.id, from_school, school_dsls(from_school))


# ---------------------------------------------------------------------------------------------
# Lists for the dashboards and the child's page


@dataclass(frozen=True)
class TransferRow:
    """A line of the dashboard: a transfer waiting for its receipt, or a leaver whose next
    school is on the portal and whose file has not been sent (`transfer` None)."""

    transfer: FileTransfer | None
    incoming: bool  # sent to the user's school
    other_school: str
    # The sending school's own child as every dashboard item shows a child (initials and
    # reference, `Child.redacted_label`), or "A child from <school>" (incoming).
    child_label: str
    clock: Clock
    child_id: uuid.UUID | None = None
    other_school_id: uuid.UUID | None = None

    @property
    def id(self) -> uuid.UUID | None:
        return self.transfer.id if self.transfer is not None else None


def _school_names(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict(db.session.execute(select(School.id, School.name)
                                   .where(School.id.in_(wanted))).all())




@kept
def _rows_statement(visible: ColumnElement[bool]) -> Any:
    """`rows_for`'s statement, built once per thread (issue 15) for the visibility clause of
    `transfer_visible_bound` (bound at execution, with `row_school_id`)."""
    # The sending and receiving schools: aliases made once per thread with the statement.
    sender, receiver = aliased(School), aliased(School)
    return (select(FileTransfer, Child, sender.name, receiver.name, SchoolTerm)
            .where(visible, FileTransfer.state == "sent")
            .outerjoin(Child, and_(Child.id == FileTransfer.child_id,
                                   FileTransfer.from_school_id == bindparam("row_school_id")))
            .outerjoin(sender, sender.id == FileTransfer.from_school_id)
            .outerjoin(receiver, receiver.id == FileTransfer.to_school_id)
            .outerjoin(SchoolTerm, SchoolTerm.school_id == FileTransfer.from_school_id)
            .order_by(FileTransfer.id, SchoolTerm.starts_on))


def rows_for(user: Any, school_id: uuid.UUID, today: dt.date) -> list[TransferRow]:
    """The transfers `user` may see (`transfers_visible_to`) that wait for their receipt, as
    dashboard rows: overdue first, then by the day they are due. One statement whatever the
    rows (issue 15): each transfer with the sending school's own child (outgoing only), both
    schools' names and the sending school's terms (a row per term, a few a year)."""
    visible, values = transfer_visible_bound(user)
    rows = db.session.execute(_rows_statement(visible),
                              {**values, "row_school_id": school_id}).all()
    found: dict[uuid.UUID, tuple[FileTransfer, Child | None, str, str]] = {}
    terms: dict[uuid.UUID, list[Term]] = {}
    for t, child, from_name, to_name, term in rows:
        found.setdefault(t.id, (t, child, from_name or "", to_name or ""))
        kept = terms.setdefault(t.id, [])
        if term is not None:
            kept.append(Term(term.starts_on, term.ends_on, term.half_term_starts,
                             term.half_term_ends))
    out = []
    for t, child, from_name, to_name in found.values():
        incoming = t.to_school_id == school_id
        if incoming:
            label = "A child from " + (from_name or "another school")
        else:
            label = child.redacted_label if child else ""  # as every dashboard item
        out.append(TransferRow(t, incoming, to_name if not incoming else from_name,
                               label, clock_for(t, today, terms[t.id])))
    out.sort(key=lambda r: (not r.clock.overdue, r.clock.due_on))
    return out


def leavers_and_awaiting(user: Any) -> tuple[list[Child], list[ExportRow]]:
    """For the dashboard, in one statement whatever the rows (issue 15): the school's leavers
    who may have a next school on the portal and whose file has not been sent, and its sealed
    files awaiting receipt (`file_export.awaiting_receipt`), each with its child. Read once per
    request: two panels show it."""
    def build() -> tuple[list[Child], list[ExportRow]]:
        school_id = user.school_id
        if school_id is None:
            return [], []
        visible, values = school_row_visible_bound(user, SealedExport)
        rows = db.session.execute(_leavers_and_awaiting(visible),
                                  {**values, "leavers_school_id": school_id}).all()
        leavers: dict[uuid.UUID, Child] = {}
        found: list[tuple[SealedExport, Child]] = []
        for child, export, is_leaver in rows:
            if is_leaver:
                leavers.setdefault(child.id, child)
            if export is not None:
                found.append((export, child))
        return list(leavers.values()), export_rows_of(found)
    return per_request("dashboard.leavers_and_awaiting", build)


@kept  # one per share clause (a DSL's, nobody's)
def _leavers_and_awaiting(visible: ColumnElement[bool]) -> Select[Child, SealedExport, bool]:
    """`leavers_and_awaiting`'s statement, built once per thread (issue 15): `visible` the
    user's sealed files (`school_row_visible_bound`), the school bound as `leavers_school_id`."""
    school_id: BindParameter[uuid.UUID] = bindparam("leavers_school_id")
    sent = select(FileTransfer.child_id).where(FileTransfer.from_school_id == school_id,
                                               FileTransfer.took_the_file())
    leaver = and_(Child.roll_status == "left", Child.destination_school_enc.is_not(None),
                  Child.merged_into_id.is_(None), Child.id.not_in(sent))
    # The sealed files the user may see that await receipt, as the join's condition (not a
    # subquery, whose columns SQLAlchemy would copy; issue 15).
    awaiting = and_(visible, AWAITING_RECEIPT)
    return (select(Child, SealedExport, leaver.label("leaver"))
            .outerjoin(SealedExport, and_(SealedExport.child_id == Child.id, awaiting))
            .where(Child.school_id == school_id, or_(SealedExport.id.is_not(None), leaver))
            .order_by(SealedExport.created_at, Child.id))


def leavers_to_send(school_id: uuid.UUID, today: dt.date,
                    candidates: list[Child] | None = None) -> list[TransferRow]:
    """Pupils the roll marked as left for a school on the portal whose file has not been sent,
    with the clock from the day they left. Only leavers with a next school are decrypted
    (`candidates` when the caller loaded them, see `leavers_and_awaiting`)."""
    if candidates is None:
        sent = select(FileTransfer.child_id).where(FileTransfer.from_school_id == school_id,
                                                   FileTransfer.took_the_file())
        candidates = list(db.session.scalars(select(Child).where(
            Child.school_id == school_id, Child.roll_status == "left",
            Child.destination_school_enc.is_not(None), Child.merged_into_id.is_(None),
            Child.id.not_in(sent))))
    if not candidates:
        return []
    schools = {s.urn: s for s in destinations(school_id)}
    terms = _rule_terms(school_id)
    out = []
    for child in candidates:
        school = schools.get((child.destination_school or "").strip())
        if school is None:
            continue
        due = school_days.transfer_due_on(child.left_on or today, terms)
        clock = Clock(due_on=due, received=False, overdue=school_days.is_overdue(today, due),
                      days_left=school_days.school_days_left(today, due, terms))
        out.append(TransferRow(None, False, school.name, child.redacted_label,
                               clock, child_id=child.id, other_school_id=school.id))
    return out


def sent_transfer_of(child: Child) -> FileTransfer | None:
    """The transfer that took `child`'s file away from their school, if any."""
    return db.session.scalar(select(FileTransfer).where(FileTransfer.child_id == child.id,
                                                        FileTransfer.took_the_file())
                             .order_by(FileTransfer.sent_at.desc()).limit(1))


def received_transfers_of(child: Child) -> list[FileTransfer]:
    return list(db.session.scalars(select(FileTransfer).where(
        FileTransfer.received_child_id == child.id,
        FileTransfer.to_school_id == child.school_id).order_by(FileTransfer.accepted_at)))


@dataclass(frozen=True)
class ChildTransfers:
    """A child's transfers for their page: the one that took the file away (the latest) with
    the receiving school's name, and those received into it with each sending school's."""

    sent: FileTransfer | None
    sent_to: str
    received: list[tuple[FileTransfer, str]]
    # Sent, then withdrawn before they were accepted (the receiving school's name), newest
    # first: the file is this school's again, and its page says where it went and came back.
    withdrawn: list[tuple[FileTransfer, str]] = field(default_factory=list)


def transfers_of(child: Child) -> ChildTransfers:
    """`sent_transfer_of` and `received_transfers_of` with the other schools' names, in one
    statement (issue 15)."""
    other = aliased(School)
    rows = db.session.execute(
        select(FileTransfer, other.name)
        .outerjoin(other, _other_school_of(child.id, other))
        .where(_transfers_of(child.id, child.school_id))).all()
    return _child_transfers(child, rows)


def _transfers_of(child_id: Any, school_id: Any) -> Any:
    """The transfers of `transfers_of` (of the child `child_id` of `school_id`: values or
    bind parameters) as a clause on `FileTransfer`."""
    return or_(FileTransfer.child_id == child_id,
               and_(FileTransfer.received_child_id == child_id,
                    FileTransfer.to_school_id == school_id))


def _other_school_of(child_id: Any, other: Any) -> Any:
    """The school at the other end of each of the child `child_id`'s transfers (a value or a
    bind parameter), as a join on `other`."""
    return other.id == case((FileTransfer.child_id == child_id, FileTransfer.to_school_id),
                            else_=FileTransfer.from_school_id)


def _child_transfers(child: Child, rows: Iterable[Any]) -> ChildTransfers:
    """`transfers_of` from (transfer, other school's name) rows (a transfer once)."""
    found: dict[uuid.UUID, tuple[FileTransfer, str]] = {}
    for transfer, name in rows:
        if transfer is not None:
            found.setdefault(transfer.id, (transfer, name or ""))
    sent = [row for row in found.values() if row[0].child_id == child.id]
    sent.sort(key=lambda r: r[0].sent_at, reverse=True)
    withdrawn = [row for row in sent if row[0].state == WITHDRAWN]
    sent = [row for row in sent if row[0].state != WITHDRAWN]
    received = [row for row in found.values()
                if row[0].child_id != child.id and row[0].state != WITHDRAWN]
    received.sort(key=lambda r: (r[0].accepted_at is None, r[0].accepted_at or r[0].sent_at))
    return ChildTransfers(sent[0][0] if sent else None, sent[0][1] if sent else "", received,
                          withdrawn)


def file_panels(user: Any, child: Child) -> tuple[ChildPanels, ChildTransfers]:
    """The child's file's panels of the file's moves, in one statement (issue 15): the sealed
    files and copies (`file_export.child_panels_query`) with the transfers (`transfers_of`), each
    list joined to one row (a file moves a few times at most). Built once per thread
    (`_file_panels_statement`), the child bound at execution."""
    panels, values = child_panels_query(user, child)
    rows = db.session.execute(_file_panels_statement(panels),
                              {**values, "panel_school_id": child.school_id}).all()
    return child_panels_of(child, rows), _child_transfers(child, (row[3:] for row in rows))


@kept  # per share (`file_export.child_panels_statement`)
def _file_panels_statement(panels: Any) -> Any:
    other = aliased(School)
    child_id: Any = bindparam("panel_child_id")
    return (panels.add_columns(FileTransfer, other.name)
            .outerjoin(FileTransfer, _transfers_of(child_id, bindparam("panel_school_id")))
            .outerjoin(other, _other_school_of(child_id, other)))


def school_name(school_id: uuid.UUID) -> str:
    return _school_names([school_id]).get(school_id, "")


def today_for(now: dt.datetime) -> dt.date:
    return uk_local(now).date()
