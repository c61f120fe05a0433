"""The demo's back-dated records read in a possible order (walk 10), whatever the time `flask
demo` runs: a concern is raised on or after the day it happened, what happened is first told to
staff before the concern is raised, the incident is opened (and its concerns read) after that,
and a decision comes after the incident was opened; nothing is in the future."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from portal import demo
from portal.clock import uk_local
from portal.models import (
    Assessment,
    ChildRecordEntry,
    Concern,
    Decision,
    Incident,
    IncidentConcern,
    IncidentRevision,
    db,
)
from tests import factories

# Just after midnight and in the small hours, in winter (GMT) and in summer (BST), and at noon.
NOWS = (dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 14, 0, 40, tzinfo=dt.UTC),  # 01:40 in London
        dt.datetime(2026, 12, 1, 1, 50, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC))


def day_of(at: dt.datetime) -> dt.date:
    return uk_local(at).date()


@pytest.mark.parametrize("now", NOWS, ids=[f"{n:%m-%dT%H:%M}Z" for n in NOWS])
def test_every_demo_timeline_is_in_a_possible_order(app: Flask, now: dt.datetime) -> None:
    for _name, _urn, code, *_rest in demo.SCHOOLS:
        factories.authority(code)
    demo.create_demo(now)
    db.session.flush()
    concerns = list(db.session.scalars(select(Concern)))
    assert concerns
    for concern in concerns:
        assert concern.occurred_on is not None
        assert concern.occurred_on <= day_of(concern.submitted_at) <= day_of(now)
        assert concern.submitted_at <= now
        if concern.picked_up_at is not None:
            assert concern.submitted_at <= concern.picked_up_at <= now
    incidents = list(db.session.scalars(select(Incident)))
    assert incidents
    for incident in incidents:
        assert incident.reported_at is not None and incident.occurred_on is not None
        assert incident.occurred_on <= day_of(incident.reported_at)
        linked = list(db.session.scalars(select(Concern).join(
            IncidentConcern, IncidentConcern.concern_id == Concern.id).where(
            IncidentConcern.incident_id == incident.id)))
        assert linked
        for concern in linked:
            # Told to staff, then the concern raised, then the incident opened from it.
            assert incident.reported_at <= concern.submitted_at <= incident.opened_at
            assert concern.picked_up_at == incident.opened_at
            assert concern.occurred_on is not None
            assert concern.occurred_on <= day_of(incident.reported_at)
        assert incident.opened_at <= incident.updated_at <= now
        for saved in db.session.scalars(select(IncidentRevision.saved_at).where(
                IncidentRevision.incident_id == incident.id)):
            assert incident.opened_at <= saved <= now
        for assessed in db.session.scalars(select(Assessment.assessed_at).where(
                Assessment.incident_id == incident.id)):
            assert incident.opened_at <= assessed <= now
        for decided in db.session.scalars(select(Decision.decided_at).where(
                Decision.incident_id == incident.id)):
            assert incident.opened_at <= decided <= now
        # Each child's file: the concern's line before the incident's.
        entries = list(db.session.scalars(select(ChildRecordEntry).where(
            ChildRecordEntry.incident_id == incident.id)))
        assert entries and all(e.occurred_at >= incident.opened_at for e in entries)
    for entry in db.session.scalars(select(ChildRecordEntry)):
        assert entry.occurred_at <= now
