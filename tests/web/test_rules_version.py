"""Rules version 2 in the portal: stored assessments keep their version; an open incident assessed
under version 1 says what version 2 changes, is assessed again when saved (or on request), and is
never closed on a version 1 answer."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import Assessment, Incident, db
from portal.rules import RULES_VERSION
from tests.helpers.incidents import add_child, save_facts, start, world
from tests.helpers.signing_in import csrf_from, sign_in

V1 = "2026.11.1"


def as_if_assessed_under_version_1(iid: uuid.UUID) -> None:
    """What a version 1 portal stored for a child sexually harmed by no one identified: no
    trigger, consultation only (the hole version 2 closed)."""
    incident = db.session.get(Incident, iid)
    latest = db.session.scalars(select(Assessment).where(Assessment.incident_id == iid)
                                .order_by(Assessment.incident_version.desc())).first()
    result = json.loads(latest.result)
    result.update(rules_version=V1, triggers=[], routes=["consultation"], mandatory_routes=[],
                  reasons=[], considerations=[], consideration_reasons=[])
    latest.result = json.dumps(result)
    latest.rules_version = V1
    latest.triggers, latest.routes, latest.mandatory_routes = [], ["consultation"], []
    latest.considerations = []
    incident.mandatory_routes = []
    db.session.commit()


def harmed_only(client: FlaskClient, w: dict[str, Any]) -> uuid.UUID:
    iid = start(client, w["concern"])
    assert save_facts(client, iid, types_sexual=["sexual_harassment"], features=[]
                      ).status_code == 302
    assert add_child(client, iid, w["mia"], "harmed",
                     child_words="He grabbed me.").status_code == 302
    return iid


def test_version_1_assessment_shows_what_version_2_changes(app: Flask,
                                                           client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = harmed_only(client, w)
    as_if_assessed_under_version_1(iid)
    html = client.get(f"/incidents/{iid}").get_data(as_text=True)
    assert 'data-testid="rules-preview"' in html
    assert "assessed with version 1" in html
    assert "You must now: <strong>Referral to children&#39;s social care</strong>" in html
    assert "A child was sexually harmed" in html
    assert "CHILD_SEXUALLY_HARMED" not in html and V1 not in html


def test_assess_again_stores_version_2_and_says_why(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = harmed_only(client, w)
    as_if_assessed_under_version_1(iid)
    page = client.get(f"/incidents/{iid}")
    form = page.get_data(as_text=True).split('data-testid="rules-preview"')[1]
    version = form.split('name="version"')[1].split('value="')[1].split('"')[0]
    response = client.post(f"/incidents/{iid}/reassess",
                           data={"csrf_token": csrf_from(page), "version": version})
    assert response.status_code == 302
    db.session.expire_all()
    incident = db.session.get(Incident, iid)
    assert incident.mandatory_routes == ["csc_referral"]
    versions = [a.rules_version for a in db.session.scalars(
        select(Assessment).where(Assessment.incident_id == iid)
        .order_by(Assessment.incident_version))]
    assert versions[-2:] == [V1, RULES_VERSION]  # the old one is kept, not overwritten
    html = client.get(f"/incidents/{iid}").get_data(as_text=True)
    assert 'data-testid="rules-preview"' not in html
    change = html.split('data-testid="rules-change"')[1].split("</div>")[0]
    assert "The rules changed from version 1 to version 2" in change
    assert "You must now" in change


def test_saving_facts_reassesses_under_version_2(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = harmed_only(client, w)
    as_if_assessed_under_version_1(iid)
    assert save_facts(client, iid, types_sexual=["sexual_harassment"], features=[]
                      ).status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, iid).mandatory_routes == ["csc_referral"]


def test_closing_uses_the_current_rules(app: Flask, client: FlaskClient) -> None:
    """A version 1 answer with no mandatory route cannot let the incident close."""
    w = world(app)
    sign_in(client, w["dsl"])
    iid = harmed_only(client, w)
    as_if_assessed_under_version_1(iid)
    page = client.get(f"/incidents/{iid}/close")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    version = html.split('name="version"')[1].split('value="')[1].split('"')[0]
    response = client.post(f"/incidents/{iid}/close", data={
        "csrf_token": csrf_from(page), "version": version,
        "reasons": "Support plan in place and reviewed with the family."})
    assert response.status_code == 200  # refused, the form again
    refused = response.get_data(as_text=True)
    assert "children&#39;s social care" in refused.split("govuk-error-summary__list")[1]
    db.session.expire_all()
    assert db.session.get(Incident, iid).state == "open"
