"""Recording an incident: open it from concerns, save its facts, children and narrative in short
steps, assess it on every save, record decisions and corrections, and close it.

Every operation takes plain inputs, applies the recording rules (`portal.services.recording`),
writes its rows and its audit entry, and flushes; the request commits once. Saves of an incident
carry the `version` the form was loaded with and bump it with one conditional UPDATE, so two DSLs
never silently overwrite each other (`StaleVersion`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, bindparam, select, update
from sqlalchemy.orm import aliased, load_only
from sqlalchemy.orm.attributes import set_committed_value

from .. import access, audit, reads, wording
from ..clock import from_uk_local, later_than_now, uk_local
from ..kept import kept
from ..models import (
    Addendum,
    Assessment,
    Child,
    Concern,
    ConcernChild,
    Decision,
    Incident,
    IncidentChild,
    IncidentConcern,
    IncidentRevision,
    LocalAuthority,
    RouteHandover,
    School,
    User,
    db,
    utcnow,
)
from ..models.records import NEWEST_ASSESSMENT_FIRST
from ..reads import Shown, shown, shown_with_corrections
from ..refusal import Gathered, Problem, Refused
from ..rules import assess
from ..rules.calendar import is_working_day
from ..rules.clock_words import day_words, moment_words
from ..rules.model import Assessment as RulesAssessment
from ..rules.versions import ResultChange, version_label
from ..rules.versions import compare as compare_results
from ..rules.versions import is_current as is_current_rules
from ..rules.vocabulary import (
    FEATURE_LABELS,
    FEATURES,
    ROLE_LABELS,
    ROLES,
    TYPE_LABELS,
    TYPES,
    WITNESS_ROLE,
)
from . import chronology, handover, merge, repeat_harm
from .children import add_child
from .facts import children_of_incidents as children_of_incidents
from .facts import facts_for, open_incidents
from .facts import incident_children as incident_children
from .localtime import directory_from_db as directory
from .parents import contacts_for
from .recording import (
    CHILD_DECISION_KINDS,
    DECISION_KINDS,
    ChildState,
    ClosingRefused,
    IncidentClosed,
    check_correction,
    check_decision,
    check_not_dismissive,
    check_reasons,
    closing_problems,
)
from .reviews import date_text, review_on_for_decision

# Overdue: a concern not triaged within the school's working days (`concern_due`); an incident
# with a mandatory route and no decision on it within 24 hours of opening.
INCIDENT_DECISION_HOURS: Final = 24


@dataclass(frozen=True, slots=True)
class ConflictView:
    """One field both saves changed differently, in words, for the page that asks which to
    keep: `theirs` was saved by `by` ('Dana Lead at 10:42', 'you in another tab ... at
    10:42'), `mine` is what this form posted. `unchosen`: asked before and not answered."""

    key: str
    label: str
    theirs: str
    mine: str
    by: str
    unchosen: bool = False


class StaleVersion(Refused):
    """Someone (or this same person in another tab) saved the incident after this form was
    loaded, and the two saves could not merge by themselves.

    `conflicts`: the fields both changed differently; `values`: what the form should show now
    (its fields merged: the other saves' changes in, this user's typing kept), in snapshot
    form; `current_version`: the version to save against next."""

    def __init__(self, *, message: str, saved_by: str, saved_at: dt.datetime,
                 current_version: int, changes: list[tuple[str, str, str]],
                 conflicts: tuple[ConflictView, ...] = (),
                 values: dict[str, Any] | None = None,
                 kept: tuple[str, ...] = ()) -> None:
        super().__init__(Problem("version", None, message))
        self.saved_by = saved_by
        self.saved_at = saved_at
        self.current_version = current_version
        self.changes = changes
        self.conflicts = conflicts
        self.values = values
        self.kept = kept


@dataclass(frozen=True, slots=True)
class Resolution:
    """The answers on a page that asked which value to keep: `asked`, the fields it asked
    about; of those, `theirs` keep the other save's value and `mine` this form's value."""

    asked: frozenset[str] = frozenset()
    theirs: frozenset[str] = frozenset()
    mine: frozenset[str] = frozenset()

    @property
    def unchosen(self) -> frozenset[str]:
        return self.asked - self.theirs - self.mine


# ---------------------------------------------------------------------------------------------
# Time and the directory




def authority_choices() -> list[tuple[str, str]]:
    return [(la.code, la.name) for la in db.session.scalars(
        select(LocalAuthority).where(LocalAuthority.active.is_(True)).order_by(LocalAuthority.name)
    )]


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class FactsInput:
    occurred_on: dt.date | None
    reported_at_local: dt.datetime | None  # naive Europe/London
    types: frozenset[str] = frozenset()
    features: frozenset[str] = frozenset()
    online: bool = False
    sexual_activity: bool = False
    immediate_danger: bool = False
    crime_suspected: bool = False
    arrested: bool = False
    adults_harmed: int = 0
    adults_at_risk: int = 0


@dataclass(frozen=True, slots=True)
class ChildInput:
    role: str
    dob: dt.date | None
    local_authority: str
    send: bool = False
    same_school: bool = True
    household: str | None = None
    child_words: str | None = None
    child_words_missing_reason: str | None = None
    # A child not yet in the school's records:
    given_name: str | None = None
    family_name: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionInput:
    kind: str
    reasons: str | None
    route: str | None = None
    child_id: uuid.UUID | None = None
    what: str | None = None
    # R10: for no further action or support in school; None gives the school's default.
    review_on: dt.date | None = None


# ---------------------------------------------------------------------------------------------
# Reading


def incident_concerns(incident: Incident) -> list[Concern]:
    return list(db.session.scalars(
        select(Concern).join(IncidentConcern, IncidentConcern.concern_id == Concern.id)
        .where(IncidentConcern.incident_id == incident.id).order_by(Concern.submitted_at)
    ))


def concern_children(concerns: Iterable[Concern]) -> list[Child]:
    ids = [c.id for c in concerns]
    if not ids:
        return []
    seen: dict[uuid.UUID, Child] = {}
    for child in db.session.scalars(
        select(Child).join(ConcernChild, ConcernChild.child_id == Child.id)
        .where(ConcernChild.concern_id.in_(ids)).order_by(Child.reference)
    ):
        seen.setdefault(child.id, child)
    return list(seen.values())


@kept  # built once per thread, bound at execution (portal/reads.py)
def _concerns_with_children() -> Select[uuid.UUID, Child]:
    return (select(Concern.id, Child)
            .join(IncidentConcern, IncidentConcern.concern_id == Concern.id)
            .outerjoin(ConcernChild, ConcernChild.concern_id == Concern.id)
            .outerjoin(Child, Child.id == ConcernChild.child_id)
            .where(IncidentConcern.incident_id == bindparam("incident_id"))
            .order_by(Concern.submitted_at, Concern.id))


def concerns_with_children(incident: Incident) -> tuple[list[uuid.UUID], list[Child]]:
    """The ids of `incident_concerns(incident)` (the incident page counts them: no concern is
    loaded whole) and their `concern_children`, in one statement."""
    concerns: dict[uuid.UUID, None] = {}
    children: dict[uuid.UUID, Child] = {}
    for concern_id, child in db.session.execute(_concerns_with_children(),
                                                {"incident_id": incident.id}):
        concerns.setdefault(concern_id, None)
        if child is not None:
            children.setdefault(child.id, child)
    return list(concerns), sorted(children.values(), key=lambda c: c.reference)


# An incident's decisions, oldest first.
DECISIONS_ORDER: Final = (Decision.decided_at, Decision.id)


def decisions(incident: Incident) -> list[Decision]:
    """The incident's decisions, oldest first."""
    return list(db.session.scalars(_decisions(), {"incident_id": incident.id}))


def decisions_as_shown(incident: Incident) -> Shown[Decision]:
    """The incident's decisions as its page shows them: oldest first, each with its corrections
    (with theirs) and its author's name, in one statement (`reads.shown_with_corrections`)."""
    return shown(db.session.execute(_decisions_as_shown(), {"incident_id": incident.id}))


@kept  # built once per thread, bound at execution (portal/reads.py)
def _decisions() -> Select[Decision]:
    return (select(Decision).where(Decision.incident_id == bindparam("incident_id"))
            .order_by(*DECISIONS_ORDER))


@kept  # built once per thread, bound at execution (portal/reads.py)
def _decisions_as_shown() -> Select[Any]:
    return (shown_with_corrections(Decision, Decision.decided_by, *DECISIONS_ORDER)
            .where(Decision.incident_id == bindparam("incident_id")))


def not_involved_ids(incident: Incident) -> set[uuid.UUID]:
    return {d.child_id for d in decisions(incident)
            if d.kind == "not_involved" and d.child_id is not None}


def unaccounted_children(incident: Incident) -> list[Child]:
    """R8: children on the incident's concerns neither on it nor recorded as not involved."""
    return unaccounted_from(incident_children(incident), decisions(incident),
                            concern_children(incident_concerns(incident)))


def unaccounted_from(rows: Iterable[IncidentChild], decided: Iterable[Decision],
                     named: Iterable[Child]) -> list[Child]:
    """`unaccounted_children` from loaded rows: the incident's children, its decisions and
    the children named in its concerns."""
    on = {ic.child_id for ic in rows}
    out = {d.child_id for d in decided if d.kind == "not_involved" and d.child_id is not None}
    return [c for c in named if c.id not in on and c.id not in out]


def latest_assessment(incident: Incident) -> Assessment | None:
    return db.session.scalar(
        select(Assessment).where(Assessment.incident_id == incident.id)
        .order_by(Assessment.incident_version.desc(), Assessment.assessed_at.desc()).limit(1)
    )


@dataclass(frozen=True)
class RulesChange:
    """What the page says about the assessment's rules: `change` is what the last save moved
    (with why); `preview` is what the current rules would give an open incident assessed under
    an older version, until it is saved again."""

    assessed_with: str
    current: bool
    change: ResultChange | None = None
    preview: ResultChange | None = None


def latest_assessments(incident: Incident, count: int) -> list[Assessment]:
    """The incident's latest `count` assessments, newest first."""
    return list(db.session.scalars(
        select(Assessment).where(Assessment.incident_id == incident.id)
        .order_by(*NEWEST_ASSESSMENT_FIRST).limit(count)
    ))


def rules_change(incident: Incident) -> RulesChange | None:
    """Whether the latest assessment changed the result, and whether the rules have moved on
    since it was made (RULES.md section 9: stored assessments keep their version)."""

    def current_result() -> RulesAssessment | None:
        facts = facts_for(incident)
        if facts is None:
            return None
        try:
            return assess(facts, directory())
        except KeyError:  # an authority no longer in the directory: nothing to preview
            return None

    return rules_change_from(incident, latest_assessments(incident, 2), current_result)


def rules_change_from(incident: Incident, latest_two: list[Assessment],
                      current_result: Callable[[], RulesAssessment | None],
                      ) -> RulesChange | None:
    """`rules_change` from the latest two assessments already loaded. `current_result`: the
    engine's result for the incident as it stands, asked for only when a preview is due (an
    open incident assessed under older rules), so a caller that has it passes it in."""
    if not latest_two:
        return None
    latest = latest_two[0]
    latest_result = json.loads(latest.result or "{}")
    change = None
    if len(latest_two) == 2:
        change = compare_results(json.loads(latest_two[1].result or "{}"), latest_result)
    preview = None
    current = is_current_rules(latest.rules_version)
    if not current and incident.state == "open":
        now_result = current_result()
        if now_result is not None:
            preview = compare_results(latest_result, now_result.as_json())
    return RulesChange(assessed_with=version_label(latest.rules_version), current=current,
                       change=change, preview=preview)


def revision(incident: Incident, version: int) -> IncidentRevision | None:
    return db.session.scalar(select(IncidentRevision).where(
        IncidentRevision.incident_id == incident.id, IncidentRevision.version == version))


def addenda_for(school_id: uuid.UUID, target_type: str,
                target_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Addendum]]:
    found = addenda_of(school_id, [(target_type, i) for i in target_ids])
    return {target_id: rows for (_, target_id), rows in found.items()}


