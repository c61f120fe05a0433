"""The reports' summary table (issue 17, docs/reports.md "Speed"): each school's figures for
each UK month (`report_months`), so a period's report reads one row per school and month
instead of every concern, incident and child in it.

The one writer of the table is this module, in the transaction that changes what it counts:
before every commit, the months of the concerns and incidents whose counted columns changed in
it (and, for a change to a school's triage timescale, every month of that school) are recounted
from the rows (`report_rows.recount`, the same reading and counting a report did before the
table existed) and written back. A recount is always from the rows, so one too many is
harmless. Writes that bypass the ORM (bulk loads, restores) are followed by `rebuild`
(`flask rebuild-report-summary`; migration 0027 and `flask init-db` run it too).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, event, exists, func, insert, inspect, or_, select
from sqlalchemy.orm import Session

from ..models import (
    Concern,
    ConcernOutcome,
    Decision,
    Incident,
    IncidentChild,
    IncidentConcern,
    Referral,
    ReportMonth,
    RouteHandover,
    School,
)
from . import report_figures as rf
from .report_rows import month_bounds, month_of, no_collection, recount

# What each counted model marks, and the columns the reports count from it.
_COUNTED: dict[type, tuple[str, ...]] = {
    Concern: ("school_id", "submitted_at", "picked_up_at", "state"),
    ConcernOutcome: ("concern_id", "kind", "category"),
    IncidentConcern: ("incident_id", "concern_id"),
    Incident: ("school_id", "opened_at", "state", "online", "types", "mandatory_routes"),
    IncidentChild: ("incident_id", "child_id", "role", "stat_year_group", "stat_sex",
                    "stat_send", "household"),
    Decision: ("incident_id", "kind", "route", "decided_at"),
    RouteHandover: ("incident_id", "route", "happened_at"),
    Referral: ("incident_id", "sent_at"),
    School: ("concern_days",),
}
_INFO_KEY = "report_summary_marks"


def month_number(month: rf.Month) -> int:
    """The summary's month: year * 100 + month."""
    return month[0] * 100 + month[1]


# ---------------------------------------------------------------------------------------------
# Reading


def read(session: Session, school_ids: Sequence[uuid.UUID], period: rf.Period
         ) -> dict[str, rf.Figures]:
    """Each school's figures for `period` (school id as hex; a school with none is absent)."""
    months = period.months()
    out: dict[str, rf.Figures] = {}
    if not school_ids:
        return out
    where = (ReportMonth.school_id == school_ids[0] if len(school_ids) == 1
             else ReportMonth.school_id.in_(school_ids))
    with no_collection():
        for school_id, text in session.execute(
                select(ReportMonth.school_id, ReportMonth.figures).where(
                    where, ReportMonth.month >= month_number(months[0]),
                    ReportMonth.month <= month_number(months[-1]))):
            key = school_id.hex
            if key in out:
                out[key].add_json(text)
            else:
                out[key] = rf.Figures.from_json(text)
    return out


# ---------------------------------------------------------------------------------------------
# Writing


def _runs(months: Iterable[rf.Month]) -> list[list[rf.Month]]:
    """Months in order, in runs of consecutive months (each run is recounted at once)."""
    runs: list[list[rf.Month]] = []
    for month in sorted(set(months)):
        if runs and month == rf.next_month(runs[-1][-1]):
            runs[-1].append(month)
        else:
            runs.append([month])
    return runs


def _write(session: Session, school_id: uuid.UUID, first: rf.Month, last: rf.Month,
           counted: dict[tuple[str, rf.Month], rf.Figures]) -> None:
    session.execute(delete(ReportMonth).where(
        ReportMonth.school_id == school_id, ReportMonth.month >= month_number(first),
        ReportMonth.month <= month_number(last)))
    rows = [{"school_id": school_id, "month": month_number(month), "figures": f.to_json()}
            for (_, month), f in sorted(counted.items())]
    if rows:
        session.execute(insert(ReportMonth), rows)


def refresh(session: Session, months: dict[uuid.UUID, set[rf.Month]]) -> None:
    """Recount these months of these schools from the rows and write them."""
    if not months:
        return
    days: dict[uuid.UUID, int] = {school_id: n for school_id, n in session.execute(
        select(School.id, School.concern_days).where(School.id.in_(list(months))))}
    for school_id, wanted in months.items():
        if school_id not in days:
            continue
        for run in _runs(wanted):
            start, end = month_bounds(run[0], run[-1])
            _write(session, school_id, run[0], run[-1],
                   recount(session, {school_id.hex: days[school_id]}, start, end))


