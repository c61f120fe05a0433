"""Every problem a DSL form has shows at once (walk 10): a date the form cannot read does not
hide what the service would refuse next (reasons missing, a route not chosen). Through the real
forms, CSRF on: one submit gives the GOV.UK error summary and each message beside its question,
and everything typed is still there."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from portal.models import ConcernOutcome, Decision, ParentContact, RouteHandover, db
from tests.helpers.incidents import decide, ready_to_hand_over, text, world
from tests.helpers.signing_in import sign_in, submit

BAD_DATE = ["31", "2", "2027"]


def summary_of(page: str) -> str:
    """The error summary's list (GOV.UK: every problem, each linking to its question)."""
    found = re.search(r'class="[^"]*govuk-error-summary__list[^"]*">(.*?)</ul>', page, re.S)
    assert found, "no error summary"
    return found.group(1)


def test_decision_shows_a_bad_date_and_missing_reasons_at_once(
    app: Flask, client: FlaskClient
) -> None:
    w, iid = ready_to_hand_over(app, client)
    response = decide(client, iid, kind="no_further_action", child=str(w["kai"].id),
                      what="Talked it through", reasons="", review_on=BAD_DATE)
    assert response.status_code == 200
    page = text(response)
    listed = summary_of(page)
    assert "The review date must be a real date" in listed
    assert "Enter the reasons for this decision" in listed
    assert 'href="#reasons"' in listed
    # Beside the question too, and what was typed kept.
    assert re.search(r'id="reasons-error"[^>]*>.*?Enter the reasons for this decision', page,
                     re.S)
    assert 'value="Talked it through"' in page and 'value="31"' in page
    assert db.session.query(Decision).count() == 0


def test_decision_without_a_kind_or_reasons_says_both(app: Flask, client: FlaskClient) -> None:
    _, iid = ready_to_hand_over(app, client)
    listed = summary_of(text(decide(client, iid, reasons="", review_on=BAD_DATE)))
    assert "Select what you decided" in listed
    assert "Enter the reasons for this decision" in listed
    assert "The review date must be a real date" in listed
    assert listed.count("Select what you decided") == 1  # the form's message, not twice


def test_review_shows_a_bad_date_and_missing_outcome_and_reasons_at_once(
    app: Flask, client: FlaskClient
) -> None:
    w, iid = ready_to_hand_over(app, client)
    assert decide(client, iid, kind="no_further_action", child=str(w["kai"].id),
                  reasons="Spoke with Kai and his parents; a restorative meeting held."
                  ).status_code == 302
    decision = db.session.query(Decision).one()
    listed = summary_of(text(submit(
        client, f"/incidents/{iid}/decisions/{decision.id}/review",
        {"next_review_on": BAD_DATE, "reasons": ""})))
    assert "The next review date must be a real date" in listed
    assert "Select what the review found" in listed
    assert "Enter the reasons for this decision" in listed


def test_parents_show_a_bad_date_and_who_told_them_at_once(
    app: Flask, client: FlaskClient
) -> None:
    w, iid = ready_to_hand_over(app, client)
    listed = summary_of(text(submit(
        client, f"/incidents/{iid}/children/{w['mia'].id}/parents",
        {"told": "yes", "told_date": BAD_DATE, "told_time": "15:10", "by_whom": ""})))
    assert "The date they were told must be a real date" in listed
    assert "Enter who told them" in listed
    # A wrong time is the form's to say: the service does not add "Enter the date and time".
    listed = summary_of(text(submit(
        client, f"/incidents/{iid}/children/{w['mia'].id}/parents",
        {"told": "yes", "told_date": ["29", "11", "2026"], "told_time": "25 past",
         "by_whom": ""})))
    assert "Enter the time like 15:10" in listed and "Enter who told them" in listed
    assert "Enter the date and time they were told" not in listed
    assert db.session.query(ParentContact).count() == 0


def test_police_report_shows_a_bad_date_and_its_missing_details_at_once(
    app: Flask, client: FlaskClient
) -> None:
    _, iid = ready_to_hand_over(app, client)
    listed = summary_of(text(submit(
        client, f"/incidents/{iid}/handing-over/police-report",
        {"happened_on": BAD_DATE, "happened_time": "11:00", "force": ""})))
    assert "The date the police were told must be a real date" in listed
    assert "Select how the police were told" in listed
    assert "Enter which police force was told" in listed
    assert "Enter the date and time the police were told" not in listed
    assert db.session.query(RouteHandover).count() == 0


def test_triage_shows_a_bad_date_and_missing_reasons_at_once(
    app: Flask, client: FlaskClient
) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    listed = summary_of(text(submit(
        client, f"/concerns/{w['concern'].id}/triage",
        {"kind": "other_concern", "category": "neglect", "route": "front_door",
         "route_on": BAD_DATE, "route_time": "10:15", "reasons": ""})))
    assert "The date it was passed on must be a real date" in listed
    assert "Enter the reasons for this decision" in listed
    assert "Enter the date and time it was passed on" not in listed
    assert db.session.query(ConcernOutcome).count() == 0