def addenda_of(school_id: uuid.UUID, targets: Iterable[tuple[str, uuid.UUID]],
               ) -> dict[tuple[str, uuid.UUID], list[Addendum]]:
    """The corrections of each (target type, target id), oldest first, in one query whatever
    the mix of types."""
    out: dict[tuple[str, uuid.UUID], list[Addendum]] = {t: [] for t in targets}
    if not out:
        return out
    for a in db.session.scalars(
        select(Addendum).where(Addendum.school_id == school_id,
                               Addendum.target_type.in_({t for t, _ in out}),
                               Addendum.target_id.in_({i for _, i in out}))
        .options(reads.people_named(Addendum.author))  # (not one statement each)
        .order_by(Addendum.created_at)
    ):
        if (a.target_type, a.target_id) in out:
            out[(a.target_type, a.target_id)].append(a)
    return out


def child_label(child: Child) -> str:
    return child.named_label


# ---------------------------------------------------------------------------------------------
# Facts for the rules engine, snapshots and differences


def missing_for_assessment(incident: Incident,
                           rows: list[IncidentChild] | None = None) -> list[str]:
    """What the incident still needs before it can be assessed. `rows`: its children, when
    already loaded."""
    missing = []
    if not incident.occurred_on:
        missing.append("the date it happened")
    if not incident.reported_at:
        missing.append("when it was first reported")
    if not incident.types:
        missing.append("what kind of behaviour it was")
    if not (incident_children(incident) if rows is None else rows):
        missing.append("at least one child")
    return missing


# The facts form's fields as snapshot keys, and those that merge as sets (merge.three_way).
FACT_KEYS: Final = ("occurred_on", "reported_at", "online", "types", "sexual_activity",
                    "features", "immediate_danger", "crime_suspected", "arrested",
                    "adults_harmed")
FACT_SETS: Final = frozenset({"types", "features"})
# A child's form: its entry in the snapshot's "children".
CHILD_KEYS: Final = ("role", "dob", "send", "local_authority", "same_school", "household",
                     "child_words", "child_words_missing_reason")
# Each field in words, for the page that asks which value to keep and the note after a merge.
FIELD_LABELS: Final = {
    "occurred_on": "The date it happened", "reported_at": "When it was first reported",
    "online": "Online", "types": "The kinds of behaviour", "sexual_activity": "Sexual activity",
    "features": "What else applies", "immediate_danger": "Immediate danger",
    "crime_suspected": "A criminal offence", "arrested": "Arrested",
    "adults_harmed": "Adults harmed, not among the children", "summary": "What happened",
    "role": "The child's part in it", "dob": "Date of birth",
    "send": "Special educational needs or a disability", "local_authority": "Local authority",
    "same_school": "Attends this school", "household": "Household",
    "child_words": "The child's own words",
    "child_words_missing_reason": "Why their words could not be recorded",
}


def _minutes(at_local: dt.datetime) -> str:
    """A naive UK time as snapshots store it (to the minute)."""
    return at_local.isoformat(timespec="minutes")


def _facts_snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "occurred_on": incident.occurred_on.isoformat() if incident.occurred_on else None,
        "reported_at": _minutes(uk_local(incident.reported_at)) if incident.reported_at else None,
        "online": incident.online,
        "types": sorted(incident.types or []),
        "sexual_activity": incident.sexual_activity,
        "features": sorted(incident.features or []),
        "immediate_danger": incident.immediate_danger,
        "crime_suspected": incident.crime_suspected,
        "arrested": incident.arrested,
        "adults_harmed": list(incident.adults_harmed or []),
    }