def _span(session: Session, school_id: uuid.UUID) -> tuple[rf.Month, rf.Month] | None:
    """The first and last UK month with a concern sent or an incident opened."""
    moments = [m for m in (
        *session.execute(select(func.min(Concern.submitted_at), func.max(Concern.submitted_at))
                         .where(Concern.school_id == school_id)).one(),
        *session.execute(select(func.min(Incident.opened_at), func.max(Incident.opened_at))
                         .where(Incident.school_id == school_id)).one()) if m is not None]
    if not moments:
        return None
    return month_of(min(moments).timestamp()), month_of(max(moments).timestamp())


def rebuild(session: Session, school_ids: Sequence[uuid.UUID] | None = None) -> int:
    """Recount every month of these schools (all schools: None) from the rows, replacing what
    the table held. Returns how many schools were counted."""
    if school_ids is None:
        school_ids = list(session.scalars(select(School.id).order_by(School.id)))
    for school_id in school_ids:
        session.execute(delete(ReportMonth).where(ReportMonth.school_id == school_id))
        span = _span(session, school_id)
        days = session.scalar(select(School.concern_days).where(School.id == school_id))
        if span is None or days is None:
            continue
        start, end = month_bounds(*span)
        _write(session, school_id, span[0], span[1],
               recount(session, {school_id.hex: days}, start, end))
    return len(school_ids)


def needs_rebuild(session: Session) -> bool:
    """True when the table is empty but there are concerns or incidents to count (after a
    bulk load or an upgrade that could not count them)."""
    if session.scalar(select(exists().where(ReportMonth.school_id.is_not(None)))):
        return False
    return bool(session.scalar(select(or_(exists().where(Incident.id.is_not(None)),
                                          exists().where(Concern.id.is_not(None))))))


# ---------------------------------------------------------------------------------------------
# Keeping it in step: marks taken at each flush, recounted before the commit


@dataclass
class _Marks:
    incidents: set[uuid.UUID] = field(default_factory=set)
    concerns: set[uuid.UUID] = field(default_factory=set)
    schools: set[uuid.UUID] = field(default_factory=set)  # every month
    months: dict[uuid.UUID, set[rf.Month]] = field(default_factory=lambda: defaultdict(set))


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _old_months(obj: Any, marks: _Marks, moment: str) -> None:
    """The month a concern or incident counted in before this change (school or time moved;
    deleted)."""
    attrs = inspect(obj).attrs
    schools = [*attrs.school_id.history.deleted, obj.school_id]
    moments = [*getattr(attrs, moment).history.deleted, getattr(obj, moment)]
    for school in schools:
        for at in moments:
            if school is not None and isinstance(at, dt.datetime):
                marks.months[school].add(month_of(at.timestamp()))


def _mark(obj: Any, marks: _Marks) -> None:
    if isinstance(obj, Incident):
        marks.incidents.add(obj.id)
        _old_months(obj, marks, "opened_at")
    elif isinstance(obj, Concern):
        marks.concerns.add(obj.id)
        _old_months(obj, marks, "submitted_at")
    elif isinstance(obj, School):
        marks.schools.add(obj.id)
    else:
        for name in ("incident_id", "concern_id"):
            attr = inspect(obj).attrs.get(name)
            if attr is not None:
                ids = marks.incidents if name == "incident_id" else marks.concerns
                ids.update(v for v in (*attr.history.deleted, getattr(obj, name))
                           if v is not None)


def _after_flush(session: Session, _context: Any) -> None:
    touched = [obj for obj in (*session.new, *session.deleted)
               if type(obj) in _COUNTED and not (isinstance(obj, School) and obj in session.new)]
    touched += [obj for obj in session.dirty
                if (names := _COUNTED.get(type(obj))) is not None and _changed(obj, names)]
    if not touched:
        return
    marks: _Marks = session.info.setdefault(_INFO_KEY, _Marks())
    for obj in touched:
        _mark(obj, marks)


def _before_commit(session: Session) -> None:
    session.flush()  # so every change of the transaction is marked
    marks: _Marks | None = session.info.pop(_INFO_KEY, None)
    if marks is None:
        return
    months = marks.months
    if marks.incidents:
        for school_id, opened in session.execute(select(Incident.school_id, Incident.opened_at)
                                                 .where(Incident.id.in_(marks.incidents))):
            months[school_id].add(month_of(opened.timestamp()))
    if marks.concerns:
        for school_id, sent in session.execute(select(Concern.school_id, Concern.submitted_at)
                                               .where(Concern.id.in_(marks.concerns))):
            if sent is not None:
                months[school_id].add(month_of(sent.timestamp()))
    if marks.schools:
        rebuild(session, sorted(marks.schools))
    refresh(session, {s: m for s, m in months.items() if s not in marks.schools})


def install() -> None:
    """Keep the summary in step with every session's commits (once per process)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
