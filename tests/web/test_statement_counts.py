"""Each main page costs a fixed, small number of SQL statements whatever the data (issue 15):
the page's read model loads each kind of row once, the request's user, school and authority are
loaded once and kept, and no statement runs twice with the same parameters in one request.

A small world and a bigger one (more incidents, children, concerns, decisions, referrals) are
counted with SQLAlchemy's `before_cursor_execute` event; the counts must be equal, at most
`MOST_FOR_DATA` on a data page, with no exact repeat. Timing is for benchmarks/, never here."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import event, select

from portal.models import (
    Child,
    FileTransfer,
    Incident,
    IncidentConcern,
    Referral,
    School,
    SealedExport,
    User,
    db,
)
from portal.services import file_export, referral_updates, referrals
from portal.services import incidents as svc
from portal.services.parents import ParentsInput, record_parents
from tests import factories
from tests.floodfile import add_lines
from tests.realfiles import small_pdf
from tests.referral_data import incident as make_incident
from tests.referral_data import local
from tests.web.conftest import sign_in

NOW = local("2026-11-18T10:00")
MOST_FOR_DATA = 10


@dataclass
class Counted:
    statements: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                 *_: Any) -> None:
        self.statements.append((statement, repr(parameters)))

    @property
    def repeats(self) -> list[str]:
        seen: set[tuple[str, str]] = set()
        again = []
        for item in self.statements:
            if item in seen:
                again.append(item[0])
            seen.add(item)
        return again


@contextmanager
def counting() -> Iterator[Counted]:
    counted = Counted()
    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        yield counted
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)


def get(client: FlaskClient, url: str) -> tuple[Counted, str]:
    # The test shares the request's session: empty it, so each page starts as in production
    # (a fresh session per request) and nothing the test built is found without a statement.
    db.session.expunge_all()
    with counting() as counted:
        response = client.get(url)
    assert response.status_code == 200, url
    return counted, response.get_data(as_text=True)


@dataclass
class World:
    school_id: uuid.UUID
    users: dict[str, uuid.UUID]
    incident_id: uuid.UUID
    child_id: uuid.UUID
    lines: int = 0

    @property
    def referral_id(self) -> uuid.UUID:
        """The referral of the incident shown (to Derbyshire, `add_incidents`)."""
        return self._of_incident(Referral.id, Referral.incident_id)

    @property
    def concern_id(self) -> uuid.UUID:
        """The concern of the incident shown (`add_incidents`)."""
        return self._of_incident(IncidentConcern.concern_id, IncidentConcern.incident_id)

    def _of_incident(self, wanted: Any, incident_column: Any) -> uuid.UUID:
        found = db.session.scalar(select(wanted).where(incident_column == self.incident_id))
        assert found is not None
        return uuid.UUID(str(found))

    def user(self, role: str) -> User:
        found = db.session.get(User, self.users[role])
        assert found is not None
        return found


def add_incidents(w: World, how_many: int, per_incident: int) -> None:
    """`how_many` more incidents, each with `per_incident` children, a decision about each,
    a referral to the authority; the concern form's, dashboard's and inbox's data grow."""
    school = db.session.get(School, w.school_id)
    dsl = w.user("dsl")
    assert school is not None
    for n in range(how_many):
        kids = [(factories.child(school, f"Kid{k}", f"Family{n}x{w.lines}",
                                 dob=dt.date(2012, 1, 1 + k)),
                 "harmed" if k == 0 else "harmed_others") for k in range(per_incident)]
        # The child whose file is counted is on every incident, with a decision of its own.
        kids.append((db.session.get(Child, w.child_id), "witness"))
        inc = make_incident(school, dsl, kids, concern_text=f"Seen on a phone ({n}).")
        for child, _ in kids:
            svc.record_decision(dsl, inc, svc.DecisionInput(
                kind="internal_support", child_id=child.id,
                reasons="Safety plan agreed with the child."), NOW - dt.timedelta(hours=5))
        referrals.hand_over(inc, "derbyshire", dsl, now=NOW - dt.timedelta(hours=4))
        w.incident_id = inc.id
    db.session.commit()