def facts_values(facts: FactsInput) -> dict[str, Any]:
    """What the facts form posted, as snapshot values (what `merge.three_way` compares)."""
    reported = facts.reported_at_local
    return {
        "occurred_on": facts.occurred_on.isoformat() if facts.occurred_on else None,
        # Through UTC and back, as it is stored: a time the clocks skip reads as stored.
        "reported_at": _minutes(uk_local(from_uk_local(reported))) if reported else None,
        "online": facts.online,
        "types": sorted(facts.types),
        "sexual_activity": facts.sexual_activity,
        "features": sorted(facts.features),
        "immediate_danger": facts.immediate_danger,
        "crime_suspected": facts.crime_suspected,
        "arrested": facts.arrested,
        "adults_harmed": [{"at_risk": i < facts.adults_at_risk}
                          for i in range(max(facts.adults_harmed, 0))],
    }


def facts_input(values: dict[str, Any]) -> FactsInput:
    """Snapshot values back as the facts form's input (the inverse of `facts_values`)."""
    adults = values.get("adults_harmed") or []
    occurred, reported = values.get("occurred_on"), values.get("reported_at")
    return FactsInput(
        occurred_on=dt.date.fromisoformat(occurred) if occurred else None,
        reported_at_local=dt.datetime.fromisoformat(reported) if reported else None,
        types=frozenset(values.get("types") or ()),
        features=frozenset(values.get("features") or ()),
        online=bool(values.get("online")), sexual_activity=bool(values.get("sexual_activity")),
        immediate_danger=bool(values.get("immediate_danger")),
        crime_suspected=bool(values.get("crime_suspected")),
        arrested=bool(values.get("arrested")),
        adults_harmed=len(adults), adults_at_risk=sum(1 for a in adults if a.get("at_risk")),
    )


def current_facts(incident: Incident) -> FactsInput:
    """The incident's facts as the facts form shows them."""
    return facts_input(_facts_snapshot(incident))


def child_values(data: ChildInput) -> dict[str, Any]:
    """What a child's form posted, as the values of the child's entry in a snapshot."""
    return {
        "role": data.role, "dob": data.dob.isoformat() if data.dob else None,
        "send": bool(data.send), "local_authority": data.local_authority,
        "same_school": bool(data.same_school),
        "household": (data.household or "").strip()[:40] or None,
        "child_words": (data.child_words or "").strip() or None,
        "child_words_missing_reason": (data.child_words_missing_reason or "").strip() or None,
    }


def child_input(values: dict[str, Any], *, given_name: str | None = None,
                family_name: str | None = None) -> ChildInput:
    """A child's snapshot values back as the child form's input."""
    dob = values.get("dob")
    return ChildInput(
        role=values.get("role") or "", dob=dt.date.fromisoformat(dob) if dob else None,
        local_authority=values.get("local_authority") or "", send=bool(values.get("send")),
        same_school=bool(values.get("same_school")), household=values.get("household"),
        child_words=values.get("child_words"),
        child_words_missing_reason=values.get("child_words_missing_reason"),
        given_name=given_name, family_name=family_name,
    )


def _child_entry(snap: dict[str, Any], child_id: uuid.UUID | None) -> dict[str, Any]:
    """The child's fields in a snapshot ({} when the child was not on the incident)."""
    for entry in snap.get("children") or []:
        if child_id is not None and entry.get("child_id") == str(child_id):
            return {key: entry.get(key) for key in CHILD_KEYS}
    return {}


def describe(key: str, value: Any) -> str:
    """A field's snapshot value in plain words (dates in words, labels, never codes)."""
    if key in FACT_SETS:
        labels = TYPE_LABELS if key == "types" else FEATURE_LABELS
        return ", ".join(labels.get(v, v) for v in value or []) or "None"
    if key == "adults_harmed":
        adults = value or []
        at_risk = sum(1 for a in adults if a.get("at_risk"))
        return f"{len(adults)} ({at_risk} at risk)" if adults else "None"
    if value is None or value == "":
        return "Not yet recorded" if key in {"summary", "child_words"} else "Not given"
    if key in {"occurred_on", "dob"}:
        return day_words(dt.date.fromisoformat(value))
    if key == "reported_at":
        return moment_words(dt.datetime.fromisoformat(value))
    if key == "role":
        return str(ROLE_LABELS.get(value, value))
    if key == "local_authority":
        return db.session.scalar(select(LocalAuthority.name).where(
            LocalAuthority.code == value)) or str(value)
    if isinstance(value, bool):
        return _yes_no(value)
    return str(value)


def _sentence_label(key: str) -> str:
    return wording.mid_sentence(FIELD_LABELS.get(key, key))


def snapshot(incident: Incident) -> dict[str, Any]:
    """Everything a save can change, as JSON (stored encrypted in IncidentRevision)."""
    return {
        **_facts_snapshot(incident),
        "summary": incident.summary,
        "children": [
            {
                "child_id": str(ic.child_id),
                "name": child_label(ic.child),
                "role": ic.role,
                "dob": ic.child.dob.isoformat() if ic.child.dob else None,
                "send": bool(ic.child.send),
                "local_authority": ic.child.local_authority_code,
                "same_school": ic.same_school,
                "household": ic.household,
                "child_words": ic.child_words,
                "child_words_missing_reason": ic.child_words_missing_reason,
            }
            for ic in incident_children(incident)
        ],
    }


def _yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def _flat(snap: dict[str, Any]) -> dict[str, str]:
    """A snapshot as labelled, readable values, for the list of what another DSL changed."""
    adults = snap.get("adults_harmed") or []
    out = {
        "Date it happened": wording.day(snap.get("occurred_on")) or "Not given",
        "First reported": wording.when(snap.get("reported_at")) or "Not given",
        "Online": _yes_no(snap.get("online")),
        "Types": ", ".join(TYPE_LABELS.get(t, t) for t in snap.get("types") or []) or "None",
        "Sexual activity": _yes_no(snap.get("sexual_activity")),
        "Features": ", ".join(FEATURE_LABELS.get(f, f) for f in snap.get("features") or [])
        or "None",
        "Immediate danger": _yes_no(snap.get("immediate_danger")),
        "The behaviour may be a crime": _yes_no(snap.get("crime_suspected")),
        "Arrested": _yes_no(snap.get("arrested")),
        "Adults harmed, not among the children":
            f"{len(adults)} ({sum(1 for a in adults if a.get('at_risk'))} at risk)",
        "What happened": snap.get("summary") or "Not yet recorded",
    }
    for c in snap.get("children") or []:
        name = c.get("name", "")
        out[f"{name}: role"] = ROLE_LABELS.get(c.get("role"), c.get("role") or "")
        out[f"{name}: date of birth"] = wording.day(c.get("dob"))
        out[f"{name}: SEND"] = _yes_no(c.get("send"))
        out[f"{name}: local authority"] = wording.authority_name(c.get("local_authority"))
        out[f"{name}: attends this school"] = _yes_no(c.get("same_school"))
        out[f"{name}: household"] = c.get("household") or "None"
        out[f"{name}: own words"] = (c.get("child_words") or c.get("child_words_missing_reason")
                                     or "Not yet recorded")
    return out


def changes_between(before: dict[str, Any] | None,
                    after: dict[str, Any]) -> list[tuple[str, str, str]]:
    """[(field, before, after)] for every field that differs."""
    old = _flat(before or {})
    new = _flat(after)
    out = []
    for key in dict.fromkeys([*old, *new]):
        if old.get(key, "Not recorded") != new.get(key, "Not recorded"):
            out.append((key, old.get(key, "Not recorded"), new.get(key, "Not recorded")))
    return out


def _revision_snapshot(incident: Incident, version: int) -> dict[str, Any] | None:
    rev = revision(incident, version)
    if rev is None or rev.snapshot is None:
        return None
    data: dict[str, Any] = json.loads(rev.snapshot)
    return data


# ---------------------------------------------------------------------------------------------
# Saving: the version guard, the merge, the revision and the assessment


