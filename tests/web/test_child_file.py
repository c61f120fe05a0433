"""A child's file: the chronology across incidents, R6 (no other child's name), printing, audit,
and access (another school's DSL and staff get 404). Real forms and sign-in, CSRF on."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import (
    Addendum,
    AuditEvent,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    Decision,
    Incident,
    IncidentChild,
    db,
)
from portal.services import chronology
from tests import factories
from tests.helpers.signing_in import csrf_from, sign_in

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def _concern(school, staff, children, at, **text: str) -> Concern:
    concern = Concern(school_id=school.id, raised_by_id=staff.id, state="submitted",
                      submitted_at=at)
    for name, value in text.items():
        setattr(concern, name, value)
    db.session.add(concern)
    db.session.flush()
    for c in children:
        db.session.add(ConcernChild(concern_id=concern.id, child_id=c.id))
    return concern


def _incident(school, dsl, ref, at, summary, roles) -> Incident:
    incident = Incident(school_id=school.id, reference=ref, opened_by_id=dsl.id, opened_at=at,
                        occurred_on=at.date(), types=["physical"])
    incident.summary = summary
    db.session.add(incident)
    db.session.flush()
    for position, (c, role) in enumerate(roles):
        db.session.add(IncidentChild(incident_id=incident.id, child_id=c.id, school_id=school.id,
                                     position=position, role=role, added_at=at))
    db.session.flush()
    return incident


def _decision(school, dsl, incident, child, at, kind, what, reasons) -> Decision:
    decision = Decision(school_id=school.id, incident_id=incident.id,
                        child_id=child.id if child else None, kind=kind, decided_by_id=dsl.id,
                        decided_at=at)
    decision.what = what
    decision.reasons = reasons
    db.session.add(decision)
    db.session.flush()
    return decision


def build(app: Flask) -> dict[str, Any]:
    """Amira's file: two incidents with Benedikt, a sibling Otis, decisions and a correction."""
    school = factories.school()
    dsl = factories.user("dsl", org=school, display_name="Dana DSL")
    staff = factories.user("staff", org=school, display_name="Sam Staff")
    family = uuid.uuid4()
    amira = factories.child(school, given="Amira", family="Okonkwo", family_group=family,
                            send=True)
    ben = factories.child(school, given="Benedikt", family="Larkspur")
    otis = factories.child(school, given="Otis", family="Okonkwo", family_group=family)
    carys = factories.child(school, given="Carys", family="Wethersby")

    c1 = _concern(school, staff, [amira, ben], T0,
                  what_happened="Benedikt Larkspur pushed Amira against the lockers; "
                                "LARKSPUR laughed. Carys Wethersby saw it.",
                  child_words="Amira said: 'benedikt always does this when Otis is away'")
    i1 = _incident(school, dsl, "I0001", T0 + dt.timedelta(hours=2),
                   "Physical incident by the lockers involving Benedikt and Amira.",
                   [(amira, "harmed"), (ben, "harmed_others"), (otis, "witness")])
    d1 = _decision(school, dsl, i1, amira, T0 + dt.timedelta(hours=3), "early_help",
                   "Early help for Amira", "Benedikt's behaviour is repeated; Amira is anxious")
    _decision(school, dsl, i1, ben, T0 + dt.timedelta(hours=3), "no_further_action",
              "Talk with the family of the other child", "SECRET-BEN-DECISION")
    _decision(school, dsl, i1, None, T0 + dt.timedelta(hours=4), "take_route",
              "Talk it through with the line", "Repeated pattern at the lockers")
    chronology.add_entry(amira, "safety_plan", "Safety plan agreed; keep apart from Larkspur",
                         author_id=dsl.id, incident=i1, occurred_at=T0 + dt.timedelta(days=1))

    i2 = _incident(school, dsl, "I0002", T0 + dt.timedelta(days=10),
                   "Online messages from Benedikt Larkspur to Amira Okonkwo",
                   [(amira, "harmed"), (ben, "harmed_others")])
    fix = Addendum(school_id=school.id, target_type="decisions", target_id=d1.id,
                   field="reasons", author_id=dsl.id, created_at=T0 + dt.timedelta(days=11))
    fix.correction = "Benedikt Larkspur's behaviour was repeated three times"
    fix.reason = "Dates checked with the class teacher"
    db.session.add(fix)
    db.session.commit()
    return {"school": school, "dsl": dsl, "staff": staff, "amira": amira, "ben": ben,
            "otis": otis, "carys": carys, "i1": i1, "i2": i2, "c1": c1}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def test_file_shows_chronology_across_incidents_without_other_names(
    app: Flask, client: FlaskClient
) -> None:
    w = build(app)
    assert sign_in(client, w["dsl"]).status_code == 302
    response = client.get(f"/children/{w['amira'].id}")
    assert response.status_code == 200
    html = _text(response.get_data(as_text=True))

    # The child's own details at the top.
    assert "Amira Okonkwo" in html and "C0001" in html and "1 May 2012" in html
    assert "Derbyshire" in html
    # Both incidents, the concern, the decisions with reasons, the entry and the correction.
    for text in ("Incident I0001", "Incident I0002", "Concern raised", "Early help for Amira",
                 "Repeated pattern at the lockers", "Safety plan agreed",
                 "Dates checked with the class teacher", "Online messages from"):
        assert text in html, text
    # The original reason stays beside its correction (R5).
    assert "BL (C0002)&#39;s behaviour is repeated" in html
    assert "BL (C0002)&#39;s behaviour was repeated three times" in html
    # R6: another child's name never appears, even typed into a narrative; initials+ref do.
    for name in ("Benedikt", "Larkspur", "benedikt", "LARKSPUR", "Carys", "Wethersby"):
        assert name.lower() not in html.lower(), name
    assert "BL (C0002)" in html and "CW (C0004)" in html
    # Decisions about another child are not in this child's file.
    assert "SECRET-BEN-DECISION" not in html
    # Same family group: the sibling's name may show.
    assert "Otis Okonkwo" in html
    assert "Witness" in html and "Harmed others" in html

    # Newest first by default; the toggle gives oldest first.
    assert html.index("Incident I0002") < html.index("Incident I0001")
    oldest = _text(client.get(f"/children/{w['amira'].id}?order=oldest").get_data(as_text=True))
    assert oldest.index("Incident I0001") < oldest.index("Incident I0002")
    assert oldest.index("Concern raised") < oldest.index("Incident I0001")

    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "child.file_viewed")
    ).all()
    assert len(events) == 2
    assert {e.object_id for e in events} == {str(w["amira"].id)}
    assert all(e.actor_id == w["dsl"].id for e in events)