def add_file_lines(w: World, lines: int) -> None:
    school = db.session.get(School, w.school_id)
    child = db.session.get(Child, w.child_id)
    add_lines(school, w.user("staff"), child, lines, start=w.lines)
    w.lines += lines


def small_world() -> World:
    school = factories.school("Oakfield Academy", "derbyshire")
    users = {
        "dsl": factories.user("dsl", org=school, display_name="Dana Lead").id,
        "staff": factories.user("staff", org=school, display_name="Sam Staff").id,
        "la_adviser": factories.user("la_adviser", org=factories.authority("derbyshire"),
                                     display_name="Ash Adviser").id,
    }
    # The counted child has a brother (their file lists their family group).
    family = uuid.uuid4()
    child = factories.child(school, "Amira", "Okonkwo", family_group=family)
    factories.child(school, "Otis", "Okonkwo", family_group=family, dob=dt.date(2014, 2, 2))
    db.session.commit()
    w = World(school.id, users, uuid.uuid4(), child.id)
    # Two children and the counted one: one who harmed others, whose involvement at other
    # schools the adviser's page of the referral looks for (none found, in either world).
    add_incidents(w, 1, 2)
    add_file_lines(w, 3)
    return w


def add_files_moving(w: World) -> None:
    """The panels of children's files: a file sent to another school on the portal and one
    sent from it (both waiting for a receipt), a file received into the counted child's, a
    sealed file of the counted child awaiting its receipt, and a file due for review
    (retention: the dashboard links to its list)."""
    school = db.session.get(School, w.school_id)
    child = db.session.get(Child, w.child_id)
    dsl = w.user("dsl")
    assert school is not None and child is not None
    other = factories.school("Brookside Primary", "derbyshire")
    other_dsl = factories.user("dsl", org=other, display_name="Bo Brookside")
    leaver = factories.child(school, "Tobi", "Mover")
    leaver.roll_status = "left"
    theirs = factories.child(other, "Remi", "Arrival")
    earlier = factories.child(other, "Amira", "Okonkwo")
    moved = (NOW - dt.timedelta(days=2)).date()
    db.session.add_all([
        FileTransfer(child_id=leaver.id, from_school_id=school.id, to_school_id=other.id,
                     moved_on=moved, sent_by_id=dsl.id, sent_at=NOW - dt.timedelta(days=1)),
        FileTransfer(child_id=theirs.id, from_school_id=other.id, to_school_id=school.id,
                     moved_on=moved, sent_by_id=other_dsl.id,
                     sent_at=NOW - dt.timedelta(days=1)),
        FileTransfer(child_id=earlier.id, from_school_id=other.id, to_school_id=school.id,
                     state="accepted", moved_on=moved - dt.timedelta(days=30),
                     sent_by_id=other_dsl.id, sent_at=NOW - dt.timedelta(days=30),
                     accepted_by_id=dsl.id, accepted_at=NOW - dt.timedelta(days=29),
                     received_child_id=child.id),
    ])
    export = SealedExport(school_id=school.id, child_id=child.id, created_by_id=dsl.id,
                          created_at=NOW - dt.timedelta(days=3),
                          receipt_token_hash=uuid.uuid4().hex)
    export.receiving_school = "Riverside Independent School"
    db.session.add(export)
    factories.child(school, "Old", "Leaver", dob=dt.date(1990, 1, 1)).roll_status = "left"
    # The file from the counted child's previous school, the start of their chronology (read
    # with the page's lines, its attachment with it).
    file_export.receive_file(
        current_app.extensions["attachments"], dsl, child, filename="Previous file.pdf",
        data=small_pdf("Previous school chronology"), description="Child protection file",
        previous_school="Hillside Primary School", received_on=dt.date(2026, 3, 2),
        max_bytes=10_000_000, now=NOW - dt.timedelta(days=5))
    db.session.commit()


