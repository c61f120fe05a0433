"""The incident page's read model: everything one GET of the incident page shows, assembled once.

`incident_page` loads each kind of row once (a fixed number of queries however many children,
authorities, routes, decisions, records and referrals the incident has) and runs the rules
engine at most once: the lines' status now, each mandatory route's state, the closing check and
the rules-version preview all read that one result. It composes the services' own functions
(`handover.judge` through `mandatory_states`, `recording.closing_problems` through
`closing_from`, ...): no rule is written here. Nothing here reads Flask's request.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Select, and_, bindparam, exists, select
from sqlalchemy.orm import joinedload

from .. import reads, wording
from ..clock import uk_local
from ..kept import kept
from ..models import (
    Addendum,
    Assessment,
    Child,
    ConsultationCall,
    Decision,
    FileTransfer,
    Incident,
    IncidentChild,
    ParentContact,
    Referral,
    RouteHandover,
    User,
    db,
)
from ..reads import corrections_named
from ..refusal import Problem
from ..rules import Assessment as RulesAssessment
from ..rules import Directory
from . import handover, referrals, reviews
from . import incidents as svc
from .localtime import directory_from_db
from .parents import describe
from .route_records import record_text

__all__ = ["IncidentPage", "ParentsLine", "incident_page"]


@dataclass(frozen=True, slots=True)
class ParentsLine:
    """One R9 record for one child, in words, with who recorded it and when."""

    text: str
    recorded_by: str
    recorded_at: dt.datetime


@dataclass(frozen=True)
class IncidentPage:
    """What the incident page shows (templates/incidents/show.html and its includes)."""

    incident: Incident
    now: dt.datetime
    today: dt.date
    reported_local: dt.datetime | None
    assessment: Assessment | None  # the latest
    result: dict[str, Any] | None  # the latest assessment's result (RULES.md section 4)
    rules: svc.RulesChange | None  # what the last save changed; the current rules' preview
    missing: tuple[str, ...]  # what the incident needs before it can be assessed
    children: tuple[IncidentChild, ...]  # each with its Child loaded
    # The children whose files were sent to another school (their records read-only here).
    sent_away: frozenset[uuid.UUID]
    child_names: Mapping[uuid.UUID, str]  # every child on the incident or its concerns
    unaccounted: tuple[Child, ...]  # R8
    concerns: tuple[uuid.UUID, ...]  # the ids of its concerns (the page counts them)
    decisions: tuple[Decision, ...]
    decided_by: Mapping[uuid.UUID, str]  # each decision's author, by decision id
    decision_addenda: Mapping[uuid.UUID, tuple[Addendum, ...]]
    summary_addenda: tuple[Addendum, ...]
    reviewed: Mapping[uuid.UUID, Decision]  # R10: each reviewed decision's review
    reconsider: tuple[Decision, ...]  # reviews that said the behaviour went on
    parents: Mapping[uuid.UUID, tuple[ParentsLine, ...]]  # R9, by child id, oldest first
    handed: Mapping[str, bool]  # each route of the result: handed over or not
    # Each route handed over, how: when and to which line, in words (`_handed_words`).
    handed_words: Mapping[str, tuple[str, ...]]
    handing_over: tuple[handover.RouteState, ...]  # R4: each mandatory route, its records
    closing: tuple[Problem, ...]  # what still stops an open incident closing
    lines: handover.HandoverView  # who to call now, referrals sent, calls recorded


# How the incident page's view loads the incident: with its corrections (R5) and theirs, and
# its latest two assessments.
PAGE_OPTIONS: Final = (corrections_named(Incident.corrections),
                       joinedload(Incident.last_two_assessments))


@kept  # built once per thread, bound at execution (portal/reads.py)
def _children_and_sent_query() -> Select[IncidentChild, bool, ParentContact, str]:
    sent = exists().where(FileTransfer.child_id == IncidentChild.child_id,
                          FileTransfer.took_the_file())
    # Who recorded each record of parents, by name: a column, not a joined `User` (issue 15).
    return (select(IncidentChild, sent.label("sent"), ParentContact, User.display_name)
            .outerjoin(ParentContact, and_(ParentContact.incident_id == IncidentChild.incident_id,
                                           ParentContact.child_id == IncidentChild.child_id))
            .outerjoin(ParentContact.recorded_by)
            .options(joinedload(IncidentChild.child))
            .where(IncidentChild.incident_id == bindparam("incident_id"))
            .order_by(IncidentChild.position, IncidentChild.added_at, ParentContact.number))


def _children_and_sent(incident: Incident) -> tuple[
        list[IncidentChild], frozenset[uuid.UUID], dict[uuid.UUID, list[ParentsLine]]]:
    """The incident's children (each with its Child), in order, which of their files were
    sent to another school (the page hides the forms that would refuse), and each child's
    records of parents (R9, oldest first, with who recorded them: `parents.contacts_for`'s
    order), in one statement: a child's few records joined to its row."""
    found = db.session.execute(_children_and_sent_query(), {"incident_id": incident.id}).all()
    rows: dict[uuid.UUID, IncidentChild] = {}
    contacts: dict[uuid.UUID, list[ParentsLine]] = {}
    for row, _, contact, recorded_by in found:
        rows.setdefault(row.id, row)
        if contact is not None:
            contacts.setdefault(row.child_id, []).append(
                ParentsLine(describe(contact), recorded_by or "", contact.recorded_at))
    return (list(rows.values()),
            frozenset(row.child_id for row, was_sent, _, _ in found if was_sent), contacts)


