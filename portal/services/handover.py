"""Handing an incident over (RULES.md R4, section 6): the one place that says which lines to
call, which mandatory routes have their record, and what is still owed.

- `entries_for`: the engine's handover entries for the incident as it stands now (one per local
  authority involved, the convening one first).
- `incident_handover`: the lines to call now, for the incident page (`LineView`,
  `HandoverView`); `services.referrals` adds each referral's status and due dates.
- `judge`: pure per-route logic. Each mandatory route needs its own record that fits it:
  `csc_referral` a referral sent through the portal to the convening authority AND to every
  other authority involved; `police` a report to the police; `police_emergency` the 999 call;
  `adult_social_care` a referral to adult social care (`RouteHandover` rows). A referral to
  children's social care never counts for the others. A mandatory route with no record of its
  own kind counts once a "handed over" decision is recorded for it.
- `states_for`: `judge` for many incidents in a fixed number of queries (the dashboard);
  `route_states` / `still_owed` for one incident (its page, closing).
- `record_route`: records a police report, a 999 call or a referral to adult social care
  (append-only; corrections are addenda), with its audit entry and each child's chronology.

This module imports neither `services.incidents` nor `services.referrals`: both use it.
Nothing here reads Flask's request or builds a URL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy import (
    BindParameter,
    CompoundSelect,
    Select,
    String,
    bindparam,
    case,
    literal,
    select,
    union_all,
)

from .. import audit, reads, wording
from ..clock import from_uk_local, later_than_now, uk_local
from ..kept import kept
from ..models import (
    OUTSIDE_REFERRAL_ROUTE,
    POLICE_METHOD_WORDS,
    POLICE_METHODS,
    RECORDED_ROUTES,
    REFERRAL_METHOD_WORDS,
    REFERRAL_METHODS,
    Addendum,
    Assessment,
    ConsultationCall,
    Decision,
    Incident,
    LocalAuthority,
    Referral,
    RouteHandover,
    User,
    db,
)
from ..refusal import Problem, Refused
from ..rules import Assessment as RulesAssessment
from ..rules import Directory, assess, engine
from ..rules.clock_words import time_of_day
from ..rules.vocabulary import ROUTE_LABELS, ROUTES
from . import chronology
from .facts import (
    IncidentShape,
    PartShape,
    children_of_incidents,
    facts_for,
    incident_children,
)
from .localtime import directory_from_db
from .packet import latest_assessment
from .recording import IncidentClosed, check_reasons
from .route_records import record_text

__all__ = [
    "POLICE_METHODS",
    "POLICE_METHOD_LABELS",
    "RECORDED_ROUTES",
    "RECORD_HEADINGS",
    "HandoverView",
    "Involved",
    "LineView",
    "RecordView",
    "RouteFacts",
    "RouteRecordInput",
    "RouteState",
    "authority_rows",
    "entries_for",
    "handed_routes",
    "incident_handover",
    "judge",
    "record_route",
    "record_text",
    "route_facts",
    "route_states",
    "states_for",
    "still_owed",
    "tel_href",
]

# What a DSL does to record each route, in plain words (buttons and headings).
RECORD_HEADINGS: Final = {
    "police": "Record the police report",
    "police_emergency": "Record the 999 call",
    "adult_social_care": "Record the referral to adult social care",
    "csc_referral": "Record a referral made outside the portal",
}
# How a referral reached a front door outside the portal, and the ways a report reaches the
# police, as the form offers them (worded with their codes in models/handover.py).
REFERRAL_METHOD_LABELS: Final = {
    code: offered for code, (_, offered) in REFERRAL_METHOD_WORDS.items()}
POLICE_METHOD_LABELS: Final = {code: offered for code, (_, offered) in POLICE_METHOD_WORDS.items()}
OWED: Final = {
    "police": ("Record the report to the police: when, how, which force, and the police "
               "reference or why there is none yet"),
    "police_emergency": ("Record the 999 call: when, who called, and the incident number if "
                         "one was given"),
    "adult_social_care": ("Record the referral to adult social care: when, to whom, and its "
                          "reference"),
}
HANDED_OVER_BY_RECORD: Final = frozenset({"csc_referral", *RECORDED_ROUTES})
# "Talk it through with the consultation line": taken by recording the call itself.
CONSULTATION_ROUTE: Final = "consultation"


def in_order(routes: Iterable[str]) -> list[str]:
    """Routes in the order a DSL acts on them: 999 first, then as RULES.md lists them."""
    return sorted(routes, key=lambda r: ROUTES.index(r) if r in ROUTES else len(ROUTES))


def label(route: str) -> str:
    return ROUTE_LABELS.get(route, route.replace("_", " "))


def tel_href(number: str | None) -> str | None:
    """`tel:` link for a UK number as the directory writes it ("01629 535353")."""
    if not number:
        return None
    digits = re.sub(r"[^\d+]", "", number)
    return f"tel:{digits}" if digits else None


def authority_rows() -> Mapping[str, reads.AuthorityRow]:
    """Every authority by code, kept per process while unchanged (portal/reads.py)."""
    return reads.authorities()


# ---------------------------------------------------------------------------------------------
# The authorities involved and their lines


def entries_for(
    incident: IncidentShape, directory: Directory, now_local: dt.datetime,
    rows: Sequence[PartShape] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """(entries, immediate danger): the engine's handover with each line's status at
    `now_local` (`entries_from`)."""
    result = assess_now(incident, directory, now_local, rows)
    return entries_from(incident, result, directory, now_local,
                        latest_assessment(incident) if result is None else None)


def assess_now(incident: IncidentShape, directory: Directory, now_local: dt.datetime,
               rows: Sequence[PartShape] | None = None) -> RulesAssessment | None:
    """The engine's result for the incident's facts as recorded, each handover line's status
    given at `now_local`; None when the facts cannot be assessed (something missing, or an
    authority missing from the directory)."""
    facts = facts_for(incident, rows=rows)
    try:
        return assess(facts, directory, lines_at=now_local) if facts is not None else None
    except KeyError:  # an authority missing from the directory
        return None


def entries_from(
    incident: IncidentShape, result: RulesAssessment | None, directory: Directory,
    now_local: dt.datetime, stored: Assessment | None,
) -> tuple[list[dict[str, Any]], bool]:
    """(entries, immediate danger) from an engine result already computed (`assess_now`).

    Falls back to the stored assessment's authorities (`stored`, the latest; with the line
    status worked out now) when the incident's facts cannot be assessed, e.g. an authority
    missing from the directory.
    """
    if result is not None:
        entries = []
        for h in result.handover:
            known = directory.get(h.local_authority)
            entries.append(h.as_json() | {
                "next_open": h.next_open, "known": True,
                "out_of_hours_note": known.out_of_hours_note if known else None})
        return entries, "IMMEDIATE_DANGER" in result.triggers or bool(incident.immediate_danger)
    assessment = stored
    stored_result = json.loads(assessment.result or "{}") if assessment else {}
    entries = []
    for h in stored_result.get("handover", []):
        code = h.get("local_authority")
        authority = directory.get(code) if code else None
        if authority is None:
            entries.append({"local_authority": code, "name": h.get("name") or code,
                            "convening": bool(h.get("convening")), "known": False})
            continue
        is_open, next_open = authority.line_status(now_local)
        entries.append({
            "local_authority": code, "name": authority.name,
            "convening": bool(h.get("convening")), "line": authority.line,
            "phone": authority.phone, "open": is_open, "next_open": next_open,
            "out_of_hours_phone": authority.out_of_hours_phone,
            "out_of_hours_name": authority.out_of_hours_name,
            "notes": [n for n in (authority.out_of_hours_note,) if n], "known": True,
            "out_of_hours_note": authority.out_of_hours_note,
        })
    danger = bool(incident.immediate_danger) or (
        assessment is not None and "IMMEDIATE_DANGER" in (assessment.triggers or []))
    return entries, danger


def beyond_the_box(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """The handover entry's notes that its box does not already say. The box says when the
    number, the opening hours or the out-of-hours number is not confirmed ("check locally"),
    beside the number a DSL reads first, so the engine's notes saying the same, and the
    directory's out-of-hours note when that number is not confirmed, are left out: each
    warning once."""
    said = {engine.PHONE_NOT_CONFIRMED, engine.HOURS_NOT_CONFIRMED}
    if not entry.get("out_of_hours_phone") and entry.get("out_of_hours_note"):
        said.add(entry["out_of_hours_note"])
    return tuple(n for n in entry.get("notes") or () if n not in said)


@dataclass
class LineView:
    code: str
    name: str
    convening: bool
    known: bool
    line: str | None = None
    phone: str | None = None
    phone_tel: str | None = None
    open: bool | None = None
    next_open: dt.datetime | None = None
    out_of_hours_name: str | None = None
    out_of_hours_phone: str | None = None
    out_of_hours_tel: str | None = None
    notes: tuple[str, ...] = ()
    authority_id: uuid.UUID | None = None
    sent: Referral | None = None  # the referral sent to this authority, if any
    # Its status, answers and due dates (`services.referrals.ReferralView`), filled in there.
    referral: Any = None

    @property
    def next_open_label(self) -> str:
        if self.next_open is None:
            return ""
        return f"{self.next_open:%A %-d %B} at {time_of_day(self.next_open)}"

    @property
    def can_hand_over(self) -> bool:
        return self.authority_id is not None and self.sent is None


@dataclass
class HandoverView:
    incident: Incident
    immediate_danger: bool
    has_routes: bool
    mandatory_routes: list[str]
    lines: list[LineView]
    calls: list[ConsultationCall]
    now_local: dt.datetime
    authorities: Mapping[uuid.UUID, reads.AuthorityRow] = field(default_factory=dict)

    @property
    def convening(self) -> LineView | None:
        return next((line for line in self.lines if line.convening), None)


def incident_handover(incident: Incident, now: dt.datetime) -> HandoverView:
    """Each authority's line now, the referral sent to it (if any) and the calls recorded."""
    now_local = uk_local(now)
    directory = directory_from_db()
    entries, danger = entries_for(incident, directory, now_local)
    referrals = list(db.session.scalars(
        select(Referral).where(Referral.incident_id == incident.id,
                               Referral.school_id == incident.school_id)))
    calls = list(db.session.scalars(
        select(ConsultationCall)
        .where(ConsultationCall.incident_id == incident.id,
               ConsultationCall.school_id == incident.school_id)
        .order_by(ConsultationCall.called_at.desc())))
    return handover_view(incident, now_local, entries, danger,
                         referrals=referrals, calls=calls,
                         assessment=latest_assessment(incident))


