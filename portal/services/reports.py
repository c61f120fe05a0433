"""Reports (issue 17): the DSL's and governors' report of a school, and the local authority's
view across the schools that referred to it.

Every figure is counted from plain columns (codes, flags, timestamps and the statistics codes
on `IncidentChild`) through indexes on (school, time); nothing is decrypted and no child's name
is read. `report_figures` (pure) does the counting; this module reads the rows. Callers pass
the school ids from `portal.access.report_school_ids`, so every query is scoped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Table, and_, func, select, update

from ..models import (
    Child,
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
from .localtime import directory_from_db, from_local, to_local

# Decisions that are not a decision about the children or the routes.
_NOT_A_FIRST_DECISION = ("review", "close", "not_involved")


def bounds(period: rf.Period) -> tuple[dt.datetime, dt.datetime]:
    """The period's first moment and the moment after its last day, UK time, as aware UTC."""
    start = from_local(dt.datetime.combine(period.start, dt.time.min))
    end = from_local(dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min))
    return start, end


def _month(at: dt.datetime) -> tuple[int, int]:
    local = to_local(at)
    return local.year, local.month


def _in(column: Any, ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    return column == ids[0] if len(ids) == 1 else column.in_(ids)  # type: ignore[no-any-return]


def _concerns(ids: Sequence[uuid.UUID], start: dt.datetime, end: dt.datetime,
              days: dict[uuid.UUID, int]) -> list[rf.ConcernRow]:
    rows = db.session.execute(
        select(Concern.id, Concern.school_id, Concern.submitted_at, Concern.picked_up_at,
               ConcernOutcome.kind, ConcernOutcome.category)
        .outerjoin(ConcernOutcome, ConcernOutcome.concern_id == Concern.id)
        .where(_in(Concern.school_id, ids), Concern.submitted_at >= start,
               Concern.submitted_at < end, Concern.state != "draft")).all()
    in_incident = set(db.session.scalars(
        select(IncidentConcern.concern_id)
        .join(Concern, Concern.id == IncidentConcern.concern_id)
        .where(_in(Concern.school_id, ids), Concern.submitted_at >= start,
               Concern.submitted_at < end)))
    out: dict[uuid.UUID, rf.ConcernRow] = {}
    for cid, school_id, sent, picked, kind, category in rows:
        if cid in out:
            continue
        outcome = "incident" if cid in in_incident else kind or "waiting"
        # The dashboard's own rule, read from the plain time alone.
        due = concern_due(cast(Concern, SimpleNamespace(submitted_at=sent)),
                          days.get(school_id, 1))
        out[cid] = rf.ConcernRow(cid, school_id, sent, _month(sent), picked, due,
                                 outcome if outcome in rf.CONCERN_OUTCOMES else "waiting",
                                 category)
    return list(out.values())


def _incidents(ids: Sequence[uuid.UUID], start: dt.datetime, end: dt.datetime
               ) -> tuple[list[rf.IncidentRow], list[rf.ChildRow]]:
    in_period = and_(_in(Incident.school_id, ids), Incident.opened_at >= start,
                     Incident.opened_at < end)
    incidents = db.session.execute(
        select(Incident.id, Incident.school_id, Incident.opened_at, Incident.state,
               Incident.online, Incident.types, Incident.mandatory_routes)
        .where(in_period)).all()
    if not incidents:
        return [], []
    children = [rf.ChildRow(i, c, role, y or "U", s or "U", n or "U")
                for i, c, role, y, s, n in db.session.execute(
                    select(IncidentChild.incident_id, IncidentChild.child_id, IncidentChild.role,
                           IncidentChild.stat_year_group, IncidentChild.stat_sex,
                           IncidentChild.stat_send)
                    .join(Incident, Incident.id == IncidentChild.incident_id)
                    .where(in_period))]
    home = set(db.session.scalars(
        select(IncidentChild.incident_id)
        .join(Incident, Incident.id == IncidentChild.incident_id)
        .where(in_period, IncidentChild.household.is_not(None))
        .group_by(IncidentChild.incident_id, IncidentChild.household)
        .having(func.count() > 1)))
    first_concern = dict(db.session.execute(
        select(IncidentConcern.incident_id, func.min(Concern.submitted_at))
        .join(Incident, Incident.id == IncidentConcern.incident_id)
        .join(Concern, Concern.id == IncidentConcern.concern_id)
        .where(in_period).group_by(IncidentConcern.incident_id)).all())
    first_decision: dict[uuid.UUID, dt.datetime] = {}
    decided: dict[uuid.UUID, set[str]] = defaultdict(set)
    taken: dict[uuid.UUID, set[str]] = defaultdict(set)
    reviewed: set[uuid.UUID] = set()
    for incident_id, kind, route, at in db.session.execute(
            select(Decision.incident_id, Decision.kind, Decision.route, Decision.decided_at)
            .join(Incident, Incident.id == Decision.incident_id).where(in_period)):
        if route:
            decided[incident_id].add(route)
            if kind in rf.ROUTE_TAKEN_KINDS:
                taken[incident_id].add(route)
        if kind == "review" and start <= at < end:
            reviewed.add(incident_id)
        if kind not in _NOT_A_FIRST_DECISION and (
                incident_id not in first_decision or at < first_decision[incident_id]):
            first_decision[incident_id] = at
    handed: dict[uuid.UUID, set[str]] = defaultdict(set)
    first_handover: dict[uuid.UUID, dt.datetime] = {}
    Moment = tuple[uuid.UUID, str, dt.datetime]
    handovers: list[Moment] = [(i, r, a) for i, r, a in db.session.execute(
        select(RouteHandover.incident_id, RouteHandover.route, RouteHandover.happened_at)
        .join(Incident, Incident.id == RouteHandover.incident_id).where(in_period))]
    handovers += [(i, "csc_referral", at) for i, at in db.session.execute(
        select(Referral.incident_id, Referral.sent_at)
        .join(Incident, Incident.id == Referral.incident_id).where(in_period))]
    for incident_id, route, at in handovers:
        handed[incident_id].add(route)
        if incident_id not in first_handover or at < first_handover[incident_id]:
            first_handover[incident_id] = at
    rows = []
    for iid, school_id, opened, state, online, types, mandatory in incidents:
        setting = "online" if online else "home" if iid in home else "school"
        rows.append(rf.IncidentRow(
            iid, school_id, opened, _month(opened), state == "open", setting,
            tuple(types or ()), tuple(mandatory or ()), frozenset(handed.get(iid, ())),
            frozenset(decided.get(iid, ())), frozenset(taken.get(iid, ())),
            first_concern.get(iid), first_decision.get(iid), first_handover.get(iid),
            iid in reviewed))
    return rows, children


def _referrals(where: ColumnElement[bool], start: dt.datetime, end: dt.datetime
               ) -> list[rf.ReferralRow]:
    directory = directory_from_db()
    codes = dict(db.session.execute(select(LocalAuthority.id, LocalAuthority.code)).all())
    out = []
    for rid, school_id, la_id, sent, ack, answered, outcome, meeting in db.session.execute(
            select(Referral.id, Referral.school_id, Referral.local_authority_id, Referral.sent_at,
                   Referral.acknowledged_at, Referral.answered_at, Referral.outcome,
                   Referral.strategy_meeting_at)
            .where(where, Referral.sent_at >= start, Referral.sent_at < end)):
        authority = directory.get(codes.get(la_id, ""))
        timescale = authority.timescales.get("strategy_meeting") if authority else None
        due = due_after(to_local(sent), timescale) if timescale else None
        out.append(rf.ReferralRow(rid, school_id, sent, _month(sent), ack, answered, outcome,
                                  meeting, from_local(due.at) if due else None))
    return out


def school_report(school: School, period: rf.Period, now: dt.datetime) -> rf.Report:
    """The DSL's and governors' report of one school for `period`."""
    start, end = bounds(period)
    ids = [school.id]
    incidents, children = _incidents(ids, start, end)
    return rf.build(
        period, now, concerns=_concerns(ids, start, end, {school.id: school.concern_days}),
        incidents=incidents, children=children,
        referrals=_referrals(Referral.school_id == school.id, start, end),
        decision_hours=INCIDENT_DECISION_HOURS, concern_days=school.concern_days)


def authority_report(authority_id: uuid.UUID, schools: Sequence[School], period: rf.Period,
                     now: dt.datetime) -> tuple[rf.Report, list[rf.SchoolLine]]:
    """The authority's view: the figures of `schools` (those that referred to it) together,
    its referrals received, and the main figures of each school."""
    start, end = bounds(period)
    ids = [s.id for s in schools]
    referrals = _referrals(Referral.local_authority_id == authority_id, start, end)
    if not ids:
        concerns: list[rf.ConcernRow] = []
        incidents: list[rf.IncidentRow] = []
        children: list[rf.ChildRow] = []
    else:
        concerns = _concerns(ids, start, end, {s.id: s.concern_days for s in schools})
        incidents, children = _incidents(ids, start, end)
    report = rf.build(period, now, concerns=concerns, incidents=incidents, children=children,
                      referrals=referrals, decision_hours=INCIDENT_DECISION_HOURS,
                      concern_days=None, authority_view=True)
    lines = rf.by_school({s.id: s.name for s in schools}, concerns=concerns,
                         incidents=incidents, children=children, referrals=referrals)
    return report, lines


# ---------------------------------------------------------------------------------------------
# The statistics codes on IncidentChild (docs/security.md 3.6)


def statistics_of(child: Child) -> dict[str, str]:
    """The coarse codes of a child's year group, sex and SEND, from their encrypted details."""
    return {"stat_year_group": rf.year_group_code(child.year_group),
            "stat_sex": rf.sex_code(child.sex),
            "stat_send": rf.send_code(child.send)}


def record_statistics(row: IncidentChild, child: Child) -> None:
    """Copy the child's codes onto their part in an incident (when they are put in it)."""
    for name, value in statistics_of(child).items():
        setattr(row, name, value)


def fill_statistics(connection: Connection, batch: int = 500) -> int:
    """Give every part of a child in an incident that has no codes yet its codes, decrypting
    only the child's year group, sex and SEND (run by migration 0025 on its own connection and
    by `flask init-db`; safe to run again). Returns how many rows it filled."""
    from ..crypto import FieldContext
    from ..models import keyring

    ring = keyring()
    ic, ch = cast(Table, IncidentChild.__table__), cast(Table, Child.__table__)

    def text(school_id: uuid.UUID, child_id: uuid.UUID, name: str, blob: bytes | None
             ) -> str | None:
        if blob is None:
            return None
        return ring.decrypt(FieldContext(str(school_id), "children", name, str(child_id)),
                            blob).decode("utf-8")

    done = 0
    while True:
        rows = connection.execute(
            select(ic.c.id, ch.c.id, ch.c.school_id, ch.c.year_group_enc, ch.c.sex_enc,
                   ch.c.send_enc)
            .join(ch, ch.c.id == ic.c.child_id)
            .where(ic.c.stat_year_group.is_(None)).limit(batch)).all()
        if not rows:
            return done
        for row_id, child_id, school_id, year, sex, send in rows:
            send_text = text(school_id, child_id, "send", send)
            connection.execute(update(ic).where(ic.c.id == row_id).values(
                stat_year_group=rf.year_group_code(text(school_id, child_id, "year_group", year)),
                stat_sex=rf.sex_code(text(school_id, child_id, "sex", sex)),
                stat_send=rf.send_code(None if send_text is None else send_text == "1")))
        done += len(rows)
