"""The reports' summary table (issue 17, docs/reports.md "Speed") is the same as a recount from
the records after every kind of change, made through the pages as a DSL and an adviser make
them: a new incident, its facts, children added, a decision, a child recorded as not involved,
a hand-over record, a referral sent and answered, a triage, the school's timescale changed,
and a child's part removed. Each step also checks the figure it changed, so a summary left
behind fails here."""

from __future__ import annotations

import datetime as dt
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from portal.models import (
    Concern,
    ConcernOutcome,
    IncidentChild,
    Referral,
    ReportMonth,
    School,
    db,
)
from portal.services import report_figures as rf
from portal.services.report_rows import month_bounds, recount
from portal.services.report_summary import month_number
from portal.services.triage import set_concern_days
from tests import factories
from tests.helpers.incidents import (
    add_child,
    decide,
    make_concern,
    ready_to_hand_over,
    save_facts,
)
from tests.helpers.signing_in import csrf_from, sign_in, submit
from tests.web import handover_forms


def stored(school_id: uuid.UUID) -> dict[int, rf.Figures]:
    return {month: rf.Figures.from_json(text) for month, text in db.session.execute(
        select(ReportMonth.month, ReportMonth.figures).where(ReportMonth.school_id == school_id))}


def agreed(school_id: uuid.UUID) -> rf.Figures:
    """The summary of the school, checked against a recount of every month from the records;
    all its months' figures together."""
    db.session.expire_all()
    school = db.session.get(School, school_id)
    assert school is not None
    start, end = month_bounds((2000, 1), (2100, 12))
    counted = {month_number(month): figures for (_, month), figures in recount(
        db.session(), {school_id.hex: school.concern_days}, start, end).items()}
    summary = stored(school_id)
    assert summary == counted
    total = rf.Figures()
    for figures in summary.values():
        total.add(figures)
    return total


def test_the_summary_agrees_with_a_recount_after_every_kind_of_change(
        app: Flask, client: FlaskClient) -> None:
    w, iid = ready_to_hand_over(app, client)  # a new incident, its facts and two children
    school_id = w["school"].id
    f = agreed(school_id)
    assert (f.concerns, f.incidents, f.children) == (1, 1, 2)
    assert f.outcomes == {"incident": 1}
    assert f.types == {"nudes_sharing": 1} and f.mandatory == {"police": 1, "csc_referral": 1}

    assert decide(client, iid, kind="internal_support", child=str(w["mia"].id),
                  reasons="Safety plan agreed with the child.").status_code == 302
    f = agreed(school_id)
    assert len(f.decision) == 1

    assert submit(client, f"/incidents/{iid}/handing-over/police-report", {
        "happened_on": ["17", "11", "2026"], "happened_time": "11:00", "method": "101",
        "force": "Derbyshire Constabulary", "reference": "14/88321/26"}).status_code == 302
    f = agreed(school_id)
    assert f.handed == {"police": 1} and len(f.handover) == 1

    sent = handover_forms.hand_over(client, f"/incidents/{iid}/hand-over/derbyshire")
    assert sent.status_code == 302
    f = agreed(school_id)
    assert f.handed == {"police": 1, "csc_referral": 1}

    adviser_client = app.test_client()
    adviser = factories.user("la_adviser", org=factories.authority("derbyshire"))
    db.session.commit()
    sign_in(adviser_client, adviser)
    referral = db.session.scalar(select(Referral).where(Referral.incident_id == iid))
    assert referral is not None
    url = f"/referrals/{referral.id}/answer"
    page = adviser_client.get(url)
    answered = adviser_client.post(url, data={
        "csrf_token": csrf_from(page), "outcome": "no_further_action",
        "reasons": "Parents engaged; school safety plan in place; reviewed with police."})
    assert answered.status_code == 302
    assert agreed(school_id) == f  # the referral's answer is read from the referral itself

    assert save_facts(client, iid, types_sexual=[], types_non_sexual=["physical"],
                      online="y").status_code == 302
    f = agreed(school_id)
    assert f.types == {"physical": 1} and f.settings == {"online": 1}

    # A child's part removed (no page does it; the summary follows any write through the
    # session), then the child recorded as not involved (a decision).
    assert add_child(client, iid, w["kai"], "harmed_others", household="Flat 2",
                     child_words_missing_reason="Refused to speak").status_code == 302
    f = agreed(school_id)
    assert f.children == 2
    part = db.session.scalar(select(IncidentChild).where(
        IncidentChild.incident_id == iid, IncidentChild.child_id == w["kai"].id))
    assert part is not None
    db.session.delete(part)
    db.session.commit()
    f = agreed(school_id)
    assert f.children == 1 and [uuid.UUID(c) for _, c, _ in f.links] == [w["mia"].id]
    assert submit(client, f"/incidents/{iid}/children/{w['kai'].id}/not-involved",
                  {"reasons": "He was at home that day: seen by his mother."}
                  ).status_code == 302
    assert agreed(school_id).children == 1

    # A concern triaged without an incident, and the school's timescale changed.
    later = make_concern(w["school"], w["staff"], [w["mia"]],
                         submitted_at=dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC))
    db.session.commit()
    f = agreed(school_id)
    assert f.concerns == 2 and f.outcomes["waiting"] == 1 and len(f.waiting_due) == 1
    concern = db.session.get(Concern, later.id)
    assert concern is not None
    concern.state, concern.picked_up_at = "recorded", dt.datetime(2026, 10, 9, 9, tzinfo=dt.UTC)
    db.session.add(ConcernOutcome(school_id=school_id, concern_id=concern.id,
                                  kind="no_further_action", decided_by_id=w["dsl"].id,
                                  decided_at=concern.picked_up_at))
    db.session.commit()
    f = agreed(school_id)
    assert f.outcomes == {"incident": 1, "no_further_action": 1} and not f.waiting_due
    october = stored(school_id)[202610]
    assert october.triage == [(4 * 24 * 60.0, False)]  # 4 days: later than 1 working day
    school = db.session.get(School, school_id)
    assert school is not None
    set_concern_days(w["dsl"], school, 5, dt.datetime.now(dt.UTC))
    db.session.commit()
    agreed(school_id)
    assert stored(school_id)[202610].triage == [(4 * 24 * 60.0, True)]  # within 5 days


def test_rebuilding_counts_rows_written_around_the_portal(app: Flask) -> None:
    school = factories.school("Oakfield Academy", "derbyshire")
    staff = factories.user("staff", org=school)
    child = factories.child(school, "Mia", "Harmed", dob=dt.date(2014, 1, 10))
    make_concern(school, staff, [child], submitted_at=dt.datetime(2026, 9, 7, 9, tzinfo=dt.UTC))
    db.session.commit()
    assert set(stored(school.id)) == {202609}
    db.session.execute(delete(ReportMonth))  # as a bulk load leaves it: nothing counted
    db.session.commit()
    assert stored(school.id) == {}
    result = app.test_cli_runner().invoke(args=["rebuild-report-summary"])
    assert result.exit_code == 0, result.output
    assert "recounted for 1 school." in result.output
    assert agreed(school.id).concerns == 1