def add_corrections_and_parents(w: World) -> None:
    """On the incident shown: a correction of its summary and of a decision (R5), and two
    records of parents for its counted child (R9), by a second DSL."""
    school = db.session.get(School, w.school_id)
    inc = db.session.get(Incident, w.incident_id)
    assert school is not None and inc is not None
    deputy = factories.user("dsl", org=school, display_name="Dee Deputy")
    decision = svc.decisions(inc)[0]
    for target_type, target_id, field_name in (("incident", inc.id, "summary"),
                                               ("decision", decision.id, "reasons")):
        svc.add_correction(deputy, inc, target_type=target_type, target_id=target_id,
                           field=field_name, correction="Seen on a tablet, not a phone.",
                           reason="The form was filled in from memory.", now=NOW)
    for told in (False, True):
        record_parents(deputy, inc, ParentsInput(
            child_id=w.child_id, told=told, by_whom="Dee Deputy" if told else None,
            told_at_local=dt.datetime(2026, 11, 18, 9, 0) if told else None,
            reason=None if told else "csc_advised"), NOW)
    # More information about its referral, after it was sent (the adviser's page shows who
    # sent each and who read it).
    referral = db.session.get(Referral, w.referral_id)
    assert referral is not None
    referral_updates.send_update(deputy, referral, "Her mother phoned after school.", NOW)
    db.session.commit()


def grow(w: World) -> None:
    """More of everything: incidents (the last, shown, with three children), children,
    decisions, referrals, concerns and chronology lines, files moving between schools, and
    corrections and records of parents on the incident shown."""
    add_incidents(w, 3, 3)
    add_file_lines(w, 9)
    add_files_moving(w)
    add_corrections_and_parents(w)


