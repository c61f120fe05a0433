"""Triage: a DSL reads a new concern whole, then starts an incident from it, adds it to an open
incident, or records it without an incident (issue 13).

Recorded without an incident, a concern is either "no further action" or "a safeguarding concern
of another kind" (neglect, at home, mental health, about an adult...), each with reasons (R2)
that never dismiss the behaviour as normal (R3, `recording.check_reasons`), and for a concern of
another kind the other route it took (the local authority's front door, early help, the police,
the LADO...), when, and its reference where there is one.

Nothing is deleted or hidden (R1): the concern stays readable, on every named child's chronology
with its outcome, and audited. An outcome is never changed (R5): a correction is an `Addendum`
(target "concern_outcome") that keeps the original, who, when and why. What the concern itself
recorded is corrected the same way (target "concern": what happened, the child's words, when,
where), including when the DSL changes the child's words carried into an incident.

Operations flush; the request commits once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select

from .. import access, audit, reads, wording
from ..clock import from_uk_local, later_than_now
from ..models import (
    Addendum,
    Child,
    Concern,
    ConcernChild,
    ConcernOutcome,
    Incident,
    IncidentConcern,
    School,
    User,
    db,
)
from ..refusal import Problem, Refused
from ..rules.clock_words import day_words
from ..rules.vocabulary import (
    CONCERN_CATEGORY_LABELS,
    CONCERN_OUTCOME_LABELS,
    OTHER_ROUTE_LABELS,
    OTHER_ROUTES_HANDED_ON,
)
from . import chronology, school_settings
from .recording import check_correction, check_not_dismissive, check_reasons

__all__ = [
    "CONCERN_FIELDS",
    "MAX_CONCERN_DAYS",
    "OutcomeInput",
    "add_to_incident",
    "carried_words",
    "correct_concern",
    "correct_outcome",
    "current_text",
    "keep_words_change",
    "note_incident_started",
    "open_incidents",
    "outcome_text",
    "outcomes_of",
    "record_outcome",
    "set_concern_days",
    "staff_status",
    "summary_from_concerns",
]

# What a correction of the concern itself may change, in the words of its page.
CONCERN_FIELDS: Final = {
    "what_happened": "What was seen or heard",
    "child_words": "The child's own words",
    "when_text": "When it happened",
    "where": "Where it happened",
}
CHRONOLOGY_KIND: Final = "concern_triaged"
MAX_CONCERN_DAYS: Final = 10
OPEN_INCIDENTS_SHOWN: Final = 10


@dataclass(frozen=True)
class OutcomeInput:
    kind: str  # CONCERN_OUTCOME_LABELS
    reasons: str | None
    category: str | None = None  # CONCERN_CATEGORY_LABELS, for "other_concern"
    route: str | None = None  # OTHER_ROUTE_LABELS, for "other_concern"
    route_at_local: dt.datetime | None = None  # naive London time
    route_detail: str | None = None
    route_reference: str | None = None


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def check_outcome(data: OutcomeInput, now: dt.datetime, *, when: bool = True) -> None:
    """Every problem with a concern's outcome (R2, R3), at once; writes nothing. `when` False:
    when it was passed on is not checked (the form found the date or time wrong and says so)."""
    problems: list[Problem] = []
    if data.kind not in CONCERN_OUTCOME_LABELS:
        problems.append(Problem("R2", "kind", "Select what you decided"))
    if data.kind == "other_concern":
        if data.category not in CONCERN_CATEGORY_LABELS:
            problems.append(Problem("R2", "category", "Select what kind of concern it is"))
        if data.route not in OTHER_ROUTE_LABELS:
            problems.append(Problem("R2", "route", "Select the route the concern took"))
        if data.route in OTHER_ROUTES_HANDED_ON and data.route_at_local is None and when:
            problems.append(Problem("R2", "route_on",
                                    "Enter the date and time it was passed on"))
        if data.route == "other" and not _clean(data.route_detail):
            problems.append(Problem("R2", "route_detail",
                                    "Say which route the concern took"))
        later = (later_than_now(data.route_at_local, now, "it was passed on",
                                ("route_on", "route_time"))
                 if data.route_at_local is not None else None)
        if later:
            problems.append(Problem("R2", *later))
    try:
        check_reasons(data.reasons)
    except Refused as error:
        problems.extend(error.problems)
    try:
        check_not_dismissive(data.route_detail, field="route_detail")
    except Refused as error:
        problems.extend(error.problems)
    if problems:
        raise Refused(*problems)


def _children(concern: Concern) -> list[Child]:
    return [link.child for link in concern.children]


def _note(user: User, concern: Concern, body: str, now: dt.datetime) -> None:
    """A line in each named child's chronology, shown beside the concern (R6: no other child's
    name in it; the bodies written here name no child)."""
    for child in _children(concern):
        chronology.add_entry(child, CHRONOLOGY_KIND, body, author_id=user.id, source=concern,
                             occurred_at=now)


def _read_by(user: User, concern: Concern, state: str, what: str, now: dt.datetime,
             action: str,
             detail: Callable[[], dict[str, str | int | bool | list[str] | None]]) -> None:
    """A concern read by `user`: a sent one moves to `state` (when, by whom), each named
    child's chronology says "Read <what>." (its author is `user`, shown beside it; the name in
    the words too was hidden as a child's where a pupil shares it, a walk) and the audit event
    `action` is recorded with `detail()` (asked after the flush, so new rows have their ids)."""
    if concern.state == "submitted":
        concern.state = state
        concern.picked_up_at = now
        concern.picked_up_by_id = user.id
    db.session.flush()
    _note(user, concern, f"Read {what}".rstrip() + ".", now)
    audit.record(action, org_id=str(concern.school_id), actor_id=user.id,
                 object_type="concern", object_id=concern.id, at=now, detail=detail())


def record_outcome(user: User, concern: Concern, data: OutcomeInput,
                   now: dt.datetime) -> ConcernOutcome:
    """Record a new concern without an incident (R1, R2, R3). Refused for a concern already
    triaged: its outcome is corrected by an addendum, never replaced."""
    if concern.state != "submitted":
        raise Refused(Problem(
            "R5", None, "This concern has already been dealt with, so this was not saved. "
            "What you typed is below: add it as a correction instead"))
    check_outcome(data, now)
    other = data.kind == "other_concern"
    outcome = ConcernOutcome(
        school_id=concern.school_id, concern_id=concern.id, kind=data.kind,
        category=data.category if other else None, route=data.route if other else None,
        route_at=from_uk_local(data.route_at_local) if other and data.route_at_local else None,
        decided_by_id=user.id, decided_at=now)
    outcome.reasons = check_reasons(data.reasons)
    outcome.route_detail = _clean(data.route_detail) if other else None
    outcome.route_reference = _clean(data.route_reference) if other else None
    db.session.add(outcome)
    _read_by(user, concern, "recorded", "and recorded without an incident: "
             + outcome_text(outcome), now, audit.CONCERN_TRIAGED,
             lambda: {"outcome": data.kind, "category": outcome.category,
                      "route": outcome.route, "outcome_id": str(outcome.id)})
    return outcome


def outcome_text(outcome: ConcernOutcome) -> str:
    """What was decided, in words: 'No further action', or the kind, the route and when."""
    text = CONCERN_OUTCOME_LABELS[outcome.kind]
    if outcome.kind != "other_concern":
        return text
    if outcome.category:
        text += f" ({CONCERN_CATEGORY_LABELS[outcome.category].lower()})"
    if outcome.route:
        text += f". Route: {OTHER_ROUTE_LABELS[outcome.route]}"
        if outcome.route_at is not None:
            text += f", {wording.when(outcome.route_at)}"
    return text


def open_incidents(school_id: uuid.UUID) -> list[Incident]:
    """The school's open incidents a concern may be added to, newest first (a short list)."""
    return list(db.session.scalars(
        select(Incident).where(Incident.school_id == school_id, Incident.state == "open",
                               ~access.incident_about_destroyed_only(school_id))
        .order_by(Incident.opened_at.desc()).limit(OPEN_INCIDENTS_SHOWN)))