def test_other_childs_file_redacts_the_first_child(app: Flask, client: FlaskClient) -> None:
    w = build(app)
    sign_in(client, w["dsl"])
    html = client.get(f"/children/{w['ben'].id}").get_data(as_text=True)
    assert "Benedikt Larkspur" in html
    assert "Amira" not in html and "Okonkwo" not in html
    assert "AO (C0001)" in html
    # The sibling is not in Benedikt's family: Otis is shown by initials and reference.
    assert "Otis" not in html and "OO (C0003)" in html
    # Amira's decision is hers alone.
    assert "Early help for" not in html


def test_print_view_is_clean_marked_and_audited(app: Flask, client: FlaskClient) -> None:
    w = build(app)
    sign_in(client, w["dsl"])
    response = client.get(f"/children/{w['amira'].id}/print")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("OFFICIAL-SENSITIVE") >= 2
    assert "Printed by Dana DSL on" in html
    assert "Hide this page" not in html and "/hide" not in html
    assert "govuk-service-navigation" not in html
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert "js/print.js" in html and "css/print.css" in html
    assert "data-portal-print" in html
    assert "Benedikt" not in html and "Larkspur" not in html and "BL (C0002)" in html
    assert "Incident I0001" in html and "Incident I0002" in html
    # Oldest first on paper unless asked.
    text = _text(html)
    assert text.index("Incident I0001") < text.index("Incident I0002")

    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.created")
    ).one()
    assert event.detail == {"kind": "child_file_print"}
    assert event.object_id == str(w["amira"].id)


def test_search_by_name_and_recent_children(app: Flask, client: FlaskClient) -> None:
    w = build(app)
    sign_in(client, w["dsl"])
    page = client.get("/children")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # What finds a child, said truly ("any part of their name" did not find "owen" in Ellowen,
    # walk 5), and the same on the incident's "Find a child".
    hint = ("Type the start of any of their names: first, family, the name they go by or a name "
            "recorded before")
    assert hint in html and "any part of their name" not in html
    assert "Recent children" in html and "C0001" in html

    token = csrf_from(page)

    def search(name: str) -> Any:
        return client.post("/children", data={"csrf_token": token, "name": name})

    found = search("okonkwo").get_data(as_text=True)
    assert "2 children match your search" in found
    assert f"/children/{w['amira'].id}" in found and f"/children/{w['otis'].id}" in found
    one = search("Benedikt Larkspur").get_data(as_text=True)
    assert "1 child matches your search" in one
    # Issue 13: the start of a word is enough for a DSL; a name nobody has finds nothing.
    start = search("Benedik").get_data(as_text=True)
    assert "1 child matches your search" in start
    none = search("Benedikx").get_data(as_text=True)
    assert "No children match your search" in none
    empty = search("")
    assert "Enter the child&#39;s name, or the start of it" in empty.get_data(as_text=True)
    # A name in the query string is never searched (it would be in every access log).
    assert "match your search" not in client.get("/children?name=okonkwo").get_data(as_text=True)

    searches = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "child.searched")
    ).all()
    assert [e.detail["results"] for e in searches] == [2, 1, 1, 0]