def incident_page(incident: Incident, now: dt.datetime) -> IncidentPage:
    """The read model of one incident's page at `now` (aware UTC)."""
    now_local = uk_local(now)
    directory = directory_from_db()
    latest_two = list(incident.last_two_assessments)  # read with it (`PAGE_OPTIONS`)
    assessment = latest_two[0] if latest_two else None
    rows, sent_away, contacts = _children_and_sent(incident)
    # Each with its corrections and the name of who made it, in its own statement
    # (`reads.shown_with_corrections`).
    shown = svc.decisions_as_shown(incident)
    decided = shown.rows
    concerns, named = svc.concerns_with_children(incident)
    shown_records = handover.records_as_shown(incident)
    records = shown_records.rows
    sent, responses = referrals.sent_for(incident)
    calls = _calls(incident)
    current, entries, danger, record, states = _rules_now(
        incident, now_local, rows, directory, assessment, sent, records, decided,
        called=bool(calls))
    result = json.loads(assessment.result) if assessment is not None and assessment.result \
        else None
    unaccounted = svc.unaccounted_from(rows, decided, named)
    closing = svc.closing_from(
        rows=rows, decided=decided, parents_recorded=set(contacts), unaccounted=unaccounted,
        owed=[s for s in states if not s.done], sent=sent_away) \
        if incident.state == "open" else []
    lines = referrals.with_referral_views(
        handover.handover_view(incident, now_local, entries, danger, referrals=sent,
                               calls=calls, assessment=assessment),
        directory, now, responses)
    return IncidentPage(
        incident=incident, now=now, today=reviews.today(now),
        reported_local=uk_local(incident.reported_at) if incident.reported_at else None,
        assessment=assessment, result=result,
        rules=svc.rules_change_from(incident, latest_two, lambda: current),
        missing=tuple(svc.missing_for_assessment(incident, rows)),
        children=tuple(rows), sent_away=sent_away, child_names=_child_names(rows, named),
        unaccounted=tuple(unaccounted),
        concerns=tuple(concerns), decisions=tuple(decided),
        decided_by=shown.author_names,
        decision_addenda={d.id: tuple(shown.corrections[d.id]) for d in decided},
        # Read with the incident where the page's view asks (`PAGE_OPTIONS`).
        summary_addenda=tuple(incident.corrections),
        reviewed=reviews.reviews_of(decided),
        # Only the escalations still waiting for a new decision about the child (R10).
        reconsider=tuple(d for d in decided if d.kind == "review"
                         and d is svc.pending_reconsider(decided, d.child_id)),
        parents={child_id: tuple(found) for child_id, found in contacts.items()},
        handed=handover.handed((result or {}).get("routes", []), states, record),
        handed_words=_handed_words(sent, records, decided, calls, directory),
        handing_over=tuple(handover.with_records(
            states, records, shown_records.corrections,
            {r.recorded_by_id: shown_records.author_names[r.id] for r in records}, directory)),
        closing=tuple(closing), lines=lines,
    )


