"""Reports (issue 17): the DSL's and governors' report of a school, and the local authority's
view across the schools that referred to it.

Every figure is counted from plain columns; nothing is decrypted and no child's name is read.
Concerns, incidents and their children are read already counted, from the summary table of
each school's figures per month (`report_summary`, kept in step as records change), so a
school year is 12 rows a school; referrals (a few per school) are read row by row
(`report_rows`). `report_figures` (pure) draws the report from the figures. Callers pass the
school ids from `portal.access.report_school_ids`, so every query is scoped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from ..models import Referral, School, db
from . import report_figures as rf
from . import report_rows, report_summary
from .incidents import INCIDENT_DECISION_HOURS

# The triage due moment (tests/unit/test_report_triage_due.py compares it with the dashboard's).
from .report_rows import _triage_due as _triage_due


def bounds(period: rf.Period) -> tuple[dt.datetime, dt.datetime]:
    """The period's first moment and the moment after its last day, UK time, as aware UTC."""
    months = period.months()
    return report_rows.month_bounds(months[0], months[-1])


def school_report(school: School, period: rf.Period, now: dt.datetime) -> rf.Report:
    """The DSL's and governors' report of one school for `period`."""
    start, end = bounds(period)
    figures = report_summary.read(db.session(), [school.id], period).get(school.id.hex,
                                                                         rf.Figures())
    with report_rows.no_collection():
        referrals = report_rows.referrals(db.session(), Referral.school_id == school.id,
                                          start, end)
        return rf.report_of(period, now.timestamp(), figures, referrals=referrals,
                            decision_hours=INCIDENT_DECISION_HOURS,
                            concern_days=school.concern_days)


def authority_report(authority_id: uuid.UUID, schools: Sequence[School], period: rf.Period,
                     now: dt.datetime) -> tuple[rf.Report, list[rf.SchoolLine]]:
    """The authority's view: the figures of `schools` (those that referred to it) together,
    its referrals received, and the main figures of each school."""
    start, end = bounds(period)
    per_school = report_summary.read(db.session(), [s.id for s in schools], period)
    with report_rows.no_collection():
        referrals = report_rows.referrals(
            db.session(), Referral.local_authority_id == authority_id, start, end)
        total = rf.Figures()
        for figures in per_school.values():
            total.add(figures)
        report = rf.report_of(period, now.timestamp(), total, referrals=referrals,
                              decision_hours=INCIDENT_DECISION_HOURS, concern_days=None,
                              authority_view=True)
        ids = {s.id.hex for s in schools}
        lines = rf.by_school({s.id.hex: s.name for s in schools}, per_school,
                             [r for r in referrals if r.school_id in ids])
    return report, lines
