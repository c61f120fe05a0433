"""The dashboard's open incidents read as columns (`services.facts.open_incidents`, issue 15):
the same incidents in the same order, each with the same children, as the incidents visible to
the user loaded as objects; and the hand-over rules, written once for both shapes, give the
same facts and the same state of every mandatory route from either."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal import access
from portal.models import Incident, IncidentChild, db
from portal.services import handover
from portal.services.facts import children_of_incidents, facts_for, open_incidents
from tests import factories
from tests.referral_data import incident, local

NOW = local("2026-11-18T10:00")


def _world() -> dict[str, Any]:
    derbyshire = factories.authority("derbyshire")
    factories.authority("dorset")
    school = factories.school("Oakfield Academy", "derbyshire")
    other = factories.school("Harbour School", "dorset")
    dsl = factories.user("dsl", org=school)
    other_dsl = factories.user("dsl", org=other)
    mia = factories.child(school, "Mia", "Harmed", dob=dt.date(2012, 3, 4))
    kai = factories.child(school, "Kai", "Harmer", dob=dt.date(2009, 1, 2), la_code="dorset")
    ola = factories.child(school, "Ola", "Witness", dob=dt.date(2011, 6, 7), send=True)
    zed = factories.child(other, "Zed", "Elsewhere", la_code="dorset")
    first = incident(school, dsl, [(mia, "harmed"), (kai, "harmer")],
                     reported_at=local("2026-11-17T09:30"))
    second = incident(school, dsl, [(ola, "harmed"), (mia, "witness")],
                      types=("physical_abuse",), features=(), online=False,
                      immediate_danger=True, reported_at=local("2026-11-17T10:00"))
    second.adults_harmed = [{"at_risk": True}, {"at_risk": False}]
    second.sexual_activity, second.crime_suspected = True, True
    second.opened_at = first.opened_at + dt.timedelta(minutes=5)
    link = db.session.scalars(select(IncidentChild).where(
        IncidentChild.incident_id == second.id, IncidentChild.child_id == ola.id)).one()
    link.household, link.same_school = "1", False
    # No facts yet: listed, with nothing for the rules to assess.
    bare = Incident(school_id=school.id, reference="I9001", opened_by_id=dsl.id,
                    opened_at=first.opened_at + dt.timedelta(minutes=10))
    closed = incident(school, dsl, [(kai, "harmed")])
    closed.state = "closed"
    theirs = incident(other, other_dsl, [(zed, "harmed")])
    db.session.add(bare)
    db.session.flush()
    return {"dsl": dsl, "other_dsl": other_dsl, "first": first, "second": second,
            "bare": bare, "closed": closed, "theirs": theirs,
            "staff": factories.user("staff", org=school),
            "adviser": factories.user("la_adviser", org=derbyshire)}


def _as_objects(user: Any) -> tuple[list[Incident], dict[Any, list[IncidentChild]]]:
    """The reference: the user's open incidents as objects, oldest first, with their
    children as every other page loads them."""
    found = list(db.session.scalars(access.incidents_visible_to(user)
                                    .where(Incident.state == "open")
                                    .order_by(Incident.opened_at)))
    return found, children_of_incidents(found)


def test_the_columns_give_the_rules_what_the_objects_give(app: Flask) -> None:
    w = _world()
    objects, object_children = _as_objects(w["dsl"])
    columns, parts = open_incidents(access.incident_visible_bound(w["dsl"]))

    assert [i.id for i in columns] == [w["first"].id, w["second"].id, w["bare"].id]
    assert [i.id for i in columns] == [i.id for i in objects]
    for by_columns, by_objects in zip(columns, objects, strict=True):
        assert (by_columns.reference, by_columns.opened_at, by_columns.mandatory_routes) == (
            by_objects.reference, by_objects.opened_at, by_objects.mandatory_routes)
        rows = object_children[by_objects.id]
        assert [p.child.id for p in parts[by_columns.id]] == [r.child.id for r in rows]
        assert [(p.role, p.same_school, p.household) for p in parts[by_columns.id]] == [
            (r.role, r.same_school, r.household) for r in rows]
        facts = facts_for(by_columns, rows=parts[by_columns.id])
        assert facts == facts_for(by_objects, rows=rows)
        assert (facts is None) == (by_objects is w["bare"])
    second = facts_for(columns[1], rows=parts[columns[1].id])
    assert second is not None and second.immediate_danger and second.sexual_activity
    assert [a.at_risk for a in second.adults_harmed] == [True, False]
    assert [(c.send, c.same_school, c.household) for c in second.children] == [
        (True, False, "1"), (False, True, None)]

    by_columns_states = handover.states_for(columns, NOW, parts)
    assert by_columns_states == handover.states_for(objects, NOW, object_children)
    assert by_columns_states == handover.states_for(objects, NOW)
    assert any(by_columns_states[i.id] for i in columns)  # mandatory routes were judged


def test_each_role_reads_only_its_own_open_incidents(app: Flask) -> None:
    w = _world()
    theirs, their_parts = open_incidents(access.incident_visible_bound(w["other_dsl"]))
    assert [i.id for i in theirs] == [w["theirs"].id]
    assert [p.child.reference for p in their_parts[w["theirs"].id]] == [
        r.child.reference for r in children_of_incidents([w["theirs"]])[w["theirs"].id]]
    for who in ("staff", "adviser"):
        assert open_incidents(access.incident_visible_bound(w[who])) == ([], {})
        assert _as_objects(w[who])[0] == []