def _table_heads(html: str, caption: str) -> list[str]:
    table = html[html.index(caption):]
    table = table[:table.index("</thead>")]
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>.*?</th>", table)]


def test_a_column_no_child_of_the_list_has_is_left_out(app: Flask, client: FlaskClient) -> None:
    """A walk: "Recent children" showed an empty Year (and Goes by) beside every child added
    by hand; shown once a child of the list has one."""
    w = build(app)
    sign_in(client, w["dsl"])
    html = client.get("/children").get_data(as_text=True)
    assert _table_heads(html, "Recent children") == ["Name", "Date of birth", "Reference"]
    w["otis"].year_group, w["amira"].preferred_name = "Year 9", "Mira"
    db.session.commit()
    html = client.get("/children").get_data(as_text=True)
    assert _table_heads(html, "Recent children") == [
        "Name", "Goes by", "Date of birth", "Year", "Reference"]
    assert 'data-label="Year">Year 9<' in html and 'data-label="Goes by">Mira<' in html


def test_other_school_dsl_and_staff_get_404(app: Flask, client: FlaskClient) -> None:
    w = build(app)
    other = factories.school("Northgate College", "darlington")
    other_dsl = factories.user("dsl", org=other)
    db.session.commit()
    sign_in(client, other_dsl)
    for url in (f"/children/{w['amira'].id}", f"/children/{w['amira'].id}/print"):
        assert client.get(url).status_code == 404, url
    assert client.get("/children/not-a-uuid").status_code == 404

    staff_client = app.test_client()
    sign_in(staff_client, w["staff"])
    for url in ("/children", f"/children/{w['amira'].id}", f"/children/{w['amira'].id}/print"):
        assert staff_client.get(url).status_code == 404, url
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["child.file_viewed", "export.created"]))
    ).all()


def test_empty_file_and_entry_without_a_source(app: Flask, client: FlaskClient) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    lone = factories.child(school, given="Priya", family="Lonsdale")
    db.session.commit()
    sign_in(client, dsl)
    html = client.get(f"/children/{lone.id}").get_data(as_text=True)
    assert "Nothing has been recorded about Priya Lonsdale yet" in html
    entry = chronology.add_entry(lone, "note", "Met with parents", author_id=dsl.id)
    db.session.commit()
    html = client.get(f"/children/{lone.id}").get_data(as_text=True)
    assert "Met with parents" in html
    assert db.session.get(ChildRecordEntry, entry.id) is not None


def test_names_of_children_the_record_does_not_link_are_found_however_typed(
    app: Flask, client: FlaskClient
) -> None:
    """Staff type other pupils' names into a narrative in every way: possessive, quoted, in
    capitals, with two spaces, in a double-barrelled name, a family name of two words. Each
    becomes initials and reference; a given name alone is not taken for a name."""
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school)
    amira = factories.child(school, given="Amira", family="Okonkwo")
    others = {
        "quennell": factories.child(school, given="Saffi", family="Quennell"),
        "khan": factories.child(school, given="Idris", family="Khan"),
        "oakes": factories.child(school, given="Mary-Jane", family="Oakes"),
        "berg": factories.child(school, given="Pieter", family="van der Berg"),
        "oneil": factories.child(school, given="Tadhg", family="O'Neil"),
        "thornbury": factories.child(school, given="Wren", family="Thornbury"),
    }
    _concern(school, staff, [amira], T0, what_happened=(
        "QUENNELL's bag was thrown. \u201cKhan\u201d said the Khan-Smith twins saw it. "
        "Mary-Jane  Oakes and Pieter van der Berg were nearby; O'Neil's friend ran. "
        "Wren was not there."))
    db.session.commit()
    sign_in(client, dsl)
    html = _text(client.get(f"/children/{amira.id}").get_data(as_text=True)).replace(
        "&#39;", "'")
    for name in ("Quennell", "QUENNELL", "Khan", "Mary-Jane", "Oakes", "van der Berg",
                 "Pieter", "O'Neil", "Tadhg"):
        assert name.lower() not in html.lower(), name
    for key in ("quennell", "khan", "oakes", "berg", "oneil"):
        assert others[key].redacted_label in html, key
    # A given name alone names nobody for certain: "Wren" stays, and Wren Thornbury's label
    # is not there.
    assert "Wren was not there" in html
    assert others["thornbury"].redacted_label not in html
