"""Reports (issue 17): the DSL's and governors' report of a school, and the local authority's
view across the schools that referred to it.

Every figure is counted from plain columns (codes, flags, timestamps and the statistics codes
on `IncidentChild`) through indexes on (school, time); nothing is decrypted and no child's name
is read. `report_figures` (pure) does the counting; this module reads the rows. Callers pass
the school ids from `portal.access.report_school_ids`, so every query is scoped.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from math import inf
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import ColumnElement, Float, String, and_, func, select
from sqlalchemy import cast as sa_cast

from ..clock import LONDON, from_uk_local, uk_local
from ..models import (
    Concern,
    ConcernOutcome,
    Decision,
    Incident,
    IncidentChild,
    IncidentConcern,
    LocalAuthority,
    Referral,
    RouteHandover,
    School,
    db,
)
from ..rules.timescales import due_after
from . import report_figures as rf
from .incidents import INCIDENT_DECISION_HOURS, concern_due
from .localtime import directory_from_db

# Decisions that are not a decision about the children or the routes.
_NOT_A_FIRST_DECISION = ("review", "close", "not_involved")


@contextmanager
def _no_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while a report reads its rows: tens of thousands of
    tuples that hold no cycles would otherwise trigger repeated full passes over them (about a
    quarter of an authority's year). Reference counting still frees everything."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def bounds(period: rf.Period) -> tuple[dt.datetime, dt.datetime]:
    """The period's first moment and the moment after its last day, UK time, as aware UTC."""
    start = from_uk_local(dt.datetime.combine(period.start, dt.time.min))
    end = from_uk_local(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))
    return start, end


# Rows are read as text ids and epoch seconds computed by the database: converting tens of
# thousands of UUIDs and datetimes in Python is what made an authority's report slow.


def _epoch(column: Any) -> ColumnElement[float]:
    """Seconds since the epoch (UTC) of a UTCDateTime column, computed by the database."""
    if db.engine.dialect.name == "sqlite":
        # SQLite keeps the UTC time as text; julianday reads it.
        return (func.julianday(column) - 2440587.5) * 86400.0
    # PostgreSQL gives numeric (Decimal): as a float, like SQLite's.
    return sa_cast(func.extract("epoch", column), Float)


def _text(column: Any) -> ColumnElement[str]:
    return sa_cast(column, String)


def _in(column: Any, ids: Sequence[str]) -> ColumnElement[bool]:
    values = [uuid.UUID(i) for i in ids]
    return column == values[0] if len(values) == 1 else column.in_(values)  # type: ignore[no-any-return]


@functools.cache
def _key(value: Any) -> str:
    """A UUID read as text, the same on both databases (SQLite: 32 hex digits)."""
    return str(value).replace("-", "")


@functools.cache
def _local_parts(hour_stamp: int) -> tuple[int, int]:
    """(year, month) in UK time of the hour starting at `hour_stamp` (seconds)."""
    local = dt.datetime.fromtimestamp(hour_stamp, LONDON)
    return local.year, local.month