@dataclass(frozen=True)
class _Edit:
    """What one form changes: its fields as snapshot values (`mine`), how to find the same
    fields in a snapshot (`pick`), which of them merge as sets, and the answers on a page that
    asked which value to keep."""

    mine: dict[str, Any]
    pick: Callable[[dict[str, Any]], dict[str, Any]]
    sets: frozenset[str] = frozenset()
    resolution: Resolution | None = None


_NO_FIELDS = _Edit(mine={}, pick=lambda snap: {})


def _revisions(incident: Incident, *, after: int = 0, upto: int | None = None,
               ) -> list[tuple[IncidentRevision, dict[str, Any]]]:
    """The incident's revisions after version `after` (up to `upto`), oldest first, with their
    snapshots."""
    query = select(IncidentRevision).where(IncidentRevision.incident_id == incident.id,
                                           IncidentRevision.version > after)
    if upto is not None:
        query = query.where(IncidentRevision.version <= upto)
    return [(rev, json.loads(rev.snapshot) if rev.snapshot else {})
            for rev in db.session.scalars(query.order_by(IncidentRevision.version))]


def _other_save(user: User, rev: IncidentRevision) -> merge.OtherSave:
    saver = db.session.get(User, rev.saved_by_id)
    return merge.OtherSave(by_you=rev.saved_by_id == user.id,
                           name=saver.display_name if saver is not None else "unknown",
                           at_local=uk_local(rev.saved_at))


def _last_changes(revs: list[tuple[IncidentRevision, dict[str, Any]]], edit: _Edit,
                  keys: Iterable[str]) -> dict[str, IncidentRevision]:
    """For each key, the latest of `revs` that changed it (compared with the one before)."""
    keys = list(keys)
    found: dict[str, IncidentRevision] = {}
    for (_, before), (rev, after) in itertools.pairwise(revs):
        old, new = edit.pick(before), edit.pick(after)
        for key in keys:
            if old.get(key) != new.get(key):
                found[key] = rev
    return found


def _conflict_views(user: User, incident: Incident, edit: _Edit, items: list[tuple[str, Any, Any]],
                    upto: int, now: dt.datetime, *, unchosen: Collection[str] = ()
                    ) -> tuple[ConflictView, ...]:
    """(key, theirs, mine) in words, each with who saved theirs and when (the latest revision up
    to `upto` that changed it)."""
    revs = _revisions(incident, upto=upto)
    changed = _last_changes(revs, edit, [key for key, _, _ in items])
    today = uk_local(now).date()
    views = []
    for key, theirs, mine in items:
        rev = changed.get(key) or (revs[-1][0] if revs else None)
        by = (merge.saved_by_words(_other_save(user, rev), today) if rev is not None
              else "someone else")
        views.append(ConflictView(key=key, label=FIELD_LABELS.get(key, key),
                                  theirs=describe(key, theirs), mine=describe(key, mine), by=by,
                                  unchosen=key in unchosen))
    return tuple(views)


def _stale(user: User, incident: Incident, loaded_version: int, now: dt.datetime, *,
           edit: _Edit | None = None, result: merge.Merge | None = None) -> StaleVersion:
    """Why a save based on `loaded_version` could not go through, in plain words: who saved
    since (another DSL by name, or this user in another tab), and what to do."""
    revs = _revisions(incident, after=loaded_version)
    saves = [_other_save(user, rev) for rev, _ in revs]
    who = merge.who_saved(saves, uk_local(now).date())
    latest = revs[-1] if revs else None
    changes = changes_between(_revision_snapshot(incident, loaded_version),
                              latest[1] if latest is not None else snapshot(incident))
    common = dict(
        saved_by=saves[-1].name if saves else "unknown",
        saved_at=latest[0].saved_at if latest is not None else incident.updated_at,
        current_version=incident.version, changes=changes)
    if edit is None or result is None or result.clean:
        return StaleVersion(
            message=f"{who}. Their changes are shown below; your text is kept in the form. "
                    "Check and save again.", **common)  # type: ignore[arg-type]
    conflicts = _conflict_views(
        user, incident, edit, [(c.key, c.theirs, c.mine) for c in result.conflicts],
        incident.version, now)
    labels = merge.and_words([_sentence_label(c.key) for c in result.conflicts])
    things = "thing" if len(conflicts) == 1 else "things"
    return StaleVersion(
        message=f"{who}, changing the same {things} you changed here: {labels}. Nothing has "
                "been saved yet and your text is kept in the form: choose which to keep, then "
                "save again.",
        conflicts=conflicts, values=result.values,
        kept=tuple(FIELD_LABELS.get(k, k) for k in result.theirs_kept),
        **common)  # type: ignore[arg-type]


def _unchosen(user: User, incident: Incident, loaded_version: int, now: dt.datetime,
              edit: _Edit, base: dict[str, Any]) -> StaleVersion:
    """The page asked which value to keep and some were not answered: ask again."""
    resolution = edit.resolution or Resolution()
    asked = [key for key in edit.mine if key in resolution.asked]
    conflicts = _conflict_views(
        user, incident, edit, [(key, base.get(key), edit.mine[key]) for key in asked],
        loaded_version, now, unchosen=resolution.unchosen)
    rev = revision(incident, loaded_version)
    return StaleVersion(
        message="Choose which to keep for each thing changed in both places, then save again",
        saved_by="", saved_at=rev.saved_at if rev is not None else incident.updated_at,
        current_version=loaded_version, changes=[], conflicts=conflicts,
        values=dict(edit.mine))