def handover_view(
    incident: Incident, now_local: dt.datetime, entries: Sequence[dict[str, Any]], danger: bool,
    *, referrals: Iterable[Referral], calls: Sequence[ConsultationCall],
    assessment: Assessment | None,
) -> HandoverView:
    """`incident_handover` from rows already loaded: the incident's referrals (its school's),
    its calls newest first and its latest assessment."""
    authorities = authority_rows()
    sent = {r.local_authority_id: r for r in referrals}
    lines = []
    for e in entries:
        code = e["local_authority"]
        la = authorities.get(code)
        lines.append(LineView(
            code=code, name=e.get("name") or code, convening=bool(e.get("convening")),
            known=bool(e.get("known")), line=e.get("line"), phone=e.get("phone"),
            phone_tel=tel_href(e.get("phone")), open=e.get("open"), next_open=e.get("next_open"),
            out_of_hours_name=e.get("out_of_hours_name"),
            out_of_hours_phone=e.get("out_of_hours_phone"),
            out_of_hours_tel=tel_href(e.get("out_of_hours_phone")),
            notes=beyond_the_box(e),
            authority_id=la.id if la is not None and la.active else None,
            sent=sent.get(la.id) if la else None,
        ))
    return HandoverView(
        incident=incident, immediate_danger=danger,
        has_routes=bool(assessment and assessment.routes) or bool(entries),
        mandatory_routes=list(incident.mandatory_routes or []),
        lines=lines, calls=list(calls), now_local=now_local,
        authorities=reads.authorities_by_id(),
    )


