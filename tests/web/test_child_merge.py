"""Issue 13, item 3: a DSL merges two records of one child.

Chronologies join (concerns, incidents, decisions, chronology lines), nothing is lost (the merged
record stays, marked), both ids keep working (the old file's address leads to the kept one),
the merge is audited and explained in the file, open incidents are assessed again with the kept
child, and another school's record can never be merged (404).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.models import (
    Assessment,
    AuditEvent,
    Child,
    ChildMerge,
    ConcernChild,
    IncidentChild,
    db,
)
from portal.services import children as children_service
from tests import factories
from tests.helpers.incidents import make_concern
from tests.helpers.signing_in import csrf_from, sign_in
from tests.referral_data import incident as make_incident

REASONS = "Same date of birth and class; Mrs Hale confirmed it is the same girl."


def _world() -> dict[str, Any]:
    school = factories.school()
    other = factories.school(name="Another School")
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    other_dsl = factories.user("dsl", org=other)
    zoe = factories.child(school, "Zoë", "Ó Súilleabháin", dob=dt.date(2014, 6, 2),
                          preferred_name="Zo")
    again = factories.child(school, "Zoe", "O Suilleabhain", dob=dt.date(2014, 6, 3),
                            on_roll=False)
    kai = factories.child(school, "Kai", "Harmer", dob=dt.date(2012, 3, 1))
    elsewhere = factories.child(other, "Zoe", "O Suilleabhain", dob=dt.date(2014, 6, 2))
    first = make_concern(school, staff, [zoe])
    second = make_concern(school, staff, [again, kai])
    open_incident = make_incident(school, dsl, [(again, "harmed"), (kai, "harmed_others")])
    db.session.commit()
    return {"school": school, "dsl": dsl, "other_dsl": other_dsl, "zoe": zoe,
            "again": again, "kai": kai, "elsewhere": elsewhere, "first": first,
            "second": second, "incident": open_incident}


def _merge(client: FlaskClient, kept: Child, other: Child, **changes: Any) -> Any:
    url = f"/children/{kept.id}/merge/{other.id}"
    form = client.get(url)
    assert form.status_code == 200
    data = {"csrf_token": csrf_from(form), "keep": "this", "given_name": "this",
            "family_name": "this", "preferred_name": "this", "dob": "this", "send": "this",
            "local_authority_code": "this", "reasons": REASONS, **changes}
    return client.post(url, data=data)


def test_merge_joins_the_chronologies_and_keeps_both_ids(app: Flask,
                                                          client: FlaskClient) -> None:
    w = _world()
    sign_in(client, w["dsl"])
    zoe, again = w["zoe"], w["again"]
    # The file offers the merge; the page offers the possible second record.
    assert "Merge with another record of this child" in client.get(
        f"/children/{zoe.id}").get_data(as_text=True)
    found = client.get(f"/children/{zoe.id}/merge").get_data(as_text=True)
    assert f"/children/{zoe.id}/merge/{again.id}" in found
    assert str(w["elsewhere"].id) not in found
    # Or by its reference.
    token = csrf_from(client.get(f"/children/{zoe.id}/merge"))
    by_ref = client.post(f"/children/{zoe.id}/merge",
                         data={"csrf_token": token, "reference": again.reference.lower()})
    assert by_ref.status_code == 302
    assert by_ref.headers["Location"].endswith(f"/children/{zoe.id}/merge/{again.id}")
    # Each choice on the merge page is asked as a question: which record, and each detail.
    merge_page = client.get(by_ref.headers["Location"]).get_data(as_text=True)
    legends = [" ".join(x.split()) for x in
               re.findall(r"<legend[^>]*>(.*?)</legend>", merge_page, re.S)]
    assert "Given name" in legends and "Date of birth" in legends, legends

    assessments = db.session.scalar(select(func.count()).select_from(Assessment))
    done = _merge(client, zoe, again, dob="other")  # the other record's date of birth is right
    assert done.status_code == 302, done.get_data(as_text=True)
    assert done.headers["Location"].endswith(f"/children/{zoe.id}")
    db.session.expire_all()

    # Chronologies join: both concerns and the incident are in the kept child's file.
    page = client.get(f"/children/{zoe.id}").get_data(as_text=True)
    assert f"Incident {w['incident'].reference}" in page
    assert set(db.session.scalars(select(ConcernChild.concern_id).where(
        ConcernChild.child_id == zoe.id))) == {w["first"].id, w["second"].id}
    assert db.session.scalar(select(IncidentChild.child_id).where(
        IncidentChild.incident_id == w["incident"].id, IncidentChild.role == "harmed")) == zoe.id
    # Explained in the file, and audited.
    assert f"Record {again.reference} merged into this file on" in page
    assert "by Dana Lead" in page and REASONS.replace("'", "&#39;") in page
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "child.merged")).one()
    assert event.object_id == str(zoe.id)
    assert event.detail["merged_reference"] == again.reference
    assert event.detail["taken_from_merged"] == ["dob"]
    # Nothing lost: the merged record stays, marked; its details as they were are kept.
    merged = db.session.get(Child, again.id)
    assert merged is not None and merged.merged_into_id == zoe.id
    assert merged.full_name == "Zoe O Suilleabhain"
    record = db.session.scalars(select(ChildMerge)).one()
    assert record.reasons == REASONS
    assert json.loads(record.before or "{}")["kept"]["dob"] == "2014-06-02"
    # The details chosen.
    kept = db.session.get(Child, zoe.id)
    assert kept is not None and kept.dob == dt.date(2014, 6, 3)
    assert kept.full_name == "Zoë Ó Súilleabháin" and kept.preferred_name == "Zo"
    # Both ids keep working: the old file's address leads to the kept child's file.
    old = client.get(f"/children/{again.id}")
    assert old.status_code == 302 and old.headers["Location"].endswith(f"/children/{zoe.id}")
    # Search finds one child, not two.
    assert children_service.search(zoe.school_id, "Zoe", partial=True).ids == [zoe.id]
    # The open incident was assessed again, with the kept child.
    assert db.session.scalar(select(func.count()).select_from(Assessment)) == assessments + 1


def test_merge_needs_reasons_and_refuses_two_records_in_one_incident(
        app: Flask, client: FlaskClient) -> None:
    w = _world()
    sign_in(client, w["dsl"])
    missing = _merge(client, w["zoe"], w["again"], reasons="  ")
    assert missing.status_code == 400
    assert "Enter why these are the same child" in missing.get_data(as_text=True)
    same = _merge(client, w["again"], w["kai"])  # both in the open incident
    assert same.status_code == 400
    assert "as two different children" in same.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ChildMerge)) == 0
    assert db.session.get(Child, w["kai"].id).merged_into_id is None  # type: ignore[union-attr]


def test_another_schools_record_is_never_merged_or_found(app: Flask,
                                                         client: FlaskClient) -> None:
    w = _world()
    sign_in(client, w["dsl"])
    assert client.get(f"/children/{w['zoe'].id}/merge/{w['elsewhere'].id}").status_code == 404
    assert client.get(f"/children/{w['elsewhere'].id}/merge").status_code == 404
    token = csrf_from(client.get(f"/children/{w['zoe'].id}/merge"))
    posted = client.post(f"/children/{w['zoe'].id}/merge/{w['elsewhere'].id}", data={
        "csrf_token": token, "keep": "this", "reasons": REASONS})
    assert posted.status_code == 404
    # Its reference is not found either (both schools have a C0004).
    by_ref = client.post(f"/children/{w['zoe'].id}/merge", data={
        "csrf_token": token, "reference": w["elsewhere"].reference})
    assert by_ref.status_code in (302, 400)
    if by_ref.status_code == 302:
        assert str(w["elsewhere"].id) not in by_ref.headers["Location"]
    # The other school's DSL cannot reach this school's records.
    other = app.test_client()
    sign_in(other, w["other_dsl"])
    assert other.get(f"/children/{w['zoe'].id}/merge").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ChildMerge)) == 0