def add_to_incident(user: User, concern: Concern, incident: Incident,
                    now: dt.datetime) -> None:
    """Add a concern to an open incident of its school: its children then appear on the
    incident to be added or recorded as not involved (R8)."""
    if incident.school_id != concern.school_id:
        raise Refused(Problem("R1", "incident", "Select an incident of this school"))
    if incident.state != "open":
        raise Refused(Problem("R1", "incident", "Select an incident that is still open"))
    linked = db.session.scalar(select(IncidentConcern.id).where(
        IncidentConcern.incident_id == incident.id, IncidentConcern.concern_id == concern.id))
    if linked is not None:
        raise Refused(Problem("R1", "incident", "This concern is already on that incident"))
    db.session.add(IncidentConcern(incident_id=incident.id, concern_id=concern.id))
    _read_by(user, concern, "picked_up", f"and added to incident {incident.reference}", now,
             audit.CONCERN_PICKED_UP, lambda: {"incident_id": str(incident.id), "added": True})


def note_incident_started(user: User, concerns: Iterable[Concern], incident: Incident,
                          now: dt.datetime) -> None:
    """Each named child's chronology says the concern became an incident."""
    for concern in concerns:
        _note(user, concern, f"Read: incident {incident.reference} started from it.", now)


# ---------------------------------------------------------------------------------------------
# Reading