# ---------------------------------------------------------------------------------------------
# Which mandatory routes have their record (pure)


@dataclass(frozen=True, slots=True)
class Involved:
    """A local authority involved in the incident (a handover entry). `on_portal`: its advisers
    receive referrals here; otherwise the DSL refers through its own front door and records it."""

    code: str
    name: str
    convening: bool
    on_portal: bool = True


@dataclass(frozen=True)
class RecordView:
    record: RouteHandover
    text: str
    recorded_by: str
    addenda: tuple[Addendum, ...] = ()


@dataclass(frozen=True)
class RouteState:
    """One mandatory route: handed over or not, and what is still owed, in plain words."""

    route: str
    label: str
    done: bool
    owed: str = ""  # empty when done
    missing: tuple[str, ...] = ()  # csc_referral: authorities still without their referral
    records: tuple[RecordView, ...] = ()
    sent_to: tuple[str, ...] = ()  # csc_referral: authorities the referral was sent to
    # csc_referral: authorities still owed that do not use the portal, (code, name) each
    outside: tuple[tuple[str, str], ...] = ()
    # csc_referral: authorities still owed that use the portal, (code, name) each: sent from
    # their hand-over page (the link went to "Who to call now", above the button, a walk)
    on_portal: tuple[tuple[str, str], ...] = ()

    @property
    def can_record(self) -> bool:
        """Whether the route is handed over by a record made on the incident page."""
        return self.route in RECORDED_ROUTES