def _try_bump(incident: Incident, loaded_version: int, now: dt.datetime) -> int | None:
    """Claim the next version with one conditional UPDATE (atomic on PostgreSQL and SQLite);
    None if the incident is no longer at `loaded_version`."""
    result = db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.version == loaded_version)
        .values(version=Incident.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    set_committed_value(incident, "version", loaded_version + 1)
    set_committed_value(incident, "updated_at", now)
    return loaded_version + 1


# Saves that slip in between merging and claiming the version are merged again, this often.
_MERGE_ATTEMPTS: Final = 3


def _claim(user: User, incident: Incident, loaded_version: int, now: dt.datetime,
           edit: _Edit) -> tuple[int, dict[str, Any], int | None]:
    """Claim the next version for a form loaded at `loaded_version`, merging with any saves
    made since (issue 12: never drop them). Returns (the new version, the values to save, the
    version merged from or None); raises `StaleVersion` on a conflict."""
    mine = dict(edit.mine)
    resolution = edit.resolution
    if resolution is not None and resolution.asked:
        base = edit.pick(_revision_snapshot(incident, loaded_version) or {})
        if resolution.unchosen & mine.keys():
            raise _unchosen(user, incident, loaded_version, now, edit, base)
        for key in resolution.theirs & mine.keys():
            mine[key] = base.get(key)  # keeping theirs: as if this form had not changed it
    version = _try_bump(incident, loaded_version, now)
    if version is not None:
        return version, mine, None
    for _ in range(_MERGE_ATTEMPTS):
        db.session.refresh(incident)
        if incident.state == "closed":
            raise IncidentClosed()
        base_snap = _revision_snapshot(incident, loaded_version)
        if base_snap is None:  # no such version (a tampered form): nothing to merge from
            break
        result = merge.three_way(edit.pick(base_snap), mine, edit.pick(snapshot(incident)),
                                 sets=edit.sets)
        if not result.clean:
            raise _stale(user, incident, loaded_version, now, edit=edit, result=result)
        version = _try_bump(incident, incident.version, now)
        if version is not None:
            return version, result.values, loaded_version
    raise _stale(user, incident, loaded_version, now)


def _children_saved(snap: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A revision's children as a save of the incident changes them: not their labels, which a
    name corrected on the child's file changes between two saves (walk 5: "the children" said
    changed by another tab that changed only the facts)."""
    return [{key: value for key, value in child.items() if key != "name"}
            for child in snap.get("children") or []]


def merge_note(user: User, incident: Incident, loaded_version: int,
               now: dt.datetime) -> str | None:
    """After a save that merged with others made since the form was loaded, a plain note of it:
    'Your changes were saved together with those made at 10:42 by another DSL (Dana Lead): the
    kinds of behaviour.' None when nothing was merged. Never a child's name (it is flashed)."""
    if loaded_version < 1 or incident.version <= loaded_version + 1:
        return None
    revs = _revisions(incident, after=loaded_version, upto=incident.version - 1)
    base = _revision_snapshot(incident, loaded_version)
    if not revs or base is None:
        return None
    theirs = revs[-1][1]
    what = [_sentence_label(key) for key in (*FACT_KEYS, "summary")
            if base.get(key) != theirs.get(key)]
    if _children_saved(base) != _children_saved(theirs):
        what.append("the children")
    saves = [_other_save(user, rev) for rev, _ in revs]
    note = ("Your changes were saved together with those made "
            + merge.by_whom(saves, uk_local(now).date()))
    return note + (f": {merge.and_words(what)}." if what else ".")


def assess_incident(incident: Incident, now: dt.datetime) -> Assessment | None:
    """Run the rules on the incident as it now is and store the answer (None if incomplete)."""
    facts = facts_for(incident)
    if facts is None:
        incident.mandatory_routes = []
        return None
    result: RulesAssessment = assess(facts, directory())
    row = Assessment(
        incident_id=incident.id, school_id=incident.school_id, incident_version=incident.version,
        rules_version=result.rules_version, triggers=list(result.triggers),
        routes=list(result.routes), mandatory_routes=list(result.mandatory_routes),
        considerations=list(result.considerations), assessed_at=now,
    )
    row.result = json.dumps(result.as_json())
    db.session.add(row)
    incident.mandatory_routes = list(result.mandatory_routes)
    return row


def _save(user: User, incident: Incident, loaded_version: int, now: dt.datetime,
          step: str, change: Callable[[dict[str, Any]], None],
          edit: _Edit = _NO_FIELDS) -> Incident:
    """Claim the version (merging with saves made since the form was loaded, or refusing on a
    conflict), apply `change` to the values to save, write the revision and the assessment
    (on the merged result)."""
    if incident.state == "closed":
        raise IncidentClosed()
    version, values, merged_from = _claim(user, incident, loaded_version, now, edit)
    change(values)
    db.session.flush()
    _add_revision(user, incident, version, now, merged_from)
    assessed = assess_incident(incident, now)
    db.session.flush()
    detail: dict[str, Any] = {"step": step, "version": version}
    if merged_from is not None:
        detail["merged_from"] = merged_from
    audit.record(audit.INCIDENT_SAVED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="incident", object_id=incident.id, at=now, detail=detail)
    if assessed is not None:
        audit.record(audit.INCIDENT_ASSESSED, org_id=str(incident.school_id), actor_id=user.id,
                     object_type="incident", object_id=incident.id, at=now,
                     detail={"version": version, "rules_version": assessed.rules_version,
                             "triggers": [t.lower() for t in assessed.triggers],
                             "mandatory_routes": list(assessed.mandatory_routes)})
    return incident


def _add_revision(user: User, incident: Incident, version: int, now: dt.datetime,
                  merged_from: int | None, **extra: Any) -> IncidentRevision:
    """The revision of a save; `merged_from`: the version its form was loaded at, when it was
    merged with the saves made since."""
    rev = IncidentRevision(incident_id=incident.id, school_id=incident.school_id,
                           version=version, saved_by_id=user.id, saved_at=now,
                           merged_from_version=merged_from)
    rev.snapshot = json.dumps({**snapshot(incident), **extra})
    db.session.add(rev)
    return rev


# ---------------------------------------------------------------------------------------------
# Operations


def open_incident(user: User, concerns: list[Concern], now: dt.datetime) -> Incident:
    """A new incident from one or more concerns; the concerns are picked up."""
    if not concerns:
        raise Refused(Problem("R1", "concerns", "Select at least one concern"))
    school_id = concerns[0].school_id
    if any(c.school_id != school_id or c.state == "draft" for c in concerns):
        raise Refused(Problem("R1", "concerns", "Select concerns that have been submitted"))
    db.session.execute(
        update(School).where(School.id == school_id)
        .values(next_incident_number=School.next_incident_number + 1)
        .execution_options(synchronize_session=False)
    )
    number = int(db.session.scalar(select(School.next_incident_number)
                                   .where(School.id == school_id)) or 1) - 1
    school = db.session.get(School, school_id)
    if school is not None:
        set_committed_value(school, "next_incident_number", number + 1)
    dates = [c.occurred_on for c in concerns if c.occurred_on]
    incident = Incident(
        school_id=school_id, reference=f"I{number:04d}", state="open", version=1,
        opened_by_id=user.id, opened_at=now, updated_at=now,
        occurred_on=min(dates) if dates else None,
        reported_at=min(c.submitted_at for c in concerns),
        online=any(c.online for c in concerns), types=[], features=[], adults_harmed=[],
        mandatory_routes=[],
    )
    db.session.add(incident)
    db.session.flush()
    for concern in concerns:
        db.session.add(IncidentConcern(incident_id=incident.id, concern_id=concern.id))
        if concern.state == "submitted":
            concern.state = "picked_up"
            concern.picked_up_at = now
            concern.picked_up_by_id = user.id
            audit.record(audit.CONCERN_PICKED_UP, org_id=str(school_id), actor_id=user.id,
                         object_type="concern", object_id=concern.id, at=now,
                         detail={"incident_id": str(incident.id)})
    db.session.flush()
    rev = IncidentRevision(incident_id=incident.id, school_id=school_id, version=1,
                           saved_by_id=user.id, saved_at=now)
    rev.snapshot = json.dumps(snapshot(incident))
    db.session.add(rev)
    audit.record(audit.INCIDENT_OPENED, org_id=str(school_id), actor_id=user.id,
                 object_type="incident", object_id=incident.id, at=now,
                 detail={"concerns": len(concerns), "version": 1})
    db.session.flush()
    return incident


def _check_facts(facts: FactsInput, now: dt.datetime) -> None:
    problems = []
    if facts.occurred_on is None:
        problems.append(Problem("facts", "occurred_on", "Enter the date it happened"))
    if facts.reported_at_local is None:
        problems.append(Problem("facts", "reported_date",
                                "Enter the date and time it was first reported"))
    if (facts.occurred_on and facts.reported_at_local
            and facts.occurred_on > facts.reported_at_local.date()):
        problems.append(Problem("facts", "occurred_on",
                                "The date it happened must be on or before the date it was "
                                "first reported"))
    later = (later_than_now(facts.reported_at_local, now, "it was first reported",
                            ("reported_date", "reported_time"))
             if facts.reported_at_local else None)
    if later:
        problems.append(Problem("facts", *later))
    if not facts.types:
        problems.append(Problem("facts", "types_non_sexual",
                                "Select what kind of behaviour it was"))
    if facts.types - TYPES or facts.features - FEATURES:
        problems.append(Problem("facts", "types_non_sexual", "Select from the list"))
    if facts.adults_harmed < 0 or facts.adults_at_risk < 0:
        problems.append(Problem("facts", "adults_harmed", "Enter 0 or more"))
    elif facts.adults_at_risk > facts.adults_harmed:
        problems.append(Problem("facts", "adults_at_risk",
                                "The number of adults at risk cannot be more than the number "
                                "of adults harmed"))
    if problems:
        raise Refused(*problems)


def save_facts(user: User, incident: Incident, loaded_version: int, facts: FactsInput,
               now: dt.datetime, *, resolution: Resolution | None = None) -> Incident:
    """The facts (step 1). Saved on a form loaded before another save, they merge with it
    field by field (`_claim`); the merged facts are checked again before they are saved."""
    _check_facts(facts, now)
    posted = facts_values(facts)

    def change(values: dict[str, Any]) -> None:
        merged = facts if values == posted else facts_input(values)
        if merged is not facts:
            _check_facts(merged, now)
        incident.occurred_on = merged.occurred_on
        incident.reported_at = from_uk_local(merged.reported_at_local)  # type: ignore[arg-type]
        incident.types = sorted(merged.types)
        incident.features = sorted(merged.features)
        incident.online = merged.online
        incident.sexual_activity = merged.sexual_activity
        incident.immediate_danger = merged.immediate_danger
        incident.crime_suspected = merged.crime_suspected
        incident.arrested = merged.arrested
        incident.adults_harmed = list(values["adults_harmed"])

    return _save(user, incident, loaded_version, now, "facts", change, _Edit(
        mine=posted, pick=lambda snap: {key: snap.get(key) for key in FACT_KEYS},
        sets=FACT_SETS, resolution=resolution))


def reassess(user: User, incident: Incident, loaded_version: int, now: dt.datetime) -> Incident:
    """Assess an open incident again under the current rules, changing nothing else."""
    return _save(user, incident, loaded_version, now, "reassess", lambda _: None)


def save_summary(user: User, incident: Incident, loaded_version: int, summary: str | None,
                 now: dt.datetime, *, resolution: Resolution | None = None) -> Incident:
    text = (summary or "").strip()
    if not text:
        raise Refused(Problem("R1", "summary", "Enter what happened"))

    def change(values: dict[str, Any]) -> None:
        if values["summary"] != incident.summary:
            incident.summary = values["summary"]

    return _save(user, incident, loaded_version, now, "summary", change, _Edit(
        mine={"summary": text}, pick=lambda snap: {"summary": snap.get("summary")},
        resolution=resolution))


def _check_child(data: ChildInput, authorities: set[str]) -> None:
    problems = []
    if data.role not in ROLES:
        problems.append(Problem("R8", "role", "Select the child's part in the incident"))
    if data.dob is None:
        problems.append(Problem("R8", "dob", "Enter the child's date of birth"))
    if data.local_authority not in authorities:
        problems.append(Problem("R8", "local_authority",
                                "Select the local authority where the child lives"))
    if problems:
        raise Refused(*problems)


def save_child(user: User, incident: Incident, loaded_version: int, child: Child | None,
               data: ChildInput, now: dt.datetime, *,
               resolution: Resolution | None = None) -> IncidentChild:
    """Add a child to the incident, or change their part in it (R8). `child` None: a child not
    yet in the school's records, made from `data.given_name` / `data.family_name`. Saved on a
    form loaded before another save, the child's fields merge with it (`_claim`)."""
    _check_child(data, {code for code, _ in authority_choices()} | set(directory()))
    if child is None and not ((data.given_name or "").strip() and (data.family_name or "").strip()):
        raise Refused(Problem("R8", "given_name", "Enter the child's first and last name"))
    if child is not None and child.school_id != incident.school_id:
        raise Refused(Problem("R8", None, "Select a child of this school"))
    holder: dict[str, IncidentChild] = {}
    posted = child_values(data)

    def change(values: dict[str, Any]) -> None:
        nonlocal data
        if values != posted:
            data = child_input(values, given_name=data.given_name, family_name=data.family_name)
        target = _child_to_save(user, incident, child, data, now)
        row, new = _part_in_incident(incident, target, data, now)
        db.session.flush()
        # The keyed hashes an authority matches repeat harm across its schools by (the part,
        # the date of birth or the child may have changed).
        repeat_harm.mark_child(target)
        holder["row"] = row
        if new:
            _child_entries_on_add(user, incident, row, now)

    child_id = child.id if child is not None else None
    _save(user, incident, loaded_version, now, "children", change, _Edit(
        mine=posted, pick=lambda snap: _child_entry(snap, child_id), resolution=resolution))
    return holder["row"]


def _child_to_save(user: User, incident: Incident, child: Child | None, data: ChildInput,
                   now: dt.datetime) -> Child:
    """The child being saved to the incident: a new one added by hand (`child` None), or
    `child` with their own facts as entered."""
    if child is None:
        school = db.session.get(School, incident.school_id)
        assert school is not None
        target = add_child(
            school, given_name=(data.given_name or "").strip(),
            family_name=(data.family_name or "").strip(), dob=data.dob,
            send=data.send, local_authority_code=data.local_authority,
            # added by hand: not on the roll until an import matches them
            created_by_id=user.id, on_roll=False,
        )
        audit.record(audit.CHILD_CREATED, org_id=str(incident.school_id), actor_id=user.id,
                     object_type="child", object_id=target.id, at=now)
        return target
    # The child's own facts: every earlier value stays in the incident's revisions.
    if child.dob != data.dob:
        child.dob = data.dob
    if bool(child.send) != data.send:
        child.send = data.send
    child.local_authority_code = data.local_authority
    return child


def _part_in_incident(incident: Incident, target: Child, data: ChildInput,
                      now: dt.datetime) -> tuple[IncidentChild, bool]:
    """The child's row in the incident, with their part as entered; and whether it is new."""
    rows = incident_children(incident)
    row = next((r for r in rows if r.child_id == target.id), None)
    new = row is None
    if row is None:
        row = IncidentChild(incident_id=incident.id, child_id=target.id,
                            school_id=incident.school_id, position=len(rows), added_at=now)
        db.session.add(row)
        # Year group, sex and SEND as they are now, as plain codes for reports.
        from .report_stats import record_statistics

        record_statistics(row, target)
    row.role = data.role
    row.same_school = data.same_school
    row.household = (data.household or "").strip()[:40] or None
    words = (data.child_words or "").strip() or None
    why_not = (data.child_words_missing_reason or "").strip() or None
    if words != row.child_words:
        row.child_words = words
    if why_not != row.child_words_missing_reason:
        row.child_words_missing_reason = why_not
    return row, new


def _child_entries_on_add(user: User, incident: Incident, row: IncidentChild,
                          now: dt.datetime) -> None:
    """R6: the added child's own file gets an entry; others appear by initials and reference."""
    others = [ic.child for ic in incident_children(incident) if ic.child_id != row.child_id]
    also = ", ".join(chronology.label(o, in_file_of=row.child) for o in others)
    chronology.add_entry(
        row.child, "incident",
        f"Recorded in incident {incident.reference} as: {ROLE_LABELS[row.role].lower()}."
        + (f" Also involved: {also}." if also else ""),
        author_id=user.id, incident=incident, source=incident, occurred_at=now,
    )


@dataclass(frozen=True)
class CheckedDecision:
    """A decision's input once every rule has passed: the child it is about, the cleaned
    reasons and what was decided, the review date."""

    child: Child | None
    reasons: str
    what: str
    review_on: dt.date | None


def check_decision_input(incident: Incident, data: DecisionInput,
                         now: dt.datetime) -> CheckedDecision:
    """Every rule a decision must pass (R2, R3, R4, R8, R10), every problem at once; writes
    nothing, so a form that failed its own checks can show these too."""
    if incident.state == "closed":
        raise IncidentClosed()
    assessment = latest_assessment(incident)
    found = Gathered()
    child = found.check(lambda: _decision_child(incident, data), None)
    reasons = found.check(lambda: check_decision(
        data.kind, data.route, routes=assessment.routes if assessment is not None else [],
        mandatory_routes=incident.mandatory_routes or [], reasons=data.reasons,
        child_required=data.kind in {"not_involved", "no_further_action", "early_help",
                                     "internal_support"},
        child_given=child is not None or data.child_id is not None), "")
    review_on = found.check(lambda: review_on_for_decision(
        data.kind, data.review_on, db.session.get(School, incident.school_id), now), None)
    what = found.check(lambda: check_not_dismissive(data.what, field="what"), None)
    found.raise_any()
    return CheckedDecision(child, reasons, what or DECISION_KINDS[data.kind], review_on)


def _decision_child(incident: Incident, data: DecisionInput) -> Child | None:
    """The child a decision is about (one on the incident; for "not involved", one of its
    concerns' children not on it), or None for the whole incident."""
    if data.child_id is None:
        return None
    on_incident = {ic.child_id: ic.child for ic in incident_children(incident)}
    child = on_incident.get(data.child_id)
    if data.kind == "not_involved":
        concern_kids = {c.id: c for c in concern_children(incident_concerns(incident))}
        child = concern_kids.get(data.child_id)
        if data.child_id in on_incident:
            raise Refused(Problem(
                "R8", "child", "This child is on the incident: change their part instead"))
    if child is None:
        raise Refused(Problem("R2", "child", "Select a child on this incident"))
    return child


def record_decision(user: User, incident: Incident, data: DecisionInput,
                    now: dt.datetime) -> Decision:
    """One decision: who, when, what, why (R2), never dismissive (R3), never declining a
    mandatory route (R4). Decisions are append-only; they do not touch the incident's facts."""
    checked = check_decision_input(incident, data, now)
    child, reasons, what, review_on = (checked.child, checked.reasons, checked.what,
                                       checked.review_on)
    decision = Decision(school_id=incident.school_id, incident_id=incident.id,
                        child_id=child.id if child else None, kind=data.kind,
                        route=data.route if data.kind in {"take_route", "handed_over",
                                                          "decline_route"} else None,
                        decided_by_id=user.id, decided_at=now, review_on=review_on)
    decision.what = what
    decision.reasons = reasons
    db.session.add(decision)
    db.session.flush()
    audit.record(audit.DECISION_RECORDED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="decision", object_id=decision.id, at=now,
                 detail={"incident_id": str(incident.id), "kind": data.kind,
                         "route": decision.route, "child_id": str(child.id) if child else None})
    # R6: each child concerned gets the decision in their own file.
    targets = [child] if child is not None else [ic.child for ic in incident_children(incident)]
    for target in targets:
        chronology.add_entry(
            target, "decision",
            f"Decision on incident {incident.reference}: {DECISION_KINDS[data.kind].lower()}"
            + (f" ({decision.route.replace('_', ' ')})" if decision.route else "") + "."
            + (f" Review on {date_text(review_on)}." if review_on else ""),
            author_id=user.id, incident=incident, source=decision, occurred_at=now,
        )
    return decision


def add_correction(user: User, incident: Incident, *, target_type: str, target_id: uuid.UUID,
                   field: str, correction: str | None, reason: str | None,
                   now: dt.datetime) -> Addendum:
    """R5: the original stays; the addendum records who, when, why and the corrected text."""
    text, why = check_correction(correction, reason,
                                 judgement=target_type == "decision")
    if target_type == "incident":
        if target_id != incident.id or field != "summary":
            raise Refused(Problem("R5", None, "Choose something on this incident"))
    elif target_type == "decision":
        found = db.session.scalar(select(Decision).where(
            Decision.id == target_id, Decision.incident_id == incident.id))
        if found is None or field not in {"reasons", "what"}:
            raise Refused(Problem("R5", None, "Choose a decision on this incident"))
    elif target_type == "route_handover":
        record = db.session.scalar(select(RouteHandover).where(
            RouteHandover.id == target_id, RouteHandover.incident_id == incident.id,
            RouteHandover.school_id == incident.school_id))
        if record is None or field != "details":
            raise Refused(Problem("R5", None, "Choose a handover record on this incident"))
    else:
        raise Refused(Problem("R5", None, "Choose something on this incident"))
    addendum = Addendum(school_id=incident.school_id, target_type=target_type,
                        target_id=target_id, field=field, author_id=user.id, created_at=now)
    addendum.correction = text
    addendum.reason = why
    db.session.add(addendum)
    db.session.flush()
    audit.record(audit.ADDENDUM_ADDED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="addendum", object_id=addendum.id, at=now,
                 detail={"incident_id": str(incident.id), "target_type": target_type,
                         "target_id": str(target_id), "field": field})
    return addendum


def closing_check(incident: Incident, now: dt.datetime | None = None) -> list[Problem]:
    """What still stops this incident closing (empty when it may close). R4: each mandatory
    route without its own record is listed separately (`handover.still_owed`)."""
    owed = handover.still_owed(incident, now or utcnow())
    rows = incident_children(incident)
    return closing_from(
        rows=rows, decided=decisions(incident),
        parents_recorded={child_id for _, child_id in contacts_for([incident])},
        unaccounted=unaccounted_children(incident), owed=owed,
        sent=access.sent_away(ic.child_id for ic in rows))


def closing_from(*, rows: Iterable[IncidentChild], decided: Iterable[Decision],
                 parents_recorded: Collection[uuid.UUID], unaccounted: Iterable[Child],
                 owed: Iterable[handover.RouteState],
                 sent: Collection[uuid.UUID] = ()) -> list[Problem]:
    """`closing_check` from data already loaded: the incident's children, its decisions, the
    ids of the children with a parents record, the children not accounted for (R8), the
    mandatory routes still owed (`handover.RouteState`, not done) and the children whose file
    was sent to their new school (`access.sent_away`)."""
    owed = list(owed)
    made = list(decided)
    child_decided = {d.child_id for d in made
                     if d.kind in CHILD_DECISION_KINDS and d.child_id is not None}
    states = [
        ChildState(label=child_label(ic.child), role=ic.role,
                   has_words=bool(ic.child_words or ic.child_words_missing_reason),
                   has_decision=ic.child_id in child_decided,
                   has_parents_record=ic.child_id in parents_recorded,
                   file_sent=ic.child_id in sent, ref=str(ic.child_id))
        for ic in rows
    ]
    return closing_problems(
        children=states,
        unaccounted=[(child_label(c), str(c.id)) for c in unaccounted],
        mandatory_not_handed_over=[s.route for s in owed],
        still_owed={s.route: s.owed for s in owed},
        reconsider_pending=[(child_label(ic.child), str(ic.child_id)) for ic in rows
                            if pending_reconsider(made, ic.child_id) is not None],
    )


def pending_reconsider(made: Iterable[Decision], child_id: uuid.UUID | None) -> Decision | None:
    """R10: the child's latest review, when it found the behaviour continued or escalated and
    no decision about the child (or the incident's routes) has been recorded since; else None."""
    made = list(made)
    reviews = [d for d in made if d.kind == "review" and d.child_id == child_id]
    if child_id is None or not reviews:
        return None
    latest = max(reviews, key=lambda d: d.decided_at)
    if latest.review_outcome != "reconsider":
        return None
    decided_since = any(
        d.decided_at > latest.decided_at and d.kind in CHILD_DECISION_KINDS | {"decline_route"}
        and d.child_id in (child_id, None) for d in made)
    return None if decided_since else latest


CLOSING_REASONS_REQUIRED: Final = "Enter the reasons for closing this incident"


def close_incident(user: User, incident: Incident, loaded_version: int, reasons: str | None,
                   now: dt.datetime) -> Incident:
    if incident.state == "closed":
        raise IncidentClosed()
    why = check_reasons(reasons, empty_message=CLOSING_REASONS_REQUIRED)
    latest = latest_assessment(incident)
    if latest is not None and not is_current_rules(latest.rules_version):
        # Assessed under older rules: the current rules decide what must be handed over before
        # it may close (a version 1 assessment could miss a mandatory route).
        assess_incident(incident, now)
        db.session.flush()
    problems = closing_check(incident, now)
    if problems:
        raise ClosingRefused(*problems)
    # Saves made since the form was loaded merge (closing changes no field of theirs); the
    # closing check above ran on the incident as it now is.
    version, _, merged_from = _claim(user, incident, loaded_version, now, _NO_FIELDS)
    incident.state = "closed"
    incident.closed_at = now
    decision = Decision(school_id=incident.school_id, incident_id=incident.id, kind="close",
                        decided_by_id=user.id, decided_at=now)
    decision.what = "Closed the incident"
    decision.reasons = why
    db.session.add(decision)
    db.session.flush()
    _add_revision(user, incident, version, now, merged_from, state="closed")
    involved = incident_children(incident)
    sent = access.sent_away(ic.child_id for ic in involved)  # their copy is read-only
    for ic in (ic for ic in involved if ic.child_id not in sent):
        chronology.add_entry(ic.child, "incident", f"Incident {incident.reference} closed.",
                             author_id=user.id, incident=incident, source=decision,
                             occurred_at=now)
    audit.record(audit.INCIDENT_CLOSED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="incident", object_id=incident.id, at=now,
                 detail={"version": version, "decision_id": str(decision.id),
                         **({"merged_from": merged_from} if merged_from is not None else {})})
    return incident


# ---------------------------------------------------------------------------------------------
# The dashboard


def next_working_day_same_time(at_local: dt.datetime) -> dt.datetime:
    day = at_local.date() + dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, at_local.time())


