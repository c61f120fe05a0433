"""Reports (issue 17): reading the rows the figures are counted from, and counting them into
each school's figures for each month (`recount`), which the summary table keeps
(portal/services/report_summary.py).

Every row is read from plain columns (codes, flags, timestamps and the statistics codes on
`IncidentChild`) through indexes on (school, time); nothing is decrypted and no child's name
is read. Callers pass the school ids, so every query is scoped. Rows are read as text ids and
epoch seconds computed by the database: converting tens of thousands of UUIDs and datetimes in
Python is what made an authority's report slow.
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
from sqlalchemy.orm import Session

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
)
from ..rules.timescales import due_after
from . import report_figures as rf
from .incidents import INCIDENT_DECISION_HOURS, concern_due
from .localtime import directory_from_db

# Decisions that are not a decision about the children or the routes.
_NOT_A_FIRST_DECISION = ("review", "close", "not_involved")


@contextmanager
def no_collection() -> Iterator[None]:
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


def month_bounds(first: rf.Month, last: rf.Month) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of UK month `first` and the first moment after UK month `last`, as
    aware UTC (a period's bounds: its days are whole months)."""
    after = rf.next_month(last)
    return (from_uk_local(dt.datetime(first[0], first[1], 1)),
            from_uk_local(dt.datetime(after[0], after[1], 1)))


def _epoch(session: Session, column: Any) -> ColumnElement[float]:
    """Seconds since the epoch (UTC) of a UTCDateTime column, computed by the database."""
    if session.get_bind().dialect.name == "sqlite":
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


def _plain(value: str) -> str:
    """An id read as text, the same on both databases (as `_key`, for the many ids of
    incidents and children: not kept in a cache)."""
    return value.replace("-", "")


@functools.cache
def _local_parts(hour_stamp: int) -> tuple[int, int]:
    """(year, month) in UK time of the hour starting at `hour_stamp` (seconds)."""
    local = dt.datetime.fromtimestamp(hour_stamp, LONDON)
    return local.year, local.month


def month_of(stamp: float) -> rf.Month:
    """The UK (year, month) of a moment in seconds since the epoch."""
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


def concerns(session: Session, ids: Sequence[str], start: dt.datetime, end: dt.datetime,
             days: dict[str, int]) -> list[rf.ConcernRow]:
    """The concerns sent in [start, end) by the schools `ids` (`days`: each one's triage
    timescale in working days)."""
    in_incident = select(IncidentConcern.id).where(
        IncidentConcern.concern_id == Concern.id).exists()
    rows = session.execute(
        select(_text(Concern.school_id), _epoch(session, Concern.submitted_at),
               _epoch(session, Concern.picked_up_at), ConcernOutcome.kind,
               ConcernOutcome.category, in_incident, _text(Concern.id))
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
            school, sent, month_of(sent), picked, _triage_due(sent, days.get(school, 1)),
            outcome if outcome in rf.CONCERN_OUTCOMES else "waiting", category)
    return list(out.values())


