"""The incident page reads its decisions and hand-over records flat, with their corrections and
authors' names as columns (`reads.shown_with_corrections`, issue 15): the same rows, the same
corrections in the same order and the same names as the models' relationships give, never a
correction of another school's or of another kind of row that happens to share an id."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from portal.models import Addendum, Decision, RouteHandover, db
from portal.services import handover
from portal.services import incidents as svc
from tests import factories
from tests.referral_data import incident as make_incident
from tests.referral_data import local

NOW = local("2026-11-18T10:00")


def _expected(rows: list[Decision] | list[RouteHandover], author: str) -> tuple[
        list[object], dict[object, list[object]], dict[object, str]]:
    """What the relationships give: the rows in order, each one's corrections (ids, oldest
    first) and its author's name."""
    db.session.expire_all()
    return ([r.id for r in rows],
            {r.id: [a.id for a in r.corrections] for r in rows},
            {r.id: getattr(r, author).display_name for r in rows})


def test_decisions_and_records_as_shown_match_the_relationships(app: Flask) -> None:
    school = factories.school("Oakfield Academy", "derbyshire")
    other = factories.school("Elm Grove School", "derbyshire")
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    dsl2 = factories.user("dsl", org=school, display_name="Sam Second")
    kids = [(factories.child(school, "Ava", "One", dob=dt.date(2012, 2, 1)), "harmed"),
            (factories.child(school, "Ben", "Two", dob=dt.date(2011, 9, 1)), "harmed_others"),
            (factories.child(school, "Cal", "Three", dob=dt.date(2012, 4, 1)), "witness")]
    inc = make_incident(school, dsl, kids, immediate_danger=True, concern_text="Seen online.",
                        reported_at=local("2026-11-17T09:30"))
    at = NOW - dt.timedelta(hours=20)
    decisions = [svc.record_decision(dsl if n % 2 else dsl2, inc, svc.DecisionInput(
        kind="internal_support", child_id=child.id, reasons="Safety plan agreed."), at)
        for n, (child, _) in enumerate(kids)]
    record = handover.record_route(dsl2, inc, handover.RouteRecordInput(
        route="police_emergency", happened_at_local=dt.datetime(2026, 11, 17, 11),
        caller="Dana Lead, DSL", reference="INC-0417"), at)
    # Two corrections of the first decision (the later one first in time order: added second),
    # none of the second, one of the third and one of the record.
    for n, (target_type, target, who, hours) in enumerate((
            ("decision", decisions[0], dsl2, 3), ("decision", decisions[0], dsl, 2),
            ("decision", decisions[2], dsl, 4), ("route_handover", record, dsl, 5))):
        svc.add_correction(who, inc, target_type=target_type, target_id=target.id,
                           field="reasons" if target_type == "decision" else "details",
                           correction=f"Correction {n}.", reason="Clock was slow.",
                           now=at + dt.timedelta(hours=hours))
    # Rows sharing a corrected row's id that are not its corrections: another school's, and
    # another kind of row's.
    for school_id, target_type in ((other.id, "decision"), (school.id, "incident")):
        db.session.add(Addendum(school_id=school_id, target_type=target_type,
                                target_id=decisions[1].id, field="reasons",
                                author_id=dsl.id, created_at=at))
    db.session.commit()

    shown = svc.decisions_as_shown(inc)
    ids, corrections, names = _expected(svc.decisions(inc), "decided_by")
    assert [d.id for d in shown.rows] == ids
    assert {k: [a.id for a in v] for k, v in shown.corrections.items()} == corrections
    assert shown.author_names == names
    assert [len(corrections[d.id]) for d in decisions] == [2, 0, 1]
    assert set(names.values()) == {"Dana Lead", "Sam Second"}
    # Each correction's author read with it (the page shows their name).
    assert {a.author.display_name for a in shown.corrections[decisions[0].id]} == {
        "Dana Lead", "Sam Second"}

    shown_records = handover.records_as_shown(inc)
    ids, corrections, names = _expected(handover.records_of(inc), "recorded_by")
    assert [r.id for r in shown_records.rows] == ids == [record.id]
    assert {k: [a.id for a in v] for k, v in shown_records.corrections.items()} == corrections
    assert shown_records.author_names == names == {record.id: "Sam Second"}