def _names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def judge(route: str, *, involved: Sequence[Involved], referred: Collection[str],
          any_convening_referral: bool = False, recorded: Collection[str] = (),
          decided: Collection[str] = ()) -> RouteState:
    """Whether one mandatory route is handed over, and if not what is owed.

    involved: the authorities involved (handover entries); referred: the codes of those the
    portal has sent a referral to; any_convening_referral: a referral marked convening exists
    (used only when no authority is known, e.g. the children were removed); recorded: the
    routes with a `RouteHandover` record; decided: routes with a "handed over" decision (only
    for a route that has no record of its own kind).
    """
    name = label(route)
    if route == "csc_referral":
        sent = tuple(i.name for i in involved if i.code in referred)
        if not involved:
            if any_convening_referral:
                return RouteState(route, name, True)
            return RouteState(route, name, False, owed=(
                "Add the children involved, then send the referral to children's social care "
                "through the portal"))
        missing = [i for i in involved if i.code not in referred]
        if not missing:
            return RouteState(route, name, True, sent_to=sent)
        convening = next((i for i in missing if i.convening), None)
        others = [i.name for i in missing if not i.convening]
        if convening is not None:
            owed = f"Send the referral to {convening.name} (the convening authority)"
            if others:
                owed += f", and to {_names(others)}: every local authority involved needs its own"
        else:
            owed = (f"Send the referral to {_names(others)} too: every local authority involved "
                    "needs its own")
        outside = tuple((i.code, i.name) for i in missing if not i.on_portal)
        if outside:
            owed += (f". {_names([n for _, n in outside])} "
                     f"{'does' if len(outside) == 1 else 'do'} not use the portal: refer through "
                     "its own front door, then record the referral here")
        return RouteState(route, name, False, owed=owed,
                          missing=tuple(i.name for i in missing), sent_to=sent,
                          outside=outside,
                          on_portal=tuple((i.code, i.name) for i in missing if i.on_portal))
    if route in RECORDED_ROUTES:
        done = route in recorded
        return RouteState(route, name, done, owed="" if done else OWED[route])
    done = route in decided
    return RouteState(route, name, done, owed="" if done else
                      f"Record that “{name}” has been handed over (Record a decision)")


# ---------------------------------------------------------------------------------------------
# From the database


def _involved(entries: Iterable[dict[str, Any]],
              on_portal: Collection[str] | None = None) -> list[Involved]:
    return [Involved(str(e["local_authority"]), str(e.get("name") or e["local_authority"]),
                     bool(e.get("convening")),
                     on_portal is None or str(e["local_authority"]) in on_portal)
            for e in entries if e.get("local_authority")]


def on_portal_codes() -> frozenset[str]:
    """The authorities whose advisers receive referrals through the portal."""
    return reads.from_authorities("on portal", lambda rows: frozenset(
        code for code, la in rows.items() if la.active))


@dataclass(frozen=True)
class RouteFacts:
    """What many incidents have on record towards their routes, by incident id: the referrals
    sent (authority code, convening), the route records (route, outside authority code) and
    every decision naming a route (kind, route)."""

    referred: dict[uuid.UUID, list[tuple[str, bool]]]
    recorded: dict[uuid.UUID, list[tuple[str, str | None]]]
    decisions: list[tuple[uuid.UUID, str, str]]


