"""Retention reviews, found by a walk of the pages: a file received from another school comes up
for review; a decision to keep a file shows its reasons and next review afterwards (child's
page, retention page); the retention setting's error is in GOV.UK words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient

from portal.models import FileTransfer, db
from tests import factories
from tests.web.conftest import sign_in
from tests.web.test_retention import BORN_LONG_AGO, _post, _text, w  # noqa: F401


def test_a_file_received_by_transfer_comes_up_for_review(client: FlaskClient,
                                                          w: dict[str, Any]) -> None:  # noqa: F811
    school = w["school"]
    brook = factories.school("Brookside Primary", "derbyshire")
    brook_dsl = factories.user("dsl", org=brook)
    there = factories.child(brook, "Zephyrine", "Quillfeather", dob=BORN_LONG_AGO)
    here = factories.child(school, "Zephyrine", "Quillfeather", dob=BORN_LONG_AGO)
    db.session.add(FileTransfer(child_id=there.id, from_school_id=brook.id,
                                to_school_id=school.id, moved_on=dt.date(2017, 9, 1),
                                sent_by_id=brook_dsl.id, state="accepted",
                                accepted_by_id=w["dsl"].id, received_child_id=here.id,
                                accepted_at=dt.datetime(2017, 9, 4, 10, tzinfo=dt.UTC)))
    db.session.commit()
    sign_in(client, w["dsl"])
    listing = _text(client.get("/retention"))
    assert "Zephyrine Quillfeather" in listing.split('data-testid="due-list"')[1]


def test_keeping_a_file_shows_its_reasons_and_next_review(client: FlaskClient,
                                                          w: dict[str, Any]) -> None:  # noqa: F811
    ada = w["ada"]
    sign_in(client, w["dsl"])
    next_year = dt.date.today().year + 1
    kept = _post(client, f"/retention/{ada.id}/keep",
                 {"reasons": "Her brother's case is still open with the police",
                  "next_review": ["1", "9", str(next_year)]})
    assert kept.status_code == 302
    listing = _text(client.get("/retention"))
    section = listing.split('data-testid="kept-list"')[1]
    assert f"File {ada.reference}" in section
    assert "Her brother's case is still open with the police" in section
    assert f"Next review 1 September {next_year}" in section
    page = _text(client.get(f"/children/{ada.id}"))
    assert "Her brother's case is still open with the police" in page
    assert f"Next review 1 September {next_year}" in page


def test_the_retention_setting_says_what_to_enter(client: FlaskClient,
                                                  w: dict[str, Any]) -> None:  # noqa: F811
    sign_in(client, w["dsl"])
    refused = _post(client, "/retention/settings", {"nfa_months": "6 ans"})
    text = _text(refused)
    assert "Enter the number of months as a number, like 72" in text
    assert "Not a valid integer value" not in text
