"""A child's file in pages (issue 11, item 7): a flooded file of 2,000 lines took 28 s and
3 MB. Newest first, 50 lines a page with GOV.UK pagination, chosen in SQL: the page stays under
100 KB and the number of SQL statements does not grow with the file. Timing is measured by
benchmarks/child_file.py, never asserted here."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from portal.models import ChildRecordEntry, Incident, IncidentChild, db
from tests import factories
from tests.floodfile import START, add_lines
from tests.helpers.clock import FrozenClock
from tests.helpers.signing_in import sign_in

PAGE_LIMIT = 100 * 1024


class Statements:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


def _line(i: int) -> str:
    """What marks line `i` of tests.floodfile on the page (every third is a standalone note)."""
    return f"Note {i}:" if i % 3 == 2 else f"({i})<"


def _get(client: FlaskClient, url: str) -> tuple[str, int]:
    counter = Statements()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    return response.get_data(as_text=True), counter.count


def test_a_flooded_file_is_paged_small_and_in_constant_queries(
        app: Flask, client: FlaskClient, frozen_clock: FrozenClock) -> None:
    # The clock stands still: adding 1,880 lines can take over a minute on a loaded machine,
    # and the session's once-a-minute touch (auth/sessions.py, TOUCH_EVERY) would then add its
    # own write to the second page's statements. The count compared is the data's, not the clock's.
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school, display_name="Sam Staff")
    child = factories.child(school, given="Amira", family="Okonkwo")
    db.session.commit()
    add_lines(school, staff, child, 120)
    assert sign_in(client, dsl).status_code == 302
    url = f"/children/{child.id}"

    small, small_statements = _get(client, url)
    assert "page 1 of 3" in small

    add_lines(school, staff, child, 1880, start=120)
    body, statements = _get(client, url)
    size = len(body.encode())
    assert size < PAGE_LIMIT, f"{size} bytes at 2,000 lines"
    assert statements == small_statements, (small_statements, statements)

    # Newest first: the newest 50 lines, then the next 50 on page 2.
    assert "page 1 of 40" in body
    assert "Showing entries 1 to 50 of 2000" in body
    assert body.count('class="portal-event"') == 50
    assert _line(1999) in body and _line(1997) in body and _line(1950) in body
    assert _line(1949) not in body
    assert 'class="govuk-pagination' in body
    assert f'href="/children/{child.id}?page=2#chronology"' in body
    second, second_statements = _get(client, f"{url}?page=2")
    assert second_statements <= statements
    assert _line(1949) in second and _line(1900) in second
    assert _line(1950) not in second and _line(1899) not in second
    assert second.count('class="portal-event"') == 50
    # The last page, oldest first, and a page past the end shows the last.
    oldest, _ = _get(client, f"{url}?order=oldest")
    assert _line(0) in oldest and _line(49) in oldest and _line(50) not in oldest
    last, _ = _get(client, f"{url}?page=999")
    assert "page 40 of 40" in last and _line(0) in last and _line(50) not in last


def _line_of(html: str, heading: str) -> str:
    """The heading and meta line (when, by whom, which incident) of the event `heading`."""
    start = html.index(f">{heading}</h3>")
    return html[start:html.index("</p>", start)]


def test_a_line_names_its_incident_whatever_page_the_incident_is_on(
        app: Flask, client: FlaskClient) -> None:
    """Walk 10: a referral's lines lost ", incident I0001" on a page without the incident's own
    line (only the page's incidents were looked at)."""
    school = factories.school()
    dsl = factories.user("dsl", org=school, display_name="Dana DSL")
    staff = factories.user("staff", org=school, display_name="Sam Staff")
    child = factories.child(school, given="Amira", family="Okonkwo")
    at = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
    incident = Incident(school_id=school.id, reference="I0001", opened_by_id=dsl.id,
                        opened_at=at, occurred_on=at.date(), types=["physical"])
    incident.summary = "Pushed by the lockers."
    db.session.add(incident)
    db.session.flush()
    db.session.add(IncidentChild(incident_id=incident.id, child_id=child.id,
                                 school_id=school.id, position=0, role="harmed", added_at=at))
    db.session.commit()
    add_lines(school, staff, child, 60)  # 60 lines after the incident (tests.floodfile.START)
    for minutes, kind, table, body in (
            (100, "referral_sent", "referrals", "Handed over to the local authority."),
            (101, "referral_answered", "referral_responses", "Answered: early help.")):
        entry = ChildRecordEntry(
            school_id=school.id, child_id=child.id, kind=kind, author_id=dsl.id,
            occurred_at=START + dt.timedelta(minutes=minutes), incident_id=incident.id,
            source_type=table, source_id=uuid.uuid4())
        entry.body = body
        db.session.add(entry)
    db.session.commit()
    assert sign_in(client, dsl).status_code == 302
    url = f"/children/{child.id}"

    first, _ = _get(client, url)  # newest first: the referral's lines, not the incident's
    assert "page 1 of 2" in first and ">Incident I0001</h3>" not in first
    assert ", incident I0001" in _line_of(first, "Referral sent")
    assert ", incident I0001" in _line_of(first, "Referral answered")
    second, _ = _get(client, f"{url}?page=2")
    assert ">Incident I0001</h3>" in second and "Referral sent" not in second

    # Oldest first, the other way round.
    oldest, _ = _get(client, f"{url}?order=oldest&page=2")
    assert ">Incident I0001</h3>" not in oldest
    assert ", incident I0001" in _line_of(oldest, "Referral answered")
