"""The statistics codes for reports (issue 17): recorded when a child is put in an incident
through the incident's own service, and filled by migration 0025's backfill for the children
already in incidents, from the encrypted roll details."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from portal.models import Incident, IncidentChild, db
from portal.services.incidents import ChildInput, save_child
from portal.services.report_stats import fill_statistics
from tests import factories


def test_backfill_and_recording_copy_the_coarse_codes(app: Flask) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    old = factories.child(school, given="Ysolde", family="Marchbank", send=True)
    old.year_group, old.sex = "Year 9", "F"
    incident = Incident(school_id=school.id, reference="I0001", opened_by_id=dsl.id,
                        occurred_on=dt.date(2026, 11, 2), types=["physical"])
    db.session.add(incident)
    db.session.flush()
    db.session.add(IncidentChild(incident_id=incident.id, child_id=old.id,
                                 school_id=school.id, role="harmed"))  # as before 0025
    db.session.commit()

    with db.engine.begin() as connection:
        assert fill_statistics(connection) == 1
        assert fill_statistics(connection) == 0  # safe to run again
    db.session.expire_all()
    row = db.session.scalar(select(IncidentChild).where(IncidentChild.child_id == old.id))
    assert row is not None
    assert (row.stat_year_group, row.stat_sex, row.stat_send) == ("9", "F", "Y")

    new = factories.child(school, given="Tobias", family="Ellacott")
    new.year_group, new.sex = "R", "Male"
    db.session.commit()
    data = ChildInput(role="harmed_others", dob=dt.date(2012, 5, 1),
                      local_authority="derbyshire",
                      child_words_missing_reason="Not yet spoken to")
    added = save_child(dsl, incident, incident.version, new, data,
                       dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC))
    assert (added.stat_year_group, added.stat_sex, added.stat_send) == ("R", "M", "N")
