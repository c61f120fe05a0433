"""Issue 17, part 3: repeat harm across schools, through the pages (CSRF on).

A child recorded at one school as having harmed others, recorded again at another school of the
same authority as having harmed others: the authority's adviser reading the second school's
referral is told at which school, in which month, and whose DSL to ask. The referring school is
told nothing (its pages and its packet), a school of another authority never matches, and
children who were only witnesses or harmed are never flagged.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import AuditEvent, Child, Referral, RepeatHarmMark, db
from tests import factories
from tests.pdftext import extract
from tests.web import handover_forms
from tests.web.conftest import sign_in
from tests.web.test_incidents import add_child, make_concern, save_facts, start

EARLIER = ("Earlier involvement: this child was recorded as having harmed others at "
           "Ashby Fields Primary in October 2026. Ask that school's DSL: Asha Dee, "
           "dsl@ashby.example, 01632 960111.")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    derbyshire = factories.authority("derbyshire")
    darlington = factories.authority("darlington")
    ashby = factories.school("Ashby Fields Primary", "derbyshire")
    brook = factories.school("Brookside Academy", "derbyshire")
    carrow = factories.school("Carrow Hill School", "darlington")
    w: dict[str, Any] = {"derbyshire": derbyshire, "darlington": darlington,
                         "ashby": ashby, "brook": brook, "carrow": carrow}
    for key, school, name in (("ashby", ashby, "Asha Dee"), ("brook", brook, "Bram Lowe"),
                              ("carrow", carrow, "Cass Ord")):
        w[f"{key}_staff"] = factories.user("staff", org=school)
        w[f"{key}_dsl"] = factories.user("dsl", org=school, email=f"dsl@{key}.example",
                                         display_name=name)
    w["ashby_dsl"].direct_phone = "01632 960111"
    w["adviser"] = factories.user("la_adviser", org=derbyshire, email="adv@derbys.example")
    dob = dt.date(2013, 4, 2)
    # Ashby's Zoë; Brookside typed her name without the accents, in capitals.
    w["zoe_a"] = factories.child(ashby, "Zoë", "Ó Súilleabháin", dob)
    w["zoe_b"] = factories.child(brook, "ZOE", "O SUILLEABHAIN", dob)
    w["mia_a"] = factories.child(ashby, "Mia", "Harbottle", dt.date(2013, 9, 9))
    w["wren_a"] = factories.child(ashby, "Wren", "Calloway", dt.date(2013, 2, 14))
    w["wren_b"] = factories.child(brook, "Wren", "Calloway", dt.date(2013, 2, 14))
    w["mia_b"] = factories.child(brook, "Mia", "Harbottle", dt.date(2013, 9, 9))
    w["ned_b"] = factories.child(brook, "Ned", "Ashworth", dt.date(2013, 6, 30))
    db.session.commit()
    return w


def browser(app: Flask, user: Any) -> FlaskClient:
    """A browser of its own, signed in as `user`."""
    client = app.test_client()
    sign_in(client, user)
    return client


def record(app: Flask, w: dict[str, Any], key: str,
           parts: list[tuple[Child, str]], occurred: dt.date,
           authority: str = "derbyshire") -> tuple[FlaskClient, uuid.UUID]:
    """A school's DSL records an incident from a concern, with each child's part: their
    browser and the incident."""
    concern = make_concern(w[key], w[f"{key}_staff"], [c for c, _ in parts])
    concern.what_happened = f"Seen by the staff of {w[key].name} at lunch."
    db.session.commit()
    client = browser(app, w[f"{key}_dsl"])
    iid = start(client, concern)
    day = [str(occurred.day), str(occurred.month), str(occurred.year)]
    assert save_facts(client, iid, occurred_on=day, reported_date=day).status_code == 302
    for child, role in parts:
        extra = {"child_words_missing_reason": "Not yet spoken to"}
        response = add_child(client, iid, child, role, local_authority=authority, **extra)
        assert response.status_code == 302, response.get_data(as_text=True)
    return client, iid


def refer(client: FlaskClient, iid: uuid.UUID, code: str = "derbyshire") -> Referral:
    response = handover_forms.hand_over(client, f"/incidents/{iid}/hand-over/{code}")
    assert response.status_code == 302, response.get_data(as_text=True)
    found = db.session.scalar(select(Referral).where(Referral.incident_id == iid))
    assert found is not None
    return found


def adviser_page(app: Flask, w: dict[str, Any], referral: Referral) -> str:
    page = browser(app, w["adviser"]).get(f"/referrals/{referral.id}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_same_name_and_birthday_typed_differently_the_adviser_is_told(
        app: Flask, world: dict[str, Any]) -> None:
    w = world
    record(app, w, "ashby", [(w["zoe_a"], "harmed_others"), (w["mia_a"], "harmed")],
           dt.date(2026, 10, 5))
    brook, iid = record(app, w, "brook", [(w["zoe_b"], "harmed_others"),
                                             (w["ned_b"], "harmed")], dt.date(2026, 11, 16))
    referral = refer(brook, iid)

    html = adviser_page(app, w, referral)
    assert "Involvement at another school" in html
    assert EARLIER in html.replace("&#39;", "'")
    assert "ZOE O SUILLEABHAIN (C0001)." in html  # which of the referral's children
    # Not the other school's record: its name for her, its other child, what happened there.
    for secret in ("Súilleabháin", "Zoë", "Harbottle", "Seen by the staff of Ashby"):
        assert secret not in html
    # The authority's trail and Ashby's say an adviser was told of Ashby's record.
    shown = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.repeat_harm_shown")).all()
    assert sorted(e.org_id for e in shown) == sorted([str(w["derbyshire"].id),
                                                      str(w["ashby"].id)])


def test_same_upn_different_names_the_adviser_is_told(
        app: Flask, world: dict[str, Any]) -> None:
    w = world
    kai_a = factories.child(w["ashby"], "Kai", "Pemberton", dt.date(2012, 1, 9))
    kai_b = factories.child(w["brook"], "Kaiden", "Pemberton-Smith", dt.date(2012, 9, 1))
    kai_a.upn = "A123456789012"
    kai_b.upn = "a123456789012 "  # as another roll wrote it
    db.session.commit()
    record(app, w, "ashby", [(kai_a, "both")], dt.date(2026, 10, 20))
    brook, iid = record(app, w, "brook", [(kai_b, "harmed_others"), (w["ned_b"], "harmed")],
                 dt.date(2026, 11, 16))
    html = adviser_page(app, w, refer(brook, iid))
    assert ("this child was recorded as having harmed others at Ashby Fields Primary in "
            "October 2026") in html
    assert "Kaiden Pemberton-Smith (C0005)." in html
    assert "Kai Pemberton " not in html


def test_the_referring_school_is_told_nothing_in_its_pages_or_packet(
        app: Flask, world: dict[str, Any]) -> None:
    w = world
    record(app, w, "ashby", [(w["zoe_a"], "harmed_others")], dt.date(2026, 10, 5))
    brook, iid = record(app, w, "brook", [(w["zoe_b"], "harmed_others"), (w["ned_b"], "harmed")],
                 dt.date(2026, 11, 16))
    referral = refer(brook, iid)
    # Brookside's DSL reads the referral, the incident, Zoe's file and the
    # packet in both formats: nothing of Ashby, its DSL or the name Ashby holds.
    pages = {url: brook.get(url) for url in (
        f"/referrals/{referral.id}", f"/incidents/{iid}", f"/children/{w['zoe_b'].id}",
        f"/incidents/{iid}/lines", f"/referrals/{referral.id}/packet.json")}
    texts = {url: r.get_data(as_text=True) for url, r in pages.items()}
    pdf = brook.get(f"/referrals/{referral.id}/packet.pdf")
    assert pdf.status_code == 200
    texts["packet.pdf"] = extract(pdf.get_data())
    assert "SUILLEABHAIN" in texts["packet.pdf"]  # the text was read
    assert all(r.status_code == 200 for r in pages.values())
    packet = json.loads(texts[f"/referrals/{referral.id}/packet.json"])
    assert [c["ref"] for c in packet["children"]] == ["C0001", "C0004"]
    for where, text in texts.items():
        for secret in ("Ashby", "Asha Dee", "dsl@ashby.example", "01632 960111", "Zoë",
                       "Súilleabháin", "Involvement at another school", "Earlier involvement",
                       "recorded as having harmed others"):
            assert secret not in text, (where, secret)


def test_a_school_of_another_authority_is_not_matched(
        app: Flask, world: dict[str, Any]) -> None:
    w = world
    zoe_c = factories.child(w["carrow"], "Zoë", "Ó Súilleabháin", dt.date(2013, 4, 2),
                            la_code="darlington")
    db.session.commit()
    record(app, w, "carrow", [(zoe_c, "harmed_others")], dt.date(2026, 10, 5),
           authority="darlington")
    brook, iid = record(app, w, "brook", [(w["zoe_b"], "harmed_others"),
                                             (w["ned_b"], "harmed")], dt.date(2026, 11, 16))
    html = adviser_page(app, w, refer(brook, iid))
    assert "Involvement at another school" not in html and "Carrow" not in html
    # Carrow's marks were made under Darlington's key only: nothing Derbyshire could match.
    marks = db.session.scalars(select(RepeatHarmMark).where(
        RepeatHarmMark.school_id == w["carrow"].id)).all()
    assert marks and {m.local_authority_id for m in marks} == {w["darlington"].id}


def test_a_child_living_in_the_authority_at_a_school_elsewhere_is_matched(
        app: Flask, world: dict[str, Any]) -> None:
    """The child's home authority is told too: a Darlington school's pupil who lives in
    Derbyshire is Derbyshire's child to safeguard."""
    w = world
    zoe_c = factories.child(w["carrow"], "Zoë", "Ó Súilleabháin", dt.date(2013, 4, 2),
                            la_code="derbyshire")
    db.session.commit()
    record(app, w, "carrow", [(zoe_c, "harmed_others")], dt.date(2026, 10, 5))
    brook, iid = record(app, w, "brook", [(w["zoe_b"], "harmed_others"),
                                             (w["ned_b"], "harmed")], dt.date(2026, 11, 16))
    html = adviser_page(app, w, refer(brook, iid))
    assert ("harmed others at Carrow Hill School in October 2026. Ask that school&#39;s DSL: "
            "Cass Ord, dsl@carrow.example.") in html