def _month(stamp: float) -> tuple[int, int]:
    return _local_parts(int(stamp // 3600 * 3600))


@functools.cache
def _due_day(day: dt.date, days: int) -> dt.date:
    """The UK day a concern sent on `day` is due (the dashboard's rule, `concern_due`)."""
    noon = from_uk_local(dt.datetime.combine(day, dt.time(12)))
    return uk_local(concern_due(cast(Concern, SimpleNamespace(submitted_at=noon)), days)).date()


@functools.lru_cache(maxsize=65536)
def _hour_due(hour_stamp: int, days: int) -> float:
    local = dt.datetime.fromtimestamp(hour_stamp, LONDON).replace(tzinfo=None)
    due = dt.datetime.combine(_due_day(local.date(), days), local.time())
    return from_uk_local(due).timestamp()


def _triage_due(submitted: float, days: int) -> float:
    """The dashboard's due moment (`concern_due`: `days` working days later, the same time of
    day, UK time). UK time differs from UTC by whole hours and changes on the hour, so within
    one UTC hour the due moment moves with the moment sent: each hour's is computed once."""
    hour = int(submitted // 3600 * 3600)
    # As `datetime.fromtimestamp` does: to the microsecond.
    return _hour_due(hour, days) + round((submitted - hour) * 1e6) / 1e6


def _json_list(text: Any, seen: dict[Any, tuple[str, ...]]) -> tuple[str, ...]:
    if text not in seen:
        value = json.loads(text) if isinstance(text, str) else text
        seen[text] = tuple(value or ())
    return seen[text]


def _concerns(ids: Sequence[str], start: dt.datetime, end: dt.datetime,
              days: dict[str, int]) -> list[rf.ConcernRow]:
    in_incident = select(IncidentConcern.id).where(
        IncidentConcern.concern_id == Concern.id).exists()
    rows = db.session.execute(
        select(_text(Concern.school_id), _epoch(Concern.submitted_at),
               _epoch(Concern.picked_up_at), ConcernOutcome.kind, ConcernOutcome.category,
               in_incident, _text(Concern.id))
        .outerjoin(ConcernOutcome, ConcernOutcome.concern_id == Concern.id)
        .where(_in(Concern.school_id, ids), Concern.submitted_at >= start,
               Concern.submitted_at < end, Concern.state != "draft")).all()
    out: dict[str, rf.ConcernRow] = {}
    for school_id, sent, picked, kind, category, incident, cid in rows:
        if cid in out:
            continue
        school = _key(school_id)
        outcome = "incident" if incident else kind or "waiting"
        out[cid] = rf.ConcernRow(
            school, sent, _month(sent), picked, _triage_due(sent, days.get(school, 1)),
            outcome if outcome in rf.CONCERN_OUTCOMES else "waiting", category)
    return list(out.values())


def _children(in_period: ColumnElement[bool]) -> list[tuple[str, str, str, str | None,
                                                             str | None, str | None,
                                                             str | None]]:
    """One row per child in each of the period's incidents: (incident, child, role, year
    group, sex, SEND codes, household label), ids as text; one pass over the join."""
    return [(i, c, role, y, s, n, h) for i, c, role, y, s, n, h in db.session.execute(
        select(_text(IncidentChild.incident_id), _text(IncidentChild.child_id),
               IncidentChild.role, IncidentChild.stat_year_group, IncidentChild.stat_sex,
               IncidentChild.stat_send, IncidentChild.household)
        .join(Incident, Incident.id == IncidentChild.incident_id).where(in_period))]


_NO_ROUTES: frozenset[str] = frozenset()


def _routes(found: dict[str, set[str]], incident_id: str,
            same: dict[frozenset[str], frozenset[str]]) -> frozenset[str]:
    """The incident's routes; equal sets share one object (a few dozen across a year)."""
    routes = found.get(incident_id)
    if not routes:
        return _NO_ROUTES
    value = frozenset(routes)
    return same.setdefault(value, value)


def _incidents(ids: Sequence[str], start: dt.datetime, end: dt.datetime
               ) -> tuple[list[rf.IncidentRow], rf.ChildCounts]:
    in_period = and_(_in(Incident.school_id, ids), Incident.opened_at >= start,
                     Incident.opened_at < end)
    incidents = db.session.execute(
        select(_text(Incident.id), _text(Incident.school_id), _epoch(Incident.opened_at),
               Incident.state, Incident.online, _text(Incident.types),
               _text(Incident.mandatory_routes))
        .where(in_period)).all()
    if not incidents:
        return [], rf.NO_CHILDREN
    rows_of_children = _children(in_period)
    children = rf.child_counts(
        Counter((y, s, n) for _, _, _, y, s, n, _ in rows_of_children),
        [(i, c, role) for i, c, role, *_ in rows_of_children],
        {i: _key(school) for i, school, *_ in incidents})
    households = Counter((i, h) for i, _, _, _, _, _, h in rows_of_children if h)
    home = {i for (i, _), n in households.items() if n > 1}
    first_concern: dict[str, float] = {i: at for i, at in db.session.execute(
        select(_text(IncidentConcern.incident_id), func.min(_epoch(Concern.submitted_at)))
        .join(Incident, Incident.id == IncidentConcern.incident_id)
        .join(Concern, Concern.id == IncidentConcern.concern_id)
        .where(in_period).group_by(IncidentConcern.incident_id))}
    first_decision, decided, taken, reviewed = _decisions(in_period, start, end)
    handed, first_handover = _handovers(in_period)
    lists: dict[Any, tuple[str, ...]] = {}
    same: dict[frozenset[str], frozenset[str]] = {}
    rows = []
    for iid, school_id, opened, state, online, types, mandatory in incidents:
        setting = "online" if online else "home" if iid in home else "school"
        rows.append(rf.IncidentRow(
            iid, _key(school_id), opened, _month(opened), state == "open", setting,
            _json_list(types, lists), _json_list(mandatory, lists),
            _routes(handed, iid, same), _routes(decided, iid, same),
            _routes(taken, iid, same),
            first_concern.get(iid), first_decision.get(iid), first_handover.get(iid),
            iid in reviewed))
    return rows, children


def _decisions(in_period: ColumnElement[bool], start: dt.datetime, end: dt.datetime
               ) -> tuple[dict[str, float], dict[str, set[str]], dict[str, set[str]], set[str]]:
    """The decisions about the period's incidents: each incident's first decision, the routes
    decided and taken, and the incidents reviewed in the period."""
    first_decision: dict[str, float] = {}
    decided: dict[str, set[str]] = defaultdict(set)
    taken: dict[str, set[str]] = defaultdict(set)
    reviewed: set[str] = set()
    first, last = start.timestamp(), end.timestamp()
    for incident_id, kind, route, moment in db.session.execute(
            select(_text(Decision.incident_id), Decision.kind, Decision.route,
                   _epoch(Decision.decided_at))
            .join(Incident, Incident.id == Decision.incident_id).where(in_period)):
        if route is not None:
            decided[incident_id].add(route)
            if kind in rf.ROUTE_TAKEN_KINDS:
                taken[incident_id].add(route)
        if kind == "review" and first <= moment < last:
            reviewed.add(incident_id)
        if kind not in _NOT_A_FIRST_DECISION and moment < first_decision.get(incident_id, inf):
            first_decision[incident_id] = moment
    return first_decision, decided, taken, reviewed


def _handovers(in_period: ColumnElement[bool]) -> tuple[dict[str, set[str]], dict[str, float]]:
    """The routes handed over for the period's incidents (a hand-over record or a referral)
    and each incident's first."""
    handed: dict[str, set[str]] = defaultdict(set)
    first_handover: dict[str, float] = {}
    moments: list[tuple[str, str, float]] = [(i, r, a) for i, r, a in db.session.execute(
        select(_text(RouteHandover.incident_id), RouteHandover.route,
               _epoch(RouteHandover.happened_at))
        .join(Incident, Incident.id == RouteHandover.incident_id).where(in_period))]
    moments += [(i, "csc_referral", a) for i, a in db.session.execute(
        select(_text(Referral.incident_id), _epoch(Referral.sent_at))
        .join(Incident, Incident.id == Referral.incident_id).where(in_period))]
    for incident_id, route, moment in moments:
        handed[incident_id].add(route)
        if incident_id not in first_handover or moment < first_handover[incident_id]:
            first_handover[incident_id] = moment
    return handed, first_handover


def _referrals(where: ColumnElement[bool], start: dt.datetime, end: dt.datetime
               ) -> list[rf.ReferralRow]:
    directory = directory_from_db()
    codes = {la_id: code for la_id, code in db.session.execute(
        select(LocalAuthority.id, LocalAuthority.code))}
    out = []
    for school_id, la_id, sent_at, sent, ack, answered, outcome, meeting in db.session.execute(
            select(_text(Referral.school_id), Referral.local_authority_id, Referral.sent_at,
                   _epoch(Referral.sent_at), _epoch(Referral.acknowledged_at),
                   _epoch(Referral.answered_at), Referral.outcome,
                   _epoch(Referral.strategy_meeting_at))
            .where(where, Referral.sent_at >= start, Referral.sent_at < end)):
        authority = directory.get(codes.get(la_id, ""))
        timescale = authority.timescales.get("strategy_meeting") if authority else None
        due = due_after(uk_local(sent_at), timescale) if timescale else None
        out.append(rf.ReferralRow(_key(school_id), sent, _month(sent), ack, answered, outcome,
                                  meeting, from_uk_local(due.at).timestamp() if due else None))
    return out


def school_report(school: School, period: rf.Period, now: dt.datetime) -> rf.Report:
    """The DSL's and governors' report of one school for `period`."""
    start, end = bounds(period)
    ids = [school.id.hex]
    with _no_collection():
        return _school_report(school, ids, period, now, start, end)


def _school_report(school: School, ids: list[str], period: rf.Period, now: dt.datetime,
                   start: dt.datetime, end: dt.datetime) -> rf.Report:
    incidents, children = _incidents(ids, start, end)
    return rf.build(
        period, now.timestamp(),
        concerns=_concerns(ids, start, end, {school.id.hex: school.concern_days}),
        incidents=incidents, children=children,
        referrals=_referrals(Referral.school_id == school.id, start, end),
        decision_hours=INCIDENT_DECISION_HOURS, concern_days=school.concern_days)


def authority_report(authority_id: uuid.UUID, schools: Sequence[School], period: rf.Period,
                     now: dt.datetime) -> tuple[rf.Report, list[rf.SchoolLine]]:
    """The authority's view: the figures of `schools` (those that referred to it) together,
    its referrals received, and the main figures of each school."""
    with _no_collection():
        return _authority_report(authority_id, schools, period, now)


def _authority_report(authority_id: uuid.UUID, schools: Sequence[School], period: rf.Period,
                      now: dt.datetime) -> tuple[rf.Report, list[rf.SchoolLine]]:
    start, end = bounds(period)
    ids = [s.id.hex for s in schools]
    referrals = _referrals(Referral.local_authority_id == authority_id, start, end)
    if not ids:
        concerns: list[rf.ConcernRow] = []
        incidents: list[rf.IncidentRow] = []
        children = rf.NO_CHILDREN
    else:
        concerns = _concerns(ids, start, end, {s.id.hex: s.concern_days for s in schools})
        incidents, children = _incidents(ids, start, end)
    report = rf.build(period, now.timestamp(), concerns=concerns, incidents=incidents,
                      children=children, referrals=referrals,
                      decision_hours=INCIDENT_DECISION_HOURS, concern_days=None,
                      authority_view=True)
    lines = rf.by_school({s.id.hex: s.name for s in schools}, concerns=concerns,
                         incidents=incidents, children=children,
                         referrals=[r for r in referrals if r.school_id in set(ids)])
    return report, lines