def _route_facts_statement() -> CompoundSelect[Any]:
    """`route_facts`' statement, built once per thread (issue 15: building it cost more CPU
    than running it): the incidents' ids are bound when it runs (`ids`, an expanding IN)."""
    text = String()
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    return union_all(
        select(Referral.incident_id, Referral.school_id, literal("referral", text).label("what"),
               LocalAuthority.code.label("a"),
               case((Referral.convening.is_(True), "yes"), else_="no").label("b"))
        .join(LocalAuthority, LocalAuthority.id == Referral.local_authority_id)
        .where(Referral.incident_id.in_(ids)),
        select(RouteHandover.incident_id, RouteHandover.school_id, literal("record", text),
               RouteHandover.route, RouteHandover.local_authority_code)
        .where(RouteHandover.incident_id.in_(ids)),
        select(Decision.incident_id, Decision.school_id, literal("decision", text),
               Decision.route, Decision.kind)
        .where(Decision.incident_id.in_(ids), Decision.route.is_not(None)),
    )


_ROUTE_FACTS: Final = _route_facts_statement()


def route_facts(incidents: Sequence[IncidentShape]) -> RouteFacts:
    """`RouteFacts` of `incidents` in one statement (a UNION ALL of the three tables); the
    referrals and records of another school than the incident's are ignored."""
    facts = RouteFacts({}, {}, [])
    if not incidents:
        return facts
    school_of = {i.id: i.school_id for i in incidents}
    rows = db.session.execute(_ROUTE_FACTS, {"ids": [i.id for i in incidents]})
    for incident_id, school_id, what, a, b in rows:
        if what == "decision":
            facts.decisions.append((incident_id, str(b), str(a)))
        elif school_id != school_of[incident_id]:
            continue
        elif what == "referral":
            facts.referred.setdefault(incident_id, []).append((str(a), b == "yes"))
        else:
            facts.recorded.setdefault(incident_id, []).append((str(a), b))
    return facts


@dataclass(frozen=True)
class OnRecord:
    """What an incident has on record towards its routes (the input `judge` needs)."""

    referred: frozenset[str] = frozenset()  # authority codes referred, portal or outside
    convening_sent: bool = False  # a referral marked convening was sent
    recorded: frozenset[str] = frozenset()  # routes with their own record (not outside ones)
    decided: frozenset[str] = frozenset()  # routes with a "handed over" decision
    any_record: frozenset[str] = frozenset()  # every route with a record of any kind


def on_record(*, referrals: Iterable[tuple[str, bool]],
              records: Iterable[tuple[str, str | None]], decided: Iterable[str],
              called: bool = False) -> OnRecord:
    """referrals: (authority code, convening) of each referral sent through the portal;
    records: (route, outside authority code) of each `RouteHandover`; decided: the route of
    each "handed over" decision; called: a call to a consultation line is recorded, which is
    the "consultation" route taken (a walk: after the call it still offered "Record that you
    took this route")."""
    referred, recorded, any_record = set(), set(), set()
    if called:
        any_record.add(CONSULTATION_ROUTE)
    convening_sent = False
    for code, convening in referrals:
        referred.add(code)
        convening_sent = convening_sent or bool(convening)
    for route, outside_code in records:
        any_record.add(route)
        if route == OUTSIDE_REFERRAL_ROUTE and outside_code:
            # a referral made outside the portal to an authority that does not use it
            referred.add(outside_code)
        else:
            recorded.add(route)
    return OnRecord(frozenset(referred), convening_sent, frozenset(recorded),
                    frozenset(decided), frozenset(any_record))


def mandatory_states(incident: IncidentShape, entries: Iterable[dict[str, Any]],
                     on_portal: Collection[str], record: OnRecord) -> list[RouteState]:
    """`judge` for each mandatory route of one incident, from data already loaded."""
    if not incident.mandatory_routes:
        return []
    involved = _involved(entries, on_portal)
    return [judge(route, involved=involved, referred=record.referred,
                  any_convening_referral=record.convening_sent, recorded=record.recorded,
                  decided=record.decided)
            for route in in_order(incident.mandatory_routes)]


