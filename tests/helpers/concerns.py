"""A concern, for web tests: the school world concern tests start from (`make_world`), the fields
of a good concern, and posting the concern form as a browser does."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.models import Child, School, User, db
from tests import factories
from tests.helpers.signing_in import csrf_from

WHAT = "I saw Zorvek push Amira against the lockers and grab her bag during break."
WORDS = "He said I'm not allowed to tell anyone or he'll post the photo."


@dataclass
class World:
    school: School
    other_school: School
    staff: User
    staff2: User
    dsl: User
    dsl2: User
    retired_dsl: User
    other_dsl: User
    other_staff: User
    child: Child
    other_child: Child


def make_world() -> World:
    school = factories.school("Oakfield Academy", "derbyshire")
    other = factories.school("Northgate College", "darlington")
    w = World(
        school=school,
        other_school=other,
        staff=factories.user("staff", org=school, email="teacher@oakfield.example.test",
                             display_name="Pat Teacher"),
        staff2=factories.user("staff", org=school, email="second@oakfield.example.test"),
        dsl=factories.user("dsl", org=school, email="dsl1@oakfield.example.test"),
        dsl2=factories.user("dsl", org=school, email="dsl2@oakfield.example.test"),
        retired_dsl=factories.user("dsl", org=school, email="gone@oakfield.example.test",
                                   active=False),
        other_dsl=factories.user("dsl", org=other, email="dsl@northgate.example.test"),
        other_staff=factories.user("staff", org=other, email="staff@northgate.example.test"),
        child=factories.child(school, "Amira", "Testcase", dt.date(2012, 5, 1)),
        # Same name, other school: must never be found from Oakfield.
        other_child=factories.child(other, "Amira", "Testcase", dt.date(2011, 2, 3),
                                    la_code="darlington"),
    )
    db.session.commit()
    return w


@pytest.fixture
def world(app: Flask) -> World:
    """`make_world()` as a fixture: import it (`from tests.helpers.concerns import world`)."""
    return make_world()


def today() -> dt.date:
    from portal.clock import today as london_today

    return london_today()


def good_fields(**overrides: Any) -> dict[str, Any]:
    d = today()
    fields: dict[str, Any] = {
        "what_happened": WHAT,
        "child_words": WORDS,
        "child_words_missing_reason": "",
        "occurred_on": [str(d.day), str(d.month), str(d.year)],
        "when_text": "about 10:40, morning break",
        "where": "the corridor by the science labs",
        "online": "no",
        "urgent": "no",
    }
    fields.update(overrides)
    return fields


def post_form(client: FlaskClient, data: dict[str, Any], button: str = "submit",
              token: str | None = None, url: str = "/concerns/new") -> TestResponse:
    if token is None:
        token = csrf_from(client.get("/concerns/new"))
    payload = {"csrf_token": token, **data}
    if button:
        payload[button] = "y"
    response = client.post(url, data=payload)
    if button in ("find", "add_child") and response.status_code == 303:
        # POST-redirect-GET (issue 12): the browser is sent to the form, which shows the answer.
        assert response.headers["Location"].split("#")[0] == "/concerns/new"
        response = client.get(response.headers["Location"])
    return response


def page(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def textarea(response: TestResponse, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>',
                      response.get_data(as_text=True), re.S)
    assert match, f"no textarea {name}"
    return html.unescape(match.group(1))


def input_value(response: TestResponse, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"',
                      response.get_data(as_text=True))
    assert match, f"no input {name} with a value"
    return html.unescape(match.group(1))


def raise_one(client: FlaskClient, w: World, **overrides: Any) -> uuid.UUID:
    response = post_form(client, good_fields(child_ids=[str(w.child.id)], **overrides))
    assert response.status_code == 302, page(response)
    return uuid.UUID(response.headers["Location"].rsplit("/", 1)[1])
