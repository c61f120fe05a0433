"""A child whose file was destroyed at the end of its retention (issue 16 part 4): concerns and
incidents about that child alone are gone everywhere (404, never offered in a list, never a
500), and in records shared with other children the child shows as "A child whose file was
destroyed", with no link."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.models import db
from tests import factories
from tests.helpers.incidents import make_concern
from tests.referral_data import incident as make_incident
from tests.web.conftest import csrf_from, sign_in

BORN_LONG_AGO = dt.date(2000, 3, 1)


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    school = factories.school("Oakfield Academy", "derbyshire")
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    ada = factories.child(school, "Quorabelle", "Vantwistle", dob=BORN_LONG_AGO)
    ben = factories.child(school, "Benedikt", "Oyelaran", dob=dt.date(2014, 6, 2))
    alone_concern = make_concern(school, staff, [ada], state="recorded")
    shared_concern = make_concern(school, staff, [ada, ben], state="recorded")
    alone = make_incident(school, dsl, [(ada, "harmed")], summary="Ada alone")
    alone.state = "closed"
    shared = make_incident(school, dsl, [(ben, "harmed"), (ada, "harmed_others")],
                           summary="Shared")
    shared.state = "closed"
    ben_open = make_incident(school, dsl, [(ben, "harmed")], summary="Ben's open incident")
    db.session.commit()
    return {"school": school, "staff": staff, "dsl": dsl, "ada": ada, "ben": ben,
            "alone_concern": alone_concern, "shared_concern": shared_concern,
            "alone": alone, "shared": shared, "ben_open": ben_open}


def _destroy(client: FlaskClient, w: dict[str, Any]) -> None:
    sign_in(client, w["dsl"])
    url = f"/retention/{w['ada'].id}/destroy"
    confirm = client.get(url)
    assert confirm.status_code == 200
    done = client.post(url, data={"csrf_token": csrf_from(confirm)})
    assert done.status_code == 302, _text(done)
    db.session.expire_all()


def test_concerns_and_incidents_about_a_destroyed_child_alone_are_gone(
        client: FlaskClient, w: dict[str, Any]) -> None:
    concern, incident = w["alone_concern"], w["alone"]
    _destroy(client, w)
    for url in (f"/concerns/{concern.id}/triage", f"/concerns/{concern.id}/correction",
                f"/incidents/{incident.id}", f"/incidents/new?concern={concern.id}"):
        assert client.get(url).status_code == 404, url
    # Adding it to an open incident: not found, never a 500.
    triage = client.get(f"/concerns/{w['shared_concern'].id}/triage")
    added = client.post(f"/concerns/{concern.id}/add-to-incident",
                        data={"csrf_token": csrf_from(triage),
                              "incident": str(w["ben_open"].id)})
    assert added.status_code == 404
    # Never offered in a list.
    start = _text(client.get("/incidents/new"))
    assert str(concern.id) not in start
    assert str(incident.id) not in _text(client.get("/incidents"))


def test_a_destroyed_child_in_shared_records_reads_as_such_with_no_link(
        client: FlaskClient, w: dict[str, Any]) -> None:
    ada = w["ada"]
    _destroy(client, w)
    page = client.get(f"/concerns/{w['shared_concern'].id}/triage")
    assert page.status_code == 200
    text = _text(page)
    assert "A child whose file was destroyed" in text
    assert f"/children/{ada.id}" not in text
    assert f"? ({ada.reference})" not in text and f"> ({ada.reference})" not in text
    ben_file = _text(client.get(f"/children/{w['ben'].id}"))
    assert "A child whose file was destroyed" in ben_file
    assert f"? ({ada.reference})" not in ben_file
    shared = _text(client.get(f"/incidents/{w['shared'].id}"))
    assert f" ({ada.reference})" not in shared.replace(f"({w['ben'].reference})", "")
    assert f"/children/{ada.id}" not in shared