def outcomes_of(school_id: uuid.UUID,
                concern_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[ConcernOutcome]]:
    """Each concern's outcomes (oldest first), in one query."""
    ids = list(concern_ids)
    out: dict[uuid.UUID, list[ConcernOutcome]] = {i: [] for i in ids}
    if not ids:
        return out
    for row in db.session.scalars(
        select(ConcernOutcome).where(ConcernOutcome.school_id == school_id,
                                     ConcernOutcome.concern_id.in_(ids))
        .options(reads.people_named(ConcernOutcome.decided_by))  # (not one statement each)
        .order_by(ConcernOutcome.decided_at)
    ):
        out[row.concern_id].append(row)
    return out


def incidents_of(concern: Concern) -> list[Incident]:
    return list(db.session.scalars(
        select(Incident).join(IncidentConcern, IncidentConcern.incident_id == Incident.id)
        .where(IncidentConcern.concern_id == concern.id, Incident.school_id == concern.school_id)
        .order_by(Incident.opened_at)))


def staff_status(concern: Concern, outcome: ConcernOutcome | None) -> str:
    """What the person who raised the concern is told: a plain status, never the DSL's
    reasons, the kind of concern or the route."""
    if concern.state == "recorded" and outcome is not None:
        when = f" on {wording.when(outcome.decided_at)}"
        if outcome.kind == "no_further_action":
            return f"Recorded — no further action{when}"
        return f"Recorded by a safeguarding lead{when} and dealt with outside an incident"
    if concern.state == "picked_up" and concern.picked_up_at is not None:
        return f"Picked up by a safeguarding lead on {wording.when(concern.picked_up_at)}"
    if concern.state == "picked_up":
        return "Picked up by a safeguarding lead"
    if concern.dsl_opened_at is not None:
        return f"Read by a safeguarding lead on {wording.when(concern.dsl_opened_at)}"
    return "Sent: waiting for a safeguarding lead"


def current_text(concern: Concern, field: str,
                 corrections: Sequence[Addendum] | None = None) -> str | None:
    """What the concern records for `field` now: the latest correction, else the original."""
    rows = corrections if corrections is not None else [
        a for a in db.session.scalars(
            select(Addendum).where(Addendum.school_id == concern.school_id,
                                   Addendum.target_type == "concern",
                                   Addendum.target_id == concern.id)
            .order_by(Addendum.created_at))]
    for addendum in reversed(list(rows)):
        if addendum.field == field:
            return addendum.correction
    value: str | None = getattr(concern, field)
    return value


# ---------------------------------------------------------------------------------------------
# Corrections (R5): the original stays; who, when, why and the corrected text are added


def _addendum(user: User, school_id: uuid.UUID, target_type: str, target_id: uuid.UUID,
              field: str, text: str, why: str, now: dt.datetime, concern: Concern) -> Addendum:
    addendum = Addendum(school_id=school_id, target_type=target_type, target_id=target_id,
                        field=field, author_id=user.id, created_at=now)
    addendum.correction = text
    addendum.reason = why
    db.session.add(addendum)
    db.session.flush()
    audit.record(audit.ADDENDUM_ADDED, org_id=str(school_id), actor_id=user.id,
                 object_type="addendum", object_id=addendum.id, at=now,
                 detail={"concern_id": str(concern.id), "target_type": target_type,
                         "target_id": str(target_id), "field": field})
    return addendum