def test_witnesses_and_harmed_children_are_not_flagged(
        app: Flask, world: dict[str, Any]) -> None:
    w = world
    # At Ashby: Wren only saw it, Mia was harmed (Zoë harmed others).
    record(app, w, "ashby", [(w["zoe_a"], "harmed_others"), (w["mia_a"], "harmed"),
                                (w["wren_a"], "witness")], dt.date(2026, 10, 5))
    # At Brookside: Wren and Mia harmed others, Zoe was harmed.
    brook, iid = record(app, w, "brook", [(w["wren_b"], "harmed_others"),
                                             (w["mia_b"], "both"), (w["zoe_b"], "harmed")],
                 dt.date(2026, 11, 16))
    html = adviser_page(app, w, refer(brook, iid))
    assert "Involvement at another school" not in html and "Ashby" not in html
    assert not db.session.scalars(select(RepeatHarmMark).where(
        RepeatHarmMark.child_id.in_([w["mia_a"].id, w["wren_a"].id]))).all()


def test_a_part_changed_to_witness_is_no_longer_flagged(
        app: Flask, world: dict[str, Any]) -> None:
    w = world
    ashby, first = record(app, w, "ashby", [(w["zoe_a"], "harmed_others")], dt.date(2026, 10, 5))
    brook, iid = record(app, w, "brook", [(w["zoe_b"], "harmed_others"),
                                             (w["ned_b"], "harmed")], dt.date(2026, 11, 16))
    referral = refer(brook, iid)
    # Ashby's DSL corrects Zoë's part: she only saw it.
    assert add_child(ashby, first, w["zoe_a"], "witness",
                     child_words_missing_reason="Not yet spoken to").status_code == 302
    html = adviser_page(app, w, referral)
    assert "Involvement at another school" not in html and "Ashby" not in html
