"""The incident page reads the latest two assessments with the incident (one statement, not
two): joined there, or read alone where a page did not ask, they are the newest two."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal.models import Assessment, Incident, db
from portal.services import incidents as svc
from portal.services.incident_page import PAGE_OPTIONS
from tests.helpers.incidents import ready_to_hand_over, save_facts


def _ids(rows: Any) -> list[uuid.UUID]:
    return [row.id for row in rows]


def test_the_latest_two_assessments_joined_or_alone(app: Flask, client: Any) -> None:
    _, iid = ready_to_hand_over(app, client)
    assert save_facts(client, iid, online="y").status_code == 302  # one more assessment
    db.session.expunge_all()
    every = db.session.scalars(select(Assessment).where(Assessment.incident_id == iid)).all()
    assert len(every) >= 3
    newest = _ids(svc.latest_assessments(db.session.get(Incident, iid), 2))
    db.session.expunge_all()
    alone = db.session.get(Incident, iid)
    assert alone is not None and _ids(alone.last_two_assessments) == newest
    db.session.expunge_all()
    joined = db.session.scalars(select(Incident).options(*PAGE_OPTIONS)
                                .where(Incident.id == iid)).unique().one()
    assert _ids(joined.last_two_assessments) == newest