def states_for(
    incidents: Sequence[IncidentShape], now: dt.datetime,
    children: Mapping[uuid.UUID, Sequence[PartShape]] | None = None,
    facts: RouteFacts | None = None,
) -> dict[uuid.UUID, list[RouteState]]:
    """For each incident, the state of each of its mandatory routes (empty: none). The
    incidents and their children as objects (the incident page) or as the dashboard's columns
    (`facts.open_incidents`): the rules read them through one shape (`facts.IncidentShape`,
    `facts.PartShape`).

    A fixed number of queries however many incidents: the children (unless given), what
    `route_facts` reads (unless given) and the authorities (once per request)."""
    wanted = [i for i in incidents if i.mandatory_routes]
    out: dict[uuid.UUID, list[RouteState]] = {i.id: [] for i in incidents}
    if not wanted:
        return out
    if children is None:
        children = children_of_incidents(wanted)
    directory = directory_from_db()
    now_local = uk_local(now)
    facts = route_facts(wanted) if facts is None else facts
    on_portal = on_portal_codes()
    decided: dict[uuid.UUID, list[str]] = {i.id: [] for i in wanted}
    for incident_id, kind, decided_route in facts.decisions:
        if kind == "handed_over":
            decided[incident_id].append(decided_route)
    for incident in wanted:
        entries, _ = entries_for(incident, directory, now_local, children.get(incident.id))
        out[incident.id] = mandatory_states(incident, entries, on_portal, on_record(
            referrals=facts.referred.get(incident.id, []),
            records=facts.recorded.get(incident.id, []), decided=decided[incident.id]))
    return out


def still_owed(incident: Incident, now: dt.datetime) -> list[RouteState]:
    """The mandatory routes of one incident not yet handed over (closing, the page)."""
    return [s for s in states_for([incident], now)[incident.id] if not s.done]


def records_of(incident: Incident) -> list[RouteHandover]:
    """The incident's hand-over records in order."""
    return list(db.session.scalars(_records_of(), {
        "incident_id": incident.id, "school_id": incident.school_id}))


def records_as_shown(incident: Incident) -> reads.Shown[RouteHandover]:
    """The incident's hand-over records as its page shows them: in order, each with its
    corrections (with theirs) and who recorded it, by name, in one statement
    (`reads.shown_with_corrections`)."""
    return reads.shown(db.session.execute(_records_as_shown(), {
        "incident_id": incident.id, "school_id": incident.school_id}))


def _records_where(query: Select[Any]) -> Select[Any]:
    """The incident's own records, of its school (`incident_id`, `school_id` bound)."""
    return query.where(RouteHandover.incident_id == bindparam("incident_id"),
                       RouteHandover.school_id == bindparam("school_id"))


# An incident's hand-over records in order.
_RECORDS_ORDER: Final = (RouteHandover.happened_at, RouteHandover.recorded_at)


@kept  # built once per thread, bound at execution (portal/reads.py)
def _records_of() -> Select[RouteHandover]:
    return _records_where(select(RouteHandover)).order_by(*_RECORDS_ORDER)


@kept  # built once per thread, bound at execution (portal/reads.py)
def _records_as_shown() -> Select[Any]:
    return _records_where(reads.shown_with_corrections(
        RouteHandover, RouteHandover.recorded_by, *_RECORDS_ORDER))


def route_states(incident: Incident, now: dt.datetime) -> list[RouteState]:
    """Each mandatory route of the incident with its records (the incident page). Routes with
    a record but no longer mandatory are listed too, so no record is ever hidden."""
    states = states_for([incident], now)[incident.id]
    records = records_of(incident)
    addenda: dict[uuid.UUID, list[Addendum]] = {r.id: [] for r in records}
    if records:
        for a in db.session.scalars(
            select(Addendum).where(Addendum.school_id == incident.school_id,
                                   Addendum.target_type == "route_handover",
                                   Addendum.target_id.in_(list(addenda)))
            .order_by(Addendum.created_at)
        ):
            addenda[a.target_id].append(a)
    people = {u.id: u.display_name for u in db.session.scalars(
        select(User).where(User.id.in_({r.recorded_by_id for r in records})))} if records else {}
    return with_records(states, records, addenda, people, directory_from_db())


def with_records(states: Sequence[RouteState], records: Sequence[RouteHandover],
                 addenda: Mapping[uuid.UUID, Sequence[Addendum]],
                 people: Mapping[uuid.UUID, str], directory: Directory) -> list[RouteState]:
    """`route_states` from data already loaded: the mandatory routes' states, the incident's
    records in order, their corrections by record id, and people's names by id."""
    views: dict[str, list[RecordView]] = {}
    for r in records:
        views.setdefault(r.route, []).append(RecordView(
            r, record_text(r, directory), people.get(r.recorded_by_id, ""),
            tuple(addenda.get(r.id, ()))))
    out = []
    for state in states:
        out.append(replace(state, records=tuple(views.pop(state.route, []))))
    for route, rows in views.items():  # recorded, though not (or no longer) mandatory
        out.append(RouteState(route, label(route), True, records=tuple(rows)))
    return out