def _handed_words(sent: Sequence[Referral], records: Sequence[RouteHandover],
                  decided: Sequence[Decision], calls: Sequence[ConsultationCall],
                  directory: Directory) -> dict[str, tuple[str, ...]]:
    """Each route handed over, how, in words: when and to which line ("Referral sent to
    Derbyshire County Council on 30 November 2026 at 10:15am", a record's own words, or a
    "handed over" decision's day), oldest first. The routes list shows it where the links to
    hand the route over were."""
    by_id = reads.authorities_by_id()  # kept for the request: only the referrals' looked up
    found: list[tuple[dt.datetime, str, str]] = [
        (r.sent_at, "csc_referral", f"Referral sent to "
         f"{la.name if (la := by_id.get(r.local_authority_id)) else 'a local authority'} "
         f"on {wording.when(r.sent_at)}")
        for r in sent]
    found += [(r.happened_at, r.route, record_text(r, directory)) for r in records]
    found += [(d.decided_at, d.route, f"Recorded as taken on {wording.when(d.decided_at)}")
              for d in decided if d.kind == "handed_over" and d.route]
    found += [(c.called_at, handover.CONSULTATION_ROUTE,
               f"Call to {wording.authority_name(c.local_authority_code)} recorded, "
               f"{wording.when(c.called_at)}") for c in calls]
    out: dict[str, tuple[str, ...]] = {}
    for _, route, words in sorted(found, key=lambda item: item[0]):
        out[route] = (*out.get(route, ()), words)
    return out


def _calls(incident: Incident) -> list[ConsultationCall]:
    """The incident's consultation calls, newest first."""
    return list(db.session.scalars(_calls_query(), {
        "incident_id": incident.id, "school_id": incident.school_id}))


@kept  # built once per thread, bound at execution (portal/reads.py)
def _calls_query() -> Select[ConsultationCall]:
    return (select(ConsultationCall)
            .where(ConsultationCall.incident_id == bindparam("incident_id"),
                   ConsultationCall.school_id == bindparam("school_id"))
            .order_by(ConsultationCall.called_at.desc(), ConsultationCall.recorded_at.desc()))


def _rules_now(incident: Incident, now_local: dt.datetime, rows: list[IncidentChild],
               directory: Directory, assessment: Assessment | None, sent: Sequence[Referral],
               records: Sequence[RouteHandover], decided: Sequence[Decision], *,
               called: bool) -> tuple[
                   RulesAssessment | None, list[dict[str, Any]], bool, handover.OnRecord,
                   list[handover.RouteState]]:
    """The rules engine, once: the facts as recorded, each line's status now, what is on
    record as handed over, and each mandatory route's state."""
    current = handover.assess_now(incident, directory, now_local, rows)
    entries, danger = handover.entries_from(incident, current, directory, now_local,
                                            assessment if current is None else None)
    by_id = reads.authorities_by_id()
    record = handover.on_record(
        referrals=[(by_id[r.local_authority_id].code, r.convening) for r in sent
                   if r.local_authority_id in by_id],
        records=[(r.route, r.local_authority_code) for r in records],
        decided=[str(d.route) for d in decided if d.kind == "handed_over" and d.route],
        called=called)
    states = handover.mandatory_states(
        incident, entries, handover.on_portal_codes(), record)
    return current, entries, danger, record, states


def _child_names(rows: Sequence[IncidentChild], named: Iterable[Child]) -> dict[uuid.UUID, str]:
    """How each child of the incident, and each named in its concerns, is shown."""
    child_names = {ic.child_id: svc.child_label(ic.child) for ic in rows}
    for child in named:
        child_names.setdefault(child.id, svc.child_label(child))
    return child_names