def _children(session: Session, in_period: ColumnElement[bool]
              ) -> list[tuple[rf.ChildRow, str | None]]:
    """Each child in each of the period's incidents, with their household label."""
    return [(rf.ChildRow(_plain(i), _plain(c), role, y, s, n), h)
            for i, c, role, y, s, n, h in session.execute(
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


class _Decisions:
    """What the decisions of the period's incidents say: routes decided and taken, the first
    decision about the children or routes, and the months of reviews."""

    def __init__(self, session: Session, in_period: ColumnElement[bool]) -> None:
        self.first: dict[str, float] = {}
        self.decided: dict[str, set[str]] = defaultdict(set)
        self.taken: dict[str, set[str]] = defaultdict(set)
        self.reviews: dict[str, set[rf.Month]] = defaultdict(set)
        for incident_id, kind, route, moment in session.execute(
                select(_text(Decision.incident_id), Decision.kind, Decision.route,
                       _epoch(session, Decision.decided_at))
                .join(Incident, Incident.id == Decision.incident_id).where(in_period)):
            if route is not None:
                self.decided[incident_id].add(route)
                if kind in rf.ROUTE_TAKEN_KINDS:
                    self.taken[incident_id].add(route)
            if kind == "review":
                self.reviews[incident_id].add(month_of(moment))
            if kind not in _NOT_A_FIRST_DECISION and moment < self.first.get(incident_id, inf):
                self.first[incident_id] = moment


def _handovers(session: Session, in_period: ColumnElement[bool]
               ) -> tuple[dict[str, set[str]], dict[str, float]]:
    """Routes handed over (a hand-over record, or a referral through the portal) per
    incident, and the first moment of one."""
    handed: dict[str, set[str]] = defaultdict(set)
    first: dict[str, float] = {}
    moments: list[tuple[str, str, float]] = [(i, r, a) for i, r, a in session.execute(
        select(_text(RouteHandover.incident_id), RouteHandover.route,
               _epoch(session, RouteHandover.happened_at))
        .join(Incident, Incident.id == RouteHandover.incident_id).where(in_period))]
    moments += [(i, "csc_referral", a) for i, a in session.execute(
        select(_text(Referral.incident_id), _epoch(session, Referral.sent_at))
        .join(Incident, Incident.id == Referral.incident_id).where(in_period))]
    for incident_id, route, moment in moments:
        handed[incident_id].add(route)
        if incident_id not in first or moment < first[incident_id]:
            first[incident_id] = moment
    return handed, first


def incidents(session: Session, ids: Sequence[str], start: dt.datetime, end: dt.datetime
              ) -> tuple[list[rf.IncidentRow], list[rf.ChildRow]]:
    """The incidents opened in [start, end) by the schools `ids`, and their children."""
    in_period = and_(_in(Incident.school_id, ids), Incident.opened_at >= start,
                     Incident.opened_at < end)
    found = session.execute(
        select(_text(Incident.id), _text(Incident.school_id), _epoch(session, Incident.opened_at),
               Incident.state, Incident.online, _text(Incident.types),
               _text(Incident.mandatory_routes))
        .where(in_period)).all()
    if not found:
        return [], []
    with_households = _children(session, in_period)
    households = Counter((c.incident_id, h) for c, h in with_households if h)
    home = {i for (i, _), n in households.items() if n > 1}
    first_concern: dict[str, float] = {i: at for i, at in session.execute(
        select(_text(IncidentConcern.incident_id), func.min(_epoch(session, Concern.submitted_at)))
        .join(Incident, Incident.id == IncidentConcern.incident_id)
        .join(Concern, Concern.id == IncidentConcern.concern_id)
        .where(in_period).group_by(IncidentConcern.incident_id))}
    decisions = _Decisions(session, in_period)
    handed, first_handover = _handovers(session, in_period)
    lists: dict[Any, tuple[str, ...]] = {}
    same: dict[frozenset[str], frozenset[str]] = {}
    rows = []
    for iid, school_id, opened, state, online, types, mandatory in found:
        plain = _plain(iid)
        setting = "online" if online else "home" if plain in home else "school"
        rows.append(rf.IncidentRow(
            plain, _key(school_id), opened, month_of(opened), state == "open", setting,
            _json_list(types, lists), _json_list(mandatory, lists),
            _routes(handed, iid, same), _routes(decisions.decided, iid, same),
            _routes(decisions.taken, iid, same),
            first_concern.get(iid), decisions.first.get(iid), first_handover.get(iid),
            tuple(sorted(decisions.reviews.get(iid, ())))))
    return rows, [c for c, _ in with_households]


def recount(session: Session, days: dict[str, int], start: dt.datetime, end: dt.datetime
            ) -> dict[tuple[str, rf.Month], rf.Figures]:
    """The figures of each school (`days`: school id as hex, its triage timescale in working
    days) for each UK month in [start, end) with a concern or an incident, counted from the
    rows: what the summary table keeps."""
    ids = sorted(days)
    if not ids:
        return {}
    with no_collection():
        concern_rows = concerns(session, ids, start, end, days)
        incident_rows, child_rows = incidents(session, ids, start, end)
        by_key: dict[tuple[str, rf.Month], tuple[list[rf.ConcernRow], list[rf.IncidentRow],
                                                  list[rf.ChildRow]]] = defaultdict(
            lambda: ([], [], []))
        for c in concern_rows:
            by_key[c.school_id, c.month][0].append(c)
        key_of = {}
        for i in incident_rows:
            key_of[i.id] = (i.school_id, i.month)
            by_key[i.school_id, i.month][1].append(i)
        for child in child_rows:
            by_key[key_of[child.incident_id]][2].append(child)
        return {key: rf.summarise(c, i, ch, INCIDENT_DECISION_HOURS)
                for key, (c, i, ch) in by_key.items()}


def referrals(session: Session, where: ColumnElement[bool], start: dt.datetime,
              end: dt.datetime) -> list[rf.ReferralRow]:
    """The referrals matching `where` sent in [start, end), judged against their authority's
    timescale for a strategy meeting."""
    directory = directory_from_db()
    codes = {la_id: code for la_id, code in session.execute(
        select(LocalAuthority.id, LocalAuthority.code))}
    out = []
    for school_id, la_id, sent_at, sent, ack, answered, outcome, meeting in session.execute(
            select(_text(Referral.school_id), Referral.local_authority_id, Referral.sent_at,
                   _epoch(session, Referral.sent_at), _epoch(session, Referral.acknowledged_at),
                   _epoch(session, Referral.answered_at), Referral.outcome,
                   _epoch(session, Referral.strategy_meeting_at))
            .where(where, Referral.sent_at >= start, Referral.sent_at < end)):
        authority = directory.get(codes.get(la_id, ""))
        timescale = authority.timescales.get("strategy_meeting") if authority else None
        due = due_after(uk_local(sent_at), timescale) if timescale else None
        out.append(rf.ReferralRow(_key(school_id), sent, month_of(sent), ack, answered,
                                  outcome, meeting,
                                  from_uk_local(due.at).timestamp() if due else None))
    return out