def handed_routes(incident: Incident, routes: Iterable[str],
                  now: dt.datetime) -> dict[str, bool]:
    """For each route the rules gave: mandatory ones by their own record (`judge`), the
    others ("consider") by a "handed over" decision or a record of their kind."""
    routes = list(routes)
    states = states_for([incident], now)[incident.id]
    mandatory = {s.route for s in states}
    wanted = [r for r in routes if r not in mandatory]
    record = OnRecord()
    if wanted:
        decided = {str(route) for route in db.session.scalars(
            select(Decision.route).where(Decision.incident_id == incident.id,
                                         Decision.kind == "handed_over",
                                         Decision.route.in_(wanted)))}
        recorded = set(db.session.scalars(
            select(RouteHandover.route).where(RouteHandover.incident_id == incident.id,
                                              RouteHandover.school_id == incident.school_id,
                                              RouteHandover.route.in_(wanted))))
        called = CONSULTATION_ROUTE in wanted and db.session.scalar(
            select(ConsultationCall.id).where(
                ConsultationCall.incident_id == incident.id,
                ConsultationCall.school_id == incident.school_id).limit(1)) is not None
        record = on_record(referrals=(), records=[(route, None) for route in recorded],
                           decided=decided, called=called)
    return handed(routes, states, record)


def handed(routes: Iterable[str], states: Sequence[RouteState],
           record: OnRecord) -> dict[str, bool]:
    """`handed_routes` from data already loaded: `states` of the mandatory routes."""
    done = {s.route: s.done for s in states}
    return {r: done.get(r, r in record.decided or r in record.any_record) for r in routes}


# ---------------------------------------------------------------------------------------------
# Recording a route's handover


@dataclass(frozen=True, slots=True)
class RouteRecordInput:
    route: str
    happened_at_local: dt.datetime | None  # naive Europe/London
    authority: str | None = None  # csc_referral outside the portal: the directory code
    method: str | None = None
    force: str | None = None
    reference: str | None = None
    no_reference_reason: str | None = None
    caller: str | None = None
    recipient: str | None = None


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _check(data: RouteRecordInput, incident: Incident, now: dt.datetime,
           when: bool = True) -> list[Problem]:
    problems: list[Problem] = []
    route = data.route
    if data.happened_at_local is None:
        if when:  # (False: the form found the date or time wrong, and its own message says so)
            problems.append(Problem("R4", "happened_on", {
                "police": "Enter the date and time the police were told",
                "police_emergency": "Enter the date and time of the 999 call",
                "adult_social_care": "Enter the date and time of the referral",
                OUTSIDE_REFERRAL_ROUTE: "Enter the date and time of the referral",
            }[route]))
    else:
        later = later_than_now(data.happened_at_local, now, {
            "police": "the police were told",
            "police_emergency": "of the 999 call",
        }.get(route, "of the referral"), ("happened_on", "happened_time"))
        if later:
            problems.append(Problem("R4", *later))
        elif incident.occurred_on and data.happened_at_local.date() < incident.occurred_on:
            problems.append(Problem("R4", "happened_on",
                                    "The date must be on or after the day the incident "
                                    "happened"))
    if route == "police":
        if data.method not in POLICE_METHODS:
            problems.append(Problem("R4", "method", "Select how the police were told"))
        if not _clean(data.force):
            problems.append(Problem("R4", "force", "Enter which police force was told"))
        problems.extend(_reference_or_why(data, "Enter the police reference, or why there "
                                                "is none yet"))
    elif route == "police_emergency":
        if not _clean(data.caller):
            problems.append(Problem("R4", "caller", "Enter who made the 999 call"))
    elif route == "adult_social_care" and not _clean(data.recipient):
        problems.append(Problem("R4", "recipient",
                                "Enter which authority or team the referral went to"))
    elif route == OUTSIDE_REFERRAL_ROUTE:
        problems.extend(_check_outside_referral(data, incident, now))
    return problems


