"""The incident page is built from one read model (`portal.services.incident_page`): one GET
runs the rules engine at most once, and costs a small fixed number of SQL statements however
many children, authorities, routes, decisions, records and referrals the incident has."""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

import portal.rules
import portal.rules.engine
from portal.models import Assessment, Incident, School, User, db
from portal.services import handover, referrals
from portal.services import incidents as svc
from portal.services import parents as parents_svc
from tests import factories
from tests.helpers.signing_in import sign_in
from tests.referral_data import incident as make_incident
from tests.referral_data import local

NOW = local("2026-11-18T10:00")
# Most statements one GET of the incident page may cost, whatever the incident holds.
MOST_STATEMENTS = 20


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every call of the rules engine, wherever a module imported `assess` from."""
    runs: list[int] = []
    real: Callable[..., Any] = portal.rules.engine.assess

    def counting(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(*args, **kwargs)

    for name, module in list(sys.modules.items()):
        if (name == "portal" or name.startswith("portal.")) and \
                getattr(module, "assess", None) is real:
            monkeypatch.setattr(module, "assess", counting)
    assert portal.rules.assess is counting
    return runs


def get_page(client: FlaskClient, iid: uuid.UUID, runs: list[int]) -> tuple[int, int, str]:
    """(statements, engine runs, html) of one GET of the incident page."""
    db.session.expire_all()  # the test shares the session: start each count from the same state
    runs.clear()
    with counting_statements() as statements:
        response = client.get(f"/incidents/{iid}")
    assert response.status_code == 200
    return len(statements), len(runs), response.get_data(as_text=True)


def small_incident(school: School, dsl: User) -> Incident:
    """Two children, one mandatory route (children's social care), nothing recorded yet."""
    harmed = factories.child(school, "Mia", "Harmed", dob=dt.date(2012, 1, 10))
    harmer = factories.child(school, "Kai", "Harmer", dob=dt.date(2012, 3, 1))
    inc = make_incident(school, dsl, [(harmed, "harmed"), (harmer, "harmed_others")],
                        features=(), concern_text="Seen on a phone.")
    assert inc.mandatory_routes == ["csc_referral"]
    return inc


def big_incident(school: School, dsl: User, dsl2: User) -> Incident:
    """Six children in four authorities (one not on the portal), three mandatory routes, an
    assessment under older rules, decisions with corrections and a review, parents records,
    route records, referrals sent with answers, a consultation call."""
    factories.authority("derby-city")
    factories.authority("darlington")
    kids = [
        (factories.child(school, "Ava", "One", dob=dt.date(2012, 2, 1)), "harmed"),
        (factories.child(school, "Ben", "Two", dob=dt.date(2011, 9, 1), la_code="derby-city"),
         "harmed_others"),
        (factories.child(school, "Cal", "Three", dob=dt.date(2012, 4, 1), la_code="darlington"),
         "harmed_others"),
        (factories.child(school, "Dee", "Four", dob=dt.date(2012, 6, 1), la_code="dorset"),
         "both"),
        (factories.child(school, "Eli", "Five", dob=dt.date(2012, 7, 1)), "witness"),
        (factories.child(school, "Fay", "Six", dob=dt.date(2012, 8, 1), la_code="derby-city"),
         "harmed"),
    ]
    inc = make_incident(school, dsl, kids, immediate_danger=True, concern_text="Seen online.",
                        reported_at=local("2026-11-17T09:30"))
    assert set(inc.mandatory_routes) == {"csc_referral", "police", "police_emergency"}
    # Assessed under the older rules: the page previews what the current rules would give.
    assessment = db.session.scalar(select(Assessment).where(Assessment.incident_id == inc.id))
    assert assessment is not None
    assessment.rules_version = "2026.11.1"
    stored = json.loads(assessment.result or "{}")
    assert "CROSS_BOUNDARY" in stored["considerations"]
    assessment.result = json.dumps(stored | {"considerations": []})
    # A child named in the concern but not (yet) on the incident.
    extra = factories.child(school, "Gus", "Seven")
    concern = svc.incident_concerns(inc)[0]
    db.session.add(portal.models.ConcernChild(concern_id=concern.id, child_id=extra.id))
    db.session.flush()
    at = NOW - dt.timedelta(hours=20)
    for n, (child, _) in enumerate(kids):
        decision = svc.record_decision(dsl if n % 2 else dsl2, inc, svc.DecisionInput(
            kind="internal_support", child_id=child.id,
            reasons="Safety plan agreed with the child and their parents."), at)
        parents_svc.record_parents(dsl, inc, parents_svc.ParentsInput(
            child_id=child.id, told=False, reason="csc_advised"), at)
        parents_svc.record_parents(dsl2, inc, parents_svc.ParentsInput(
            child_id=child.id, told=True, told_at_local=dt.datetime(2026, 11, 17, 14, 30),
            by_whom="Dana Lead"), at + dt.timedelta(hours=1))
        svc.add_correction(dsl2, inc, target_type="decision", target_id=decision.id,
                           field="reasons", correction="Plan agreed with the child only.",
                           reason="The parents were not there.", now=at + dt.timedelta(hours=2))
    svc.add_correction(dsl, inc, target_type="incident", target_id=inc.id, field="summary",
                       correction="Shared twice, not once.", reason="A second report came in.",
                       now=at)
    for route, data in (
        ("police", {"method": "101", "force": "Derbyshire Constabulary",
                    "reference": "14/88321/26"}),
        ("police_emergency", {"caller": "Dana Lead, DSL", "reference": "INC-0417"}),
        ("csc_referral", {"authority": "dorset", "method": "phone",
                          "recipient": "Dorset front door", "reference": "DOR-1"}),
    ):
        record = handover.record_route(
            dsl2 if route == "police" else dsl, inc, handover.RouteRecordInput(
                route=route,
                happened_at_local=dt.datetime(2026, 11, 17, 11), **data), at)
        svc.add_correction(dsl, inc, target_type="route_handover", target_id=record.id,
                           field="details", correction="At 11:05.", reason="Clock was slow.",
                           now=at + dt.timedelta(hours=3))
    for code in ("derbyshire", "derby-city"):
        referrals.hand_over(inc, code, dsl, now=at)
    referrals.record_call(inc, dsl, authority_code="derbyshire", called_at=at, spoke_to="Jo",
                          advice="Refer.", decision="Referred.", reasons="Advice followed.",
                          now=at)
    return inc


def test_one_engine_run_and_a_fixed_number_of_statements(
        app: Flask, client: FlaskClient, engine_runs: list[int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(referrals, "utcnow", lambda: NOW)
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    dsl2 = factories.user("dsl", org=school, display_name="Sam Second")
    small = small_incident(school, dsl)
    db.session.commit()
    sign_in(client, dsl)
    client.get(f"/incidents/{small.id}")  # warm: first-request work is not the point here

    small_statements, small_runs, small_html = get_page(client, small.id, engine_runs)
    assert "Incident I0001" in small_html

    big = big_incident(school, dsl, dsl2)
    db.session.commit()
    big_statements, big_runs, html = get_page(client, big.id, engine_runs)
    print(f"\nincident page: small {small_statements} statements, {small_runs} engine runs; "
          f"big {big_statements} statements, {big_runs} engine runs")
    # The page shows what the incident holds (the other tests check each part in detail).
    assert 'data-testid="rules-preview"' in html
    assert "Gus Seven" in html  # named in a concern, not on the incident
    assert html.count('data-testid="route-record"') == 3
    assert 'data-testid="line-dorset"' in html and 'data-testid="line-derby-city"' in html
    assert small_runs <= 1 and big_runs <= 1
    assert big_statements == small_statements
    assert big_statements <= MOST_STATEMENTS
