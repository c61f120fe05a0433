"""What the child's file reads with other rows' statements (issue 15) still shows as before: a
decision about the child on an incident they are not part of names that incident; an incident's
files are each listed once, oldest first, however many children the incident has; a concern
with several outcomes and children shows each once. Real sign-in, through the test client."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from portal.models import ConcernOutcome, db
from portal.services import attachments as attachment_service
from tests.helpers.signing_in import sign_in
from tests.realfiles import small_pdf
from tests.web.test_child_file import T0, _concern, _decision, _text, build


def _file(client: FlaskClient, child: Any) -> str:
    response = client.get(f"/children/{child.id}")
    assert response.status_code == 200
    return _text(response.get_data(as_text=True))


def test_a_decision_on_an_incident_the_child_is_not_part_of_names_the_incident(
        app: Flask, client: FlaskClient) -> None:
    w = build(app)
    # Carys is not part of I0002 (Amira and Benedikt are): a decision that she was not involved.
    _decision(w["school"], w["dsl"], w["i2"], w["carys"], T0 + dt.timedelta(days=12),
              "not_involved", "Carys was in another lesson", "Her timetable")
    db.session.commit()
    sign_in(client, w["dsl"])
    text = _file(client, w["carys"])
    assert "Decision: Not involved" in text
    assert "incident I0002" in text
    assert "Carys was in another lesson" in text


def test_an_incidents_files_are_listed_once_each_oldest_first(
        app: Flask, client: FlaskClient) -> None:
    w = build(app)
    store = app.extensions["attachments"]
    for name in ("First notes.pdf", "Second notes.pdf"):
        attachment_service.add_attachment(
            store, incident=w["i1"], uploader=w["dsl"], filename=name, description=None,
            data=small_pdf(name), max_bytes=10 * 1024 * 1024)
        db.session.commit()
    sign_in(client, w["dsl"])
    text = _file(client, w["amira"])  # I0001 has three children: Amira, Benedikt and Otis
    assert text.count("First notes.pdf") == 1 and text.count("Second notes.pdf") == 1
    assert text.index("First notes.pdf") < text.index("Second notes.pdf")
    assert "Otis Okonkwo" in text  # her brother's part, named (same family group)


def test_a_concern_with_two_outcomes_and_two_children_shows_each_once(
        app: Flask, client: FlaskClient) -> None:
    w = build(app)
    concern = _concern(w["school"], w["staff"], [w["amira"], w["carys"]],
                       T0 + dt.timedelta(days=20), what_happened="Upset at lunch")
    for days, reasons in ((21, "Spoke with her at lunch"), (22, "Checked again the next day")):
        outcome = ConcernOutcome(concern_id=concern.id, school_id=w["school"].id,
                                 kind="no_further_action", decided_by_id=w["dsl"].id,
                                 decided_at=T0 + dt.timedelta(days=days))
        outcome.reasons = reasons
        db.session.add(outcome)
    db.session.commit()
    sign_in(client, w["dsl"])
    text = _file(client, w["amira"])
    assert text.count("Upset at lunch") == 1
    assert text.count("Spoke with her at lunch") == 1
    assert text.count("Checked again the next day") == 1
    assert text.index("Spoke with her at lunch") < text.index("Checked again the next day")
    assert text.count("CW (C") >= 1 and "Carys" not in text  # R6: by label only