# (who, where, what the page must show once the world has grown: the counts are only worth
# something if the page shows everything).
PAGES = {
    "dashboard": ("dsl", "/dashboard", "Incident I0004"),
    "incident": ("dsl", "/incidents/{w.incident_id}", "Amira Okonkwo"),
    "child's file": ("dsl", "/children/{w.child_id}", "Note 11:"),
    "adviser inbox": ("la_adviser", "/referrals", "Oakfield Academy"),
    "concern form": ("staff", "/concerns/new", "What happened"),
    # A form page, but with a list: each waiting concern, with its children by initials.
    "start an incident": ("dsl", "/incidents/new", "Start an incident"),
    # The adviser's page of a referral: where an authority's advice is given.
    "referral (adviser)": ("la_adviser", "/referrals/{w.referral_id}", "Oakfield Academy"),
    # And the other pages each role comes back to (fixed, none repeated; no bound of their
    # own): the school's view of its referral, the children, the concerns one raised (here
    # the DSL, who raised every one: their children were read a concern at a time), the files
    # due for review (what stops each being destroyed was read a file at a time) and the
    # governors' report.
    "referral (school)": ("dsl", "/referrals/{w.referral_id}", "Her mother phoned"),
    "children": ("dsl", "/children", "Amira Okonkwo"),
    "my concerns": ("dsl", "/concerns/mine", "AO ("),
    "files due for review": ("dsl", "/retention", "Files due for review"),
    "reports": ("dsl", "/reports", "Oakfield Academy"),
    # A DSL reading a concern (from the alert: the triage page, and the plain view): its
    # children were read one at a time, and everything again after the audit event's commit.
    "read a concern": ("dsl", "/concerns/{w.concern_id}/triage", "Seen on a phone (2)."),
    "a concern": ("dsl", "/concerns/{w.concern_id}", "Seen on a phone (2)."),
    "lines open now": ("dsl", "/incidents/{w.incident_id}/lines", "Derbyshire"),
    "school settings": ("dsl", "/school/settings", "Dana Lead"),
}
# And once the files moving between schools are there (`add_files_moving`):
# (a leaver waiting to be sent shows by initials and reference, as every dashboard item)
ALSO_SHOWN = {
    "dashboard": ["TM (C", "sent to Brookside Primary", "A child from Brookside Primary",
                  "Amira Okonkwo (", "to Riverside Independent School"],
    "incident": ["Correction by Dee Deputy", "Recorded by Dee Deputy"],
    "child's file": ["Child protection file from Brookside Primary", "Otis Okonkwo (C",
                     "File from the previous school", "Hillside Primary School",
                     "Previous file.pdf"],
    "start an incident": ["AO (C"],
    "referral (adviser)": ["Her mother phoned after school.", "By Dee Deputy"],
    "read a concern": ["Kid2 Family2x3", "Amira Okonkwo ("],
    "a concern": ["Kid2 Family2x3", "Amira Okonkwo ("],
}
DATA_PAGES = {"dashboard", "incident", "child's file", "adviser inbox", "referral (adviser)"}
# Issue 15 asks for at most 10 on every data page. The incident page is at 10 (one the audit
# event's insert, the chain head kept after a chain's first; one the session's, which also reads
# the authorities' stamp: the authorities are kept per process, portal/reads.py). Of the child's
# file's 10 the same two; the page's keys carry its decisions and concerns, its incidents their
# attachments, its transfers are read with its sealed files and disclosures, its family group
# with the other children it links, the users named with the school's name index. The adviser's
# page of a referral is at 10 too: the session, the referral, its school, its answers, the audit
# event, the more information sent (with who sent and read it), the children who harmed others
# (with their incident's day), shredded keys, the marks at other schools, the files sent
# (repeat harm found elsewhere adds its schools' names and DSLs: tests/unit/test_repeat_harm.py).
NOT_YET_TEN: dict[str, int] = {}
# Below 10 and held there: the inbox reads each referral's school name with the referrals
# (the session, with the authorities' stamp; the live referrals with their responses; the
# accounts panel; the latest answered ones; and their responses when there are any), and the
# dashboard its panels (the authorities are kept per process, portal/reads.py).
HELD_AT = {"adviser inbox": 4, "dashboard": 9}


def measure(app: Flask, w: World) -> dict[str, tuple[Counted, str]]:
    found = {}
    clients: dict[str, FlaskClient] = {}  # one sign-in a role (signing in is rate limited)
    for name, (role, url, _) in PAGES.items():
        client = clients.get(role)
        if client is None:
            client = clients[role] = app.test_client()
            sign_in(client, w.user(role))
        target = url.format(w=w)
        client.get(target)  # warm: first-request work is not the point
        found[name] = get(client, target)
    return found


def test_each_page_costs_a_fixed_few_statements_none_repeated(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(referrals, "utcnow", lambda: NOW)
    w = small_world()
    small = measure(app, w)
    grow(w)
    big = measure(app, w)
    report = {name: (len(small[name][0].statements), len(big[name][0].statements))
              for name in PAGES}
    print(f"\nstatements (small world, bigger world): {report}")
    for name, (_, _, shown) in PAGES.items():
        counted, html = big[name]
        assert shown in html, name
        for also in ALSO_SHOWN.get(name, []):
            assert also in html, (name, also)
        assert small[name][0].repeats == [] and counted.repeats == [], name
        assert len(counted.statements) == len(small[name][0].statements), (name, report)
        most = HELD_AT.get(name, NOT_YET_TEN.get(name, MOST_FOR_DATA))
        if name in DATA_PAGES:
            assert len(counted.statements) <= most, (name, report)
    assert len(big["concern form"][0].statements) <= 3  # the session, the draft
    # The session, the waiting concerns with their children, and who raised them.
    assert len(big["start an incident"][0].statements) <= 3