def concern_due(concern: Concern, days: int = 1) -> dt.datetime:
    """A concern should be triaged within `days` working days of being submitted, at the same
    time of day (aware UTC); `days` is the school's setting (`School.concern_days`, default 1)."""
    return _concern_due_at(concern.submitted_at, days)


def _concern_due_at(submitted_at: dt.datetime, days: int) -> dt.datetime:
    at = uk_local(submitted_at)
    for _ in range(max(days, 1)):
        at = next_working_day_same_time(at)
    return from_uk_local(at)


@dataclass
class DashboardItem:
    kind: str  # "concern" | "incident"
    id: uuid.UUID
    title: str
    detail: str
    due: dt.datetime | None = None
    overdue: bool = False
    routes: list[str] = field(default_factory=list)
    # A child may be in immediate danger (a concern marked urgent, an incident owing 999):
    # listed first, flagged "Call 999".
    urgent: bool = False


@dataclass
class Dashboard:
    new_concerns: list[DashboardItem]
    open_incidents: list[DashboardItem]
    not_handed_over: list[DashboardItem]
    overdue: list[DashboardItem]


def _children_text(children: Iterable[Child]) -> str:
    # Initials and reference only: a dashboard is read on a phone, in corridors.
    return ", ".join(c.redacted_label for c in children) or "No children named"