def outside_authorities(incident: Incident, now: dt.datetime) -> list[tuple[str, str]]:
    """The authorities involved that do not use the portal, (code, name): a referral to them is
    made through their own front door and recorded here."""
    entries, _ = entries_for(incident, directory_from_db(), uk_local(now))
    return [(i.code, i.name) for i in _involved(entries, on_portal_codes()) if not i.on_portal]


def _check_outside_referral(data: RouteRecordInput, incident: Incident,
                            now: dt.datetime) -> list[Problem]:
    problems: list[Problem] = []
    if data.authority not in {code for code, _ in outside_authorities(incident, now)}:
        problems.append(Problem(
            "R4", "authority", "A referral outside the portal can only be recorded for an "
            "authority involved that does not use the portal: send the others their referral "
            "through the portal"))
    if data.method not in REFERRAL_METHODS:
        problems.append(Problem("R4", "method", "Select how the referral was made"))
    if not _clean(data.recipient):
        problems.append(Problem("R4", "recipient",
                                "Enter who took the referral: their name and team"))
    problems.extend(_reference_or_why(data, "Enter the referral's reference, or why there is "
                                            "none yet"))
    return problems


def _reference_or_why(data: RouteRecordInput, empty_message: str) -> list[Problem]:
    """A reference, or why there is none yet (a reason: R2 and R3 apply)."""
    if _clean(data.reference):
        return []
    try:
        check_reasons(data.no_reference_reason, field="no_reference_reason",
                      empty_message=empty_message)
    except Refused as error:
        return list(error.problems)
    return []


def check_route_record(incident: Incident, data: RouteRecordInput, now: dt.datetime, *,
                       when: bool = True) -> None:
    """Every problem with a route's own record (R4), at once; writes nothing. `when` False:
    the date and time are not checked (the form found them wrong and says so)."""
    problems = _check(data, incident, now, when)
    if problems:
        raise Refused(*problems)


def record_route(user: User, incident: Incident, data: RouteRecordInput,
                 now: dt.datetime) -> RouteHandover:
    """Record a police report, a 999 call or a referral to adult social care (R4), append-only
    (R5). Audited; the record joins each child's chronology, other children by initials and
    reference only (R6)."""
    if data.route not in (*RECORDED_ROUTES, OUTSIDE_REFERRAL_ROUTE):
        raise Refused(Problem("R4", None, "Choose a route to record"))
    if incident.state == "closed":
        raise IncidentClosed()
    check_route_record(incident, data, now)
    assert data.happened_at_local is not None
    record = RouteHandover(
        school_id=incident.school_id, incident_id=incident.id, route=data.route,
        happened_at=from_uk_local(data.happened_at_local),
        method=data.method if data.route in ("police", OUTSIDE_REFERRAL_ROUTE) else None,
        local_authority_code=data.authority if data.route == OUTSIDE_REFERRAL_ROUTE else None,
        recorded_by_id=user.id, recorded_at=now,
    )
    if data.route == "police":
        record.force = _clean(data.force)
        record.reference = _clean(data.reference) or None
        if record.reference is None:
            record.no_reference_reason = _clean(data.no_reference_reason)
    elif data.route == "police_emergency":
        record.caller = _clean(data.caller)
        record.reference = _clean(data.reference) or None
    elif data.route == OUTSIDE_REFERRAL_ROUTE:
        record.recipient = _clean(data.recipient)
        record.reference = _clean(data.reference) or None
        if record.reference is None:
            record.no_reference_reason = _clean(data.no_reference_reason)
    else:
        record.recipient = _clean(data.recipient)
        record.reference = _clean(data.reference) or None
    db.session.add(record)
    db.session.flush()

    text = (f"{label(data.route)} for incident {incident.reference}: "
            f"{wording.sentence(record_text(record))}")  # its author beside it, not in it
    chronology.add_to_each([ic.child for ic in incident_children(incident)], "handing_over",
                           text, author_id=user.id, incident=incident, source=record,
                           occurred_at=record.happened_at)
    audit.record(audit.ROUTE_HANDOVER_RECORDED, org_id=str(incident.school_id),
                 actor_id=user.id, object_type="route_handover", object_id=record.id, at=now,
                 detail={"incident_id": str(incident.id), "route": data.route,
                         "method": record.method, "has_reference": record.reference is not None})
    return record
