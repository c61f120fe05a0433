"""The roll where an incident is recorded: pupils on the roll attend the school (a fact on the
child's page, and the rules input follows), and R9 offers each child's parents and carers from
the roll to choose who was told."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.incidents import views
from portal.models import Child, IncidentChild, ParentContact, db
from tests import factories
from tests.helpers.incidents import child_data, make_concern, save_facts, start, submit_v, world
from tests.helpers.signing_in import csrf_from, override_settings, sign_in, submit

ROOT = Path(__file__).resolve().parents[2]
NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "_now", lambda: NOON)


def text(page: Any) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                                    page.get_data(as_text=True))))


def import_example(app: Flask, client: FlaskClient) -> None:
    override_settings(app, roll_import_inline=True)
    page = client.get("/roll")
    sent = client.post("/roll", data={
        "csrf_token": csrf_from(page),
        "file": ((ROOT / "docs/examples/roll-example.csv").open("rb"), "roll.csv")},
        content_type="multipart/form-data")
    assert sent.status_code == 302
    preview = client.get(sent.headers["Location"])
    assert client.post(sent.headers["Location"] + "/confirm",
                       data={"csrf_token": csrf_from(preview)}).status_code == 302


def pupil(upn: str) -> Child:
    return next(c for c in db.session.scalars(select(Child)) if c.upn == upn)


def test_a_pupil_on_the_roll_attends_as_a_fact_and_cannot_be_unticked(
        app: Flask, client: FlaskClient) -> None:
    w = world(app)
    hand = factories.child(w["school"], "Tobias", "Quennell", dob=dt.date(2013, 4, 4),
                           on_roll=False)
    db.session.commit()
    assert sign_in(client, w["dsl"]).status_code == 302
    iid = start(client, w["concern"])
    assert save_facts(client, iid).status_code == 302

    url = f"/incidents/{iid}/children/{w['mia'].id}"
    page = client.get(url)
    body = page.get_data(as_text=True)
    assert 'data-testid="attends-fact"' in body and 'name="same_school"' not in body
    assert "is on the school roll" in text(page)
    # Sent without the box (as the page has none, or a forged post): still attends.
    data = child_data("harmed", w["mia"].dob)
    del data["same_school"]
    assert submit_v(client, url, data).status_code == 302
    row = db.session.scalar(select(IncidentChild).where(IncidentChild.child_id == w["mia"].id))
    assert row is not None and row.same_school is True

    # A child added by hand: not on the roll, the box ticked by default and the DSL decides.
    hand_page = client.get(f"/incidents/{iid}/children/{hand.id}")
    hand_body = hand_page.get_data(as_text=True)
    assert "Not on the roll (added by hand)." in text(hand_page)
    assert re.search(r'name="same_school"[^>]*checked', hand_body)
    data = child_data("harmed_others", hand.dob)
    del data["same_school"]  # unticked by the DSL
    assert submit_v(client, f"/incidents/{iid}/children/{hand.id}", data).status_code == 302
    db.session.expire_all()
    hand_row = db.session.scalar(select(IncidentChild).where(IncidentChild.child_id == hand.id))
    assert hand_row is not None and hand_row.same_school is False


def test_a_child_added_on_the_incident_is_not_on_the_roll(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    assert sign_in(client, w["dsl"]).status_code == 302
    iid = start(client, w["concern"])
    assert save_facts(client, iid).status_code == 302
    assert submit_v(client, f"/incidents/{iid}/children/new", {
        **child_data("witness", dt.date(2013, 1, 1)),
        "given_name": "Ines", "family_name": "Pellow"}).status_code == 302
    added = next(c for c in db.session.scalars(select(Child)) if c.given_name == "Ines")
    assert added.roll_status == "not_on_roll"
    row = db.session.scalar(select(IncidentChild).where(IncidentChild.child_id == added.id))
    assert row is not None and row.same_school is True


def test_parents_from_the_roll_are_offered_on_the_r9_page(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    assert sign_in(client, w["dsl"]).status_code == 302
    import_example(app, client)
    zoe = pupil("A00000000001B")
    concern = make_concern(w["school"], w["staff"], [zoe])
    db.session.commit()
    iid = start(client, concern)
    assert save_facts(client, iid).status_code == 302
    assert submit_v(client, f"/incidents/{iid}/children/{zoe.id}",
                    child_data("harmed", zoe.dob)).status_code == 302

    url = f"/incidents/{iid}/children/{zoe.id}/parents"
    page = client.get(url)
    shown = text(page)
    assert "Máire Ó Súilleabháin (Mother)" in shown
    assert "Ciarán Ó Súilleabháin (Father)" in shown
    assert "Parental responsibility: yes." in shown
    assert 'href="tel:07700900001"' in page.get_data(as_text=True)
    assert shown.index("Máire") < shown.index("Ciarán")  # the school's contact order
    carers = re.findall(r'name="told_whom" type="checkbox" value="([0-9a-f-]{36})"',
                        page.get_data(as_text=True))
    assert len(carers) == 2
    sent = submit(client, url, {"told": "yes", "told_date": ["30", "11", "2026"],
                                "told_time": "11:10", "by_whom": "Ms Okafor, deputy DSL",
                                "told_whom": [carers[0]]})
    assert sent.status_code == 302
    record = db.session.scalar(select(ParentContact))
    assert record is not None and record.told_whom == "Máire Ó Súilleabháin (Mother)"
    assert "Told: Máire Ó Súilleabháin (Mother)" in text(client.get(f"/incidents/{iid}"))

    # A child with no carers on the roll: the page says so.
    kai_url = f"/incidents/{iid}/children/{w['kai'].id}"
    assert submit_v(client, kai_url, child_data("harmed_others", w["kai"].dob)
                    ).status_code == 302
    assert 'data-testid="no-roll-carers"' in client.get(kai_url + "/parents").get_data(
        as_text=True)