@kept  # built once per thread; the scoping stays the caller's (portal/access.py)
def _concern_children() -> tuple[Any, Any, Any]:
    """The link and child aliases of `_waiting_concerns`, and its loader option."""
    link, child = aliased(ConcernChild), aliased(Child, name="child")
    # Of each child only its label (initials and reference) and what its names' key is bound
    # to: not the roll's twenty other columns.
    only = load_only(child.school_id, child.reference, child.given_name_enc,
                     child.family_name_enc, child.destroyed_at)
    return link, child, only


def _waiting_concerns(
    share: tuple[ColumnElement[bool], dict[str, Any]],
) -> dict[uuid.UUID, list[Any]]:
    """The submitted concerns of `share` (a clause on `Concern` built once per thread and the
    values it binds: `access.concern_visible_bound`), oldest first, each as its rows: the
    concern's columns the dashboard shows and one child it names (`child`, None for a concern
    naming none). No `Concern` objects: loading each cost more than the rest of its item."""
    visible, values = share
    out: dict[uuid.UUID, list[Any]] = {}
    for row in db.session.execute(_waiting_statement(visible), values):
        out.setdefault(row.id, []).append(row)
    return out


@dataclass(frozen=True)
class WaitingConcern:
    """A submitted concern as "Start an incident" offers it."""

    id: uuid.UUID
    submitted_at: dt.datetime
    raised_by: str  # the display name of who raised it
    children: list[Child]  # in reference order