def correct_concern(user: User, concern: Concern, field: str, correction: str | None,
                    reason: str | None, now: dt.datetime) -> Addendum:
    """Correct what the concern recorded (what happened, the child's words, when, where)."""
    if field not in CONCERN_FIELDS:
        raise Refused(Problem("R5", "field", "Select what you are correcting"))
    text, why = check_correction(correction, reason)
    return _addendum(user, concern.school_id, "concern", concern.id, field, text, why, now,
                     concern)


def correct_outcome(user: User, concern: Concern, outcome: ConcernOutcome,
                    correction: str | None, reason: str | None,
                    now: dt.datetime) -> Addendum:
    """Correct the reasons of a triage decision (R3 applies to both the text and the why)."""
    if outcome.concern_id != concern.id:
        raise Refused(Problem("R5", None, "Choose an outcome of this concern"))
    text, why = check_correction(correction, reason, judgement=True)
    return _addendum(user, concern.school_id, "concern_outcome", outcome.id, "reasons", text,
                     why, now, concern)


# ---------------------------------------------------------------------------------------------
# Carried through into the incident it starts


def _concerns_naming(incident: Incident, child: Child) -> list[Concern]:
    return list(db.session.scalars(
        select(Concern)
        .join(IncidentConcern, IncidentConcern.concern_id == Concern.id)
        .join(ConcernChild, ConcernChild.concern_id == Concern.id)
        .where(IncidentConcern.incident_id == incident.id, ConcernChild.child_id == child.id)
        .order_by(Concern.submitted_at)))


@dataclass(frozen=True)
class CarriedWords:
    """The child's words as a concern of the incident recorded them (with any correction).
    `prefill`: the concern names only this child, so the words are theirs and fill the form;
    naming several children, the words are shown beside the form for the DSL to place."""

    concern: Concern
    words: str | None
    missing_reason: str | None
    prefill: bool


def carried_words(incident: Incident, child: Child) -> CarriedWords | None:
    """The first concern of the incident naming `child` that recorded the child's words (or why
    they could not be recorded)."""
    for concern in _concerns_naming(incident, child):
        words = current_text(concern, "child_words")
        if words or concern.child_words_missing_reason:
            return CarriedWords(concern=concern, words=words,
                                missing_reason=concern.child_words_missing_reason,
                                prefill=len(concern.children) == 1)
    return None


def keep_words_change(user: User, incident: Incident, child: Child, words: str | None,
                      reason: str | None, now: dt.datetime) -> Addendum | None:
    """The DSL saved `child`'s words on the incident. Where they change the words the concern
    recorded for this child alone, the change is kept as a correction of the concern with the
    DSL's reason (R5): the concern's original stays. Nothing when they are the same."""
    carried = carried_words(incident, child)
    new = _clean(words)
    if carried is None or not carried.prefill or not carried.words or new is None:
        return None
    if new == carried.words.strip():
        return None
    if not _clean(reason):
        raise Refused(Problem(
            "R5", "words_change_reason",
            "Enter why you changed the child's words from what the concern recorded"))
    return correct_concern(user, carried.concern, "child_words", new, reason, now)


def summary_from_concerns(concerns: Sequence[Concern]) -> str:
    """The incident's 'what happened', filled in from its concerns for the DSL to confirm or
    correct: what was seen or heard, when and where (latest corrections included)."""
    parts = []
    for concern in concerns:
        lines = [current_text(concern, "what_happened") or ""]
        when = current_text(concern, "when_text")
        day = concern.occurred_on
        if day or when:
            lines.append("When: " + ", ".join(
                p for p in ((day_words(day) if day else ""), when or "") if p))
        where = current_text(concern, "where")
        if where:
            lines.append(f"Where: {where}")
        parts.append("\n".join(line for line in lines if line))
    return "\n\n".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------
# The school's time limit


def set_concern_days(user: User, school: School, days: int | None, now: dt.datetime) -> School:
    """The school's working days to triage a new concern (1 to MAX_CONCERN_DAYS), audited."""
    return school_settings.set_number(user, school, "concern_days", days, rule="R1",
                                      unit="working days", most=MAX_CONCERN_DAYS, now=now,
                                      record_unchanged=False)
