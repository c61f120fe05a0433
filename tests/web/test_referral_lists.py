"""The lists that must stay short and quick after years of use: the advisers' inbox and the
DSL dashboard load every referral that may still need something and only count the settled
ones, and their number of database queries does not grow with what is listed."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from portal import access
from portal.models import Referral, ReferralResponse, db
from portal.services import referrals as service
from tests import factories
from tests.helpers.signing_in import sign_in
from tests.referral_data import incident

SENT = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
# Years later: every timescale that could still run has fallen due.
LATER = dt.datetime(2029, 3, 2, 10, tzinfo=dt.UTC)


@pytest.fixture
def school_world(app: Flask) -> dict:
    school = factories.school("Oakfield Academy", "derbyshire")  # Derbyshire sets CIN reviews
    dsl = factories.user("dsl", org=school)
    adviser = factories.user("la_adviser", org=school.local_authority)
    harmed = factories.child(school, given="Petra", family="Example")
    inc = incident(school, dsl, [(harmed, "harmed")])
    db.session.commit()
    return {"school": school, "dsl": dsl, "adviser": adviser, "incident": inc}


def add_referral(w: dict, *, state: str = "answered", outcome: str | None = "no_further_action",
                 meeting: bool = False, milestones: tuple[str, ...] = (),
                 sent: dt.datetime = SENT) -> Referral:
    school = w["school"]
    referral = Referral(
        incident_id=w["incident"].id, school_id=school.id,
        local_authority_id=school.local_authority_id, sent_by_id=w["dsl"].id, state=state,
        outcome=outcome, sent_at=sent,
        acknowledged_at=sent + dt.timedelta(hours=1) if state != "sent" else None,
        answered_at=sent + dt.timedelta(hours=2) if state == "answered" else None,
        strategy_meeting_at=sent + dt.timedelta(days=1) if meeting else None)
    db.session.add(referral)
    db.session.flush()
    kinds = ([outcome] if state == "answered" and outcome else []) + list(milestones)
    for n, kind in enumerate(kinds):
        db.session.add(ReferralResponse(
            referral_id=referral.id, local_authority_id=referral.local_authority_id,
            outcome=kind, recorded_by_id=w["adviser"].id,
            recorded_at=sent + dt.timedelta(days=2, hours=n)))
    return referral


def test_a_settled_referral_can_never_need_anything(school_world: dict) -> None:
    """Whatever the mix of state, outcome, meeting and milestones: a referral the lists only
    count (settled) is answered and has nothing left to do, even years later."""
    made = []
    states = [("sent", None), ("acknowledged", None)] + [
        ("answered", o) for o in service.OUTCOMES]
    milestone_sets = [(), ("minutes_sent",), ("icpc_not_needed",),
                      ("minutes_sent", "icpc_held"), ("minutes_sent", "icpc_not_needed"),
                      ("csc_assessment",), ("minutes_sent", "icpc_held", "csc_assessment")]
    for (state, outcome), meeting, milestones in itertools.product(
            states, (False, True), milestone_sets):
        made.append(add_referral(school_world, state=state, outcome=outcome, meeting=meeting,
                                 milestones=milestones))
    db.session.commit()
    query = access.referrals_visible_to(school_world["adviser"])
    settled = set(db.session.scalars(
        query.where(service._settled()).with_only_columns(Referral.id)))
    assert settled, "some combinations are settled"
    views = {v.referral.id: v for v in service.referral_list(query, LATER)}
    assert len(views) == len(made)
    for referral_id in settled:
        view = views[referral_id]
        assert view.status == "answered"
        assert not view.overdue and view.next_due is None
        assert all(item.done for item in view.items), view.items
    # And the ones that keep running are never settled: a children's social care assessment
    # (its child in need reviews keep falling due), a meeting without its minutes.
    for referral_id, view in views.items():
        if view.overdue or view.status != "answered":
            assert referral_id not in settled


def test_inbox_lists_work_to_do_and_counts_settled_referrals(
        client: FlaskClient, school_world: dict) -> None:
    for n in range(25):
        add_referral(school_world, sent=SENT + dt.timedelta(days=n))
    assessed = add_referral(school_world, outcome="csc_assessment",
                            sent=SENT - dt.timedelta(days=400))  # the oldest of all
    new = add_referral(school_world, state="sent", outcome=None)
    db.session.commit()
    sign_in(client, school_world["adviser"])
    page = client.get("/referrals").get_data(as_text=True)
    # The child in need review is long overdue: listed first, however old the referral.
    overdue = page.split('data-testid="group-overdue"')[1].split("</ul>")[0]
    assert f'data-testid="row-{assessed.id}"' in overdue
    assert f'data-testid="row-{new.id}"' in page
    answered = page.split('data-testid="group-answered"')[1].split("</ul>")[0]
    assert answered.count('data-testid="row-') == 20
    assert "Answered (25)" in page and "Show all 25 answered referrals" in page
    everything = client.get("/referrals?answered=all").get_data(as_text=True)
    answered = everything.split('data-testid="group-answered"')[1].split("</ul>")[0]
    assert answered.count('data-testid="row-') == 25
    assert "Show all" not in everything


def test_dashboard_lists_referrals_still_running_and_counts_the_rest(
        client: FlaskClient, school_world: dict) -> None:
    running = add_referral(school_world, state="acknowledged", outcome=None)
    settled = [add_referral(school_world) for _ in range(3)]
    db.session.commit()
    sign_in(client, school_world["dsl"])
    page = client.get("/dashboard").get_data(as_text=True)
    assert f"/referrals/{running.id}" in page
    assert all(f"/referrals/{r.id}" not in page for r in settled)
    assert "3 answered referrals with nothing outstanding are not listed here" in page


@contextmanager
def counting_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def queries_for(client: FlaskClient, url: str) -> int:
    db.session.expire_all()  # the test shares the session: start each count from the same state
    with counting_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_dashboard_and_inbox_queries_do_not_grow_with_the_lists(
        client: FlaskClient, other_client: FlaskClient, school_world: dict) -> None:
    """No query per incident or per referral: a school with many open incidents, each with a
    mandatory route and a referral, costs the dashboard the same number of queries as one
    with two."""
    w = school_world
    school, dsl = w["school"], w["dsl"]

    def grow(n: int) -> None:
        for _ in range(n):
            child = factories.child(school)
            inc = incident(school, dsl, [(child, "harmed")])
            db.session.flush()
            add_referral(w | {"incident": inc}, state="acknowledged", outcome=None)
        db.session.commit()

    grow(2)
    sign_in(client, dsl)
    sign_in(other_client, w["adviser"])
    client.get("/dashboard")  # warm: first-request work is not the point here
    other_client.get("/referrals")
    dashboard_small = queries_for(client, "/dashboard")
    inbox_small = queries_for(other_client, "/referrals")
    grow(6)
    assert db.session.scalar(select(db.func.count()).select_from(Referral)) == 8
    assert queries_for(client, "/dashboard") == dashboard_small
    assert queries_for(other_client, "/referrals") == inbox_small


def test_listing_answered_referrals_costs_the_inbox_no_more_queries(
        other_client: FlaskClient, school_world: dict) -> None:
    """Issue 15: a settled answered referral has nothing open (above), so the inbox lists the
    most recent ones without reading their responses: an inbox whose Answered group is full
    costs what one without it does, and shows the same for each referral."""
    w = school_world
    running = add_referral(w, state="acknowledged", outcome=None)
    db.session.commit()
    sign_in(other_client, w["adviser"])
    other_client.get("/referrals")
    before = queries_for(other_client, "/referrals")
    answered = [add_referral(w, outcome="early_help", meeting=True,
                             milestones=("minutes_sent", "icpc_not_needed"),
                             sent=SENT + dt.timedelta(days=n)) for n in range(3)]
    db.session.commit()
    assert queries_for(other_client, "/referrals") == before
    page = other_client.get("/referrals").get_data(as_text=True)
    group = page.split('data-testid="group-answered"')[1].split("</ul>")[0]
    assert [line.split('data-testid="row-')[1].split('"')[0]
            for line in group.split("<li")[1:]] == [str(r.id) for r in reversed(answered)]
    assert "Status: Answered (Early help)" in group and "Next due" not in group
    assert "Sent Wednesday 4 March 2026 at 10:00am." in group
    assert f'data-testid="row-{running.id}"' in page


def test_every_answered_referral_can_be_paged_through(
        client: FlaskClient, school_world: dict) -> None:
    made = [add_referral(school_world, sent=SENT + dt.timedelta(days=n)) for n in range(120)]
    db.session.commit()
    newest_first = [r.id for r in reversed(made)]
    sign_in(client, school_world["adviser"])
    seen = []
    for number in (1, 2, 3):
        page = client.get(f"/referrals?answered=all&page={number}").get_data(as_text=True)
        assert "Answered (120)" in page and f"Page {number} of 3, newest first." in page
        answered = page.split('data-testid="group-answered"')[1].split("</ul>")[0]
        seen += [line.split('data-testid="row-')[1].split('"')[0]
                 for line in answered.split("<li")[1:]]
        assert ('rel="next"' in page) == (number < 3)
        assert ('rel="prev"' in page) == (number > 1)
    assert seen == [str(i) for i in newest_first]  # each once, newest first
    # Nonsense or out-of-range page numbers show the nearest page, never an error.
    for asked, shown in (("0", 1), ("99", 3), ("x", 1), ("²", 1), ("1" * 40, 1)):
        page = client.get(f"/referrals?answered=all&page={asked}").get_data(as_text=True)
        assert f"Page {shown} of 3" in page


def test_the_answered_heading_says_the_page(client: FlaskClient, school_world: dict,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Walk 6: after paging, the heading said "Answered (5)" without the page; it says it as
    the chronology does ("page 2 of 3"). Without paging it says the count alone."""
    monkeypatch.setattr(service, "ANSWERED_PER_PAGE", 2)
    for n in range(5):
        add_referral(school_world, sent=SENT + dt.timedelta(days=n))
    db.session.commit()
    sign_in(client, school_world["adviser"])
    page = client.get("/referrals?answered=all&page=2").get_data(as_text=True)
    heading = page.split('id="group-answered">')[1].split("</h2>")[0]
    assert " ".join(heading.split()) == "Answered (5), page 2 of 3"
    page = client.get("/referrals").get_data(as_text=True)
    heading = page.split('id="group-answered">')[1].split("</h2>")[0]
    assert " ".join(heading.split()) == "Answered (5)"