def waiting_to_start(share: tuple[ColumnElement[bool], dict[str, Any]]) -> list[WaitingConcern]:
    """The submitted concerns of `share` (`access.concern_visible_bound`), oldest first, with
    who raised each and the children it names: one statement however many are waiting, and
    no `Concern` objects (the dashboard's read of the same list)."""
    return [WaitingConcern(
        id=rows[0].id, submitted_at=rows[0].submitted_at, raised_by=rows[0].raised_by,
        children=[row.child for row in rows if row.child is not None])
        for rows in _waiting_concerns(share).values()]


@kept  # one per share clause (a DSL's, staff's, nobody's)
def _waiting_statement(visible: ColumnElement[bool]) -> Select[Any]:
    """`_waiting_concerns`' statement, built once per thread; the share's values bound at
    execution. The link and child are aliased, as loading them with the concern did:
    `portal.access`'s clauses name those tables themselves."""
    link, child, only = _concern_children()
    return (select(Concern.id, Concern.school_id, Concern.submitted_at, Concern.urgent,
                   User.display_name.label("raised_by"), child)
            .select_from(Concern).where(visible, Concern.state == "submitted")
            .join(User, User.id == Concern.raised_by_id)
            .outerjoin(link, link.concern_id == Concern.id)
            .outerjoin(child, child.id == link.child_id)
            # Each concern's children in reference order, as every other list of them (walk 9).
            .order_by(Concern.submitted_at, Concern.id, child.reference).options(only))


def dashboard(concern_share: tuple[ColumnElement[bool], dict[str, Any]],
              incident_share: tuple[ColumnElement[bool], dict[str, Any]],
              now: dt.datetime) -> Dashboard:
    """Counts and short lists for a DSL. Takes the user's shares from `portal.access`, each a
    clause built once per thread and the values it binds (`concern_visible_bound`,
    `incident_visible_bound`): the statements are built once too."""
    # A fixed number of queries however many concerns and incidents are open.
    concerns = _waiting_concerns(concern_share)
    incidents, children = open_incidents(incident_share)
    new_items = []
    school_days: dict[uuid.UUID, int] = {}
    for rows in concerns.values():
        c = rows[0]
        days = school_days.get(c.school_id)
        if days is None:
            school = db.session.get(School, c.school_id)  # one school: loaded once
            days = school_days[c.school_id] = school.concern_days if school is not None else 1
        due = _concern_due_at(c.submitted_at, days)
        new_items.append(DashboardItem(
            kind="concern", id=c.id,
            # Who raised it tells apart two concerns about the same children (walk 4).
            title=f"Concern raised {moment_words(uk_local(c.submitted_at))} by {c.raised_by}",
            detail=_children_text(row.child for row in rows if row.child is not None),
            due=due, overdue=now > due, urgent=bool(c.urgent)))
    # R4: each mandatory route by its own record, for every incident at once.
    facts = handover.route_facts(incidents)
    states = handover.states_for(incidents, now, children, facts)
    decided = {(incident_id, route) for incident_id, _, route in facts.decisions}
    open_items, pending, overdue_incidents = [], [], []
    for inc in incidents:
        # Worked out once for the up to three lists the incident is in (each child's initials
        # are decrypted once).
        detail = _children_text(ic.child for ic in children[inc.id])
        title = f"Incident {inc.reference}"
        waiting = [s.route for s in states[inc.id] if not s.done]
        urgent = "police_emergency" in waiting
        item = DashboardItem(kind="incident", id=inc.id, title=title, detail=detail,
                             urgent=urgent)
        open_items.append(item)
        if waiting:
            pending.append(DashboardItem(kind="incident", id=inc.id, title=title, detail=detail,
                                         routes=waiting, urgent=urgent))
        undecided = [r for r in waiting if (inc.id, r) not in decided]
        due = inc.opened_at + dt.timedelta(hours=INCIDENT_DECISION_HOURS)
        if undecided and now > due:
            overdue_incidents.append(DashboardItem(
                kind="incident", id=inc.id, title=title, detail=detail, due=due, overdue=True,
                routes=undecided, urgent=urgent))
    overdue = [i for i in new_items if i.overdue] + overdue_incidents
    overdue.sort(key=lambda i: i.due or now)
    return Dashboard(new_concerns=_urgent_first(new_items),
                     open_incidents=_urgent_first(open_items),
                     not_handed_over=_urgent_first(pending), overdue=_urgent_first(overdue))


def _urgent_first(items: list[DashboardItem]) -> list[DashboardItem]:
    """A child in immediate danger comes before everything else; otherwise the order stays."""
    return sorted(items, key=lambda i: not i.urgent)


def witness_role(role: str) -> bool:
    return role == WITNESS_ROLE
