"""Correcting a child's name (a walk: a name typed wrongly could not be put right anywhere),
and the names a child was recorded under before, still hidden in other children's files (R6)."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import AuditEvent, ChildRecordEntry, db
from portal.services import children as children_service
from tests.helpers.signing_in import COOKIE, csrf_from, sign_in, submit
from tests.web.test_child_file import build


def _text(response: Any) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _by_hand(*children: Any) -> None:
    for child in children:
        child.roll_status = "not_on_roll"
    db.session.commit()


def _carys_by_hand(client: FlaskClient, w: dict[str, Any]) -> Any:
    """Carys, added by hand (not on the roll), the DSL signed in."""
    _by_hand(w["carys"])
    sign_in(client, w["dsl"])
    return w["carys"]


def _correct(client: FlaskClient, child: Any, **data: str) -> Any:
    return submit(client, f"/children/{child.id}/name", data)


def test_a_dsl_corrects_a_name_typed_wrongly_and_the_file_says_what_it_was(
    app: Flask, client: FlaskClient
) -> None:
    w = build(app)
    carys = _carys_by_hand(client, w)
    page = client.get(f"/children/{carys.id}")
    assert f'href="/children/{carys.id}/name">Correct their name' in page.get_data(as_text=True)
    form = client.get(f"/children/{carys.id}/name")
    assert 'value="Carys"' in form.get_data(as_text=True)
    response = _correct(client, carys, given_name="Cerys", family_name="Weatherby-Ó Dálaigh",
                        preferred_name="", reasons="Her mother spelt it for us at the meeting.")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/children/{carys.id}"
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None and "Weatherby" not in json.dumps(
        app.session_interface.get_signing_serializer(app).loads(cookie.value))  # type: ignore[attr-defined]
    shown = _text(client.get(response.headers["Location"]))
    assert "The name is changed: Cerys Weatherby-Ó Dálaigh" in shown
    assert "Recorded before as Carys Wethersby" in " ".join(shown.split())
    # Who corrected it is the line's author, beside it (in its words, a pupil sharing the name
    # had it hidden as theirs).
    assert ("recorded by Dana DSL What was recorded Name corrected from “Carys Wethersby” to "
            "“Cerys Weatherby-Ó Dálaigh”, because: Her mother spelt it for us at the meeting.") \
        in " ".join(shown.split())
    # Found by the new name, and by the old (staff who knew her as Carys Wethersby); the audit
    # says which names changed, never the names.
    assert children_service.search(carys.school_id, "Dálaigh", partial=True).ids == [carys.id]
    assert children_service.search(carys.school_id, "Carys Wethersby",
                                   partial=True).ids == [carys.id]
    found = client.post("/children", data={"csrf_token": csrf_from(client.get("/children")),
                                            "name": "Wethersby"})
    assert "Recorded before as Carys Wethersby" in _text(found)
    assert "Cerys Weatherby-Ó Dálaigh" in _text(found)
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "child.details_updated")).one()
    assert event.detail == {"fields": ["given_name", "family_name"], "via": "name_corrected"}
    assert "Carys" not in json.dumps(event.detail) and "Cerys" not in json.dumps(event.detail)
    assert db.session.scalars(select(ChildRecordEntry.kind).where(
        ChildRecordEntry.child_id == carys.id)).all() == ["name_corrected"]


def test_names_recorded_before_are_still_hidden_in_other_childrens_files(
    app: Flask, client: FlaskClient
) -> None:
    """Benedikt is on Amira's records (linked), Carys only named in a text (found through the
    family names' index): both renamed, the texts written under the old names stay hidden."""
    w = build(app)
    amira, ben, carys = w["amira"], w["ben"], w["carys"]
    _by_hand(ben, carys)
    sign_in(client, w["dsl"])
    for child, given, family in ((ben, "Benedict", "Larkspurr"), (carys, "Cerys", "Weatherby")):
        assert _correct(client, child, given_name=given, family_name=family,
                        preferred_name="", reasons="Spelt wrongly").status_code == 302
    html = client.get(f"/children/{amira.id}").get_data(as_text=True)
    for old in ("Benedikt", "Larkspur", "LARKSPUR", "Carys", "Wethersby"):
        assert old not in html, old
    assert f"BL ({ben.reference}) always does this" in html
    assert f"CW ({carys.reference}) saw it" in html  # "Carys Wethersby saw it": her label


def test_a_name_changed_on_the_roll_is_kept_as_recorded_before(app: Flask) -> None:
    """The roll (and a merge) change names through `set_names`: the old ones are kept too."""
    w = build(app)
    ben = w["ben"]
    children_service.set_names(ben, given_name="Ben", family_name="Larkspur-Hale")
    children_service.set_names(ben, given_name="Ben", family_name="Hale")
    db.session.commit()
    assert ben.earlier_names == [("Benedikt", "Larkspur"), ("Ben", "Larkspur-Hale")]
    assert len((ben.former_family_indexes or "").split()) == 2
    children_service.set_names(ben, given_name="Ben", family_name="Hale")  # unchanged
    assert len(ben.earlier_names) == 2


def test_a_pupil_on_the_roll_is_told_where_their_name_is_corrected(
    app: Flask, client: FlaskClient
) -> None:
    w = build(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])
    page = _text(client.get(f"/children/{amira.id}/name"))
    assert ("Amira Okonkwo's names come from the school roll. Correct them in the school's "
            "information system, then import the roll again.") in page
    refused = _correct(client, amira, given_name="Amina", family_name="Okonkwo",
                       preferred_name="", reasons="Spelt wrongly")
    assert refused.status_code == 400
    assert "come from the school roll" in _text(refused)
    db.session.expire_all()
    assert amira.given_name == "Amira"


def test_a_correction_without_names_or_reasons_or_changing_nothing_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    w = build(app)
    carys = _carys_by_hand(client, w)
    refused = _correct(client, carys, given_name="Ceris", family_name="", preferred_name="",
                       reasons="")
    assert refused.status_code == 400
    shown = _text(refused)
    assert "Enter their family name" in shown and "Enter why the name is changed" in shown
    assert 'value="Ceris"' in refused.get_data(as_text=True)  # what was typed stays
    same = _correct(client, carys, given_name="Carys", family_name="Wethersby",
                    preferred_name="", reasons="Checked")
    assert "These are the names recorded now" in _text(same)
    too_long = _correct(client, carys, given_name="C" * 101, family_name="Wethersby",
                        preferred_name="", reasons="x" * 2001)
    shown = _text(too_long)
    assert "The given name must be 100 characters or fewer" in shown
    assert "The reasons must be 2,000 characters or fewer" in shown
    db.session.expire_all()
    assert (carys.given_name, carys.family_name) == ("Carys", "Wethersby")


def test_a_childs_own_names_are_never_taken_for_another_childs(app: Flask) -> None:
    """A walk: in Sam Ngugi's own file "Sam Ngugi was crying" read "Sam ZN (C0006) was
    crying": Zoë Ngugi, of another family, shares his family name (or had it before)."""
    from portal.services import chronology
    from tests import factories

    w = build(app)
    school = w["school"]
    sam = factories.child(school, given="Sam", family="Ngugi")
    zoe = factories.child(school, given="Zoë", family="Ngugi")
    jon = factories.child(school, given="Jon", family="Smyth")
    john = factories.child(school, given="Jon", family="Smyth")  # the same name, another child
    children_service.set_names(john, given_name="John", family_name="Smith")
    db.session.commit()
    assert chronology.redact("Sam Ngugi was crying; Zoë Ngugi hit him.", [zoe], sam) == (
        f"Sam Ngugi was crying; ZN ({zoe.reference}) hit him.")
    # John Smith, recorded before as Jon Smyth: Jon Smyth's own file keeps his own name.
    assert chronology.redact("Jon said his phone was taken.", [john], jon) == (
        "Jon said his phone was taken.")
    assert chronology.redact("John Smith took it.", [john], jon) == (
        f"JS ({john.reference}) took it.")


def test_a_name_corrected_in_another_tab_is_not_overwritten_silently(
    app: Flask, client: FlaskClient
) -> None:
    """Walks 3 and 4: the second tab's save undid the first's change. A part left as the page
    showed it takes the name as it is now; a part changed both ways is asked about."""
    w = build(app)
    carys = _carys_by_hand(client, w)
    url = f"/children/{carys.id}/name"
    tabs = [client.get(url) for _ in range(3)]
    reason = {"reasons": "Spelt wrongly"}

    def save(tab: Any, **names: str) -> Any:
        seen = re.search(r'name="seen" type="hidden" value="([^"]+)"',
                         tab.get_data(as_text=True))
        assert seen
        return client.post(url, data={"csrf_token": csrf_from(tab),
                                      "seen": htmllib.unescape(seen.group(1)),
                                      **names, **reason})

    names = {"given_name": "Carys", "family_name": "Wethersby", "preferred_name": ""}
    assert save(tabs[0], **{**names, "given_name": "Cerys"}).status_code == 302
    # Another part changed on an older page: both changes kept, nothing asked.
    assert save(tabs[1], **{**names, "preferred_name": "Cez"}).status_code == 302
    db.session.expire_all()
    assert (carys.given_name, carys.family_name, carys.preferred_name) == (
        "Cerys", "Wethersby", "Cez")
    # The same part changed both ways: asked, with what it is now and what was typed kept.
    refused = save(tabs[2], **{**names, "given_name": "Carys-Ann"})
    assert refused.status_code == 400
    assert ("The name was changed in another tab, or by someone else, since this page was "
            "opened: the given name is now “Cerys”. The boxes show it with your other "
            "changes: check them, then save again.") in " ".join(_text(refused).split())
    page = refused.get_data(as_text=True)
    assert 'value="Carys-Ann"' in page and 'value="Cez"' in page  # typed, and the other's
    db.session.expire_all()
    assert carys.given_name == "Cerys"
    # Saved again from that page, knowingly: it goes through, keeping the other tab's "Cez".
    assert save(refused, given_name="Carys-Ann", family_name="Wethersby",
                preferred_name="Cez").status_code == 302
    db.session.expire_all()
    assert (carys.given_name, carys.preferred_name) == ("Carys-Ann", "Cez")
    assert carys.earlier_names == [("Carys", "Wethersby"), ("Cerys", "Wethersby")]


def test_staff_finding_a_child_by_a_name_recorded_before_are_told_so(
    app: Flask, client: FlaskClient, other_client: FlaskClient
) -> None:
    """Walk 4: staff who typed "Jon Smyth" were offered "John Smith" with no word why."""
    from tests.helpers.concerns import post_form

    w = build(app)
    carys = _carys_by_hand(client, w)
    assert _correct(client, carys, given_name="Cerys", family_name="Weatherby",
                    preferred_name="", reasons="Spelt wrongly").status_code == 302
    sign_in(other_client, w["staff"])
    found = post_form(other_client, {"child_search": "Carys Wethersby"}, "find")
    assert found.status_code == 200
    assert (f"Cerys Weatherby ({carys.reference}), born {carys.dob.year}, recorded before as "
            "Carys Wethersby") in " ".join(_text(found).split())


def test_changing_only_the_name_a_child_goes_by_says_so(
    app: Flask, client: FlaskClient
) -> None:
    """Walk 4: adding "Cez" read "The name is changed: Carys Wethersby", as if it had not."""
    w = build(app)
    carys = _carys_by_hand(client, w)
    saved = _correct(client, carys, given_name="Carys", family_name="Wethersby",
                     preferred_name="Cez", reasons="She asked us to use it")
    assert saved.status_code == 302
    shown = " ".join(_text(client.get(saved.headers["Location"])).split())
    assert "The name Carys Wethersby goes by is changed" in shown
    assert "The name is changed" not in shown
    # The chronology says what changed, not "from “Carys Wethersby” to “Carys Wethersby”".
    assert ("recorded by Dana DSL What was recorded The name they go by recorded as “Cez”, "
            "because: She asked us to use it") in shown
    assert _correct(client, carys, given_name="Carys", family_name="Wethersby",
                    preferred_name="", reasons="She prefers Carys again").status_code == 302
    shown = " ".join(_text(client.get(f"/children/{carys.id}")).split())
    assert "The name they go by, “Cez”, removed, because: She prefers Carys again" in shown
    assert "Name corrected from" not in shown


def test_the_incidents_find_a_child_says_a_name_recorded_before(
    app: Flask, client: FlaskClient
) -> None:
    """Walk 5: "Laila" on the incident's "Find a child" offered "ليلى أحمد (C0008)" with no word
    why; it says so, as the children page and the concern form do."""
    from tests.helpers.incidents import start, world

    w = world(app)
    mia = w["mia"]
    mia.roll_status = "not_on_roll"
    db.session.commit()
    sign_in(client, w["dsl"])
    assert _correct(client, mia, given_name="ليلى", family_name="أحمد", preferred_name="",
                    reasons="Her name as her family writes it").status_code == 302
    iid = start(client, w["concern"])
    found = submit(client, f"/incidents/{iid}/children", {"name": "Mia Harm"})
    shown = " ".join(_text(found).split())
    assert f"ليلى أحمد ({mia.reference})" in shown
    assert "born 10 January 2014, recorded before as Mia Harmed" in shown


def test_a_referral_says_the_names_a_child_was_recorded_under_before(app: Flask) -> None:
    """Walk 5: the adviser's page and the PDF said "Goes by" but never the names the child was
    recorded under before, which the front door searches its own records by."""
    from portal.services import packet as packet_service
    from portal.services import referrals as referral_service
    from portal.services.children import set_names
    from tests import factories
    from tests.pdftext import extract
    from tests.referral_data import incident as make_incident
    from tests.referral_data import local

    factories.authority("derbyshire")
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school)
    laila = factories.child(school, "Laila", "Ahmed", dt.date(2013, 9, 9))
    set_names(laila, given_name="ليلى", family_name="أحمد", preferred_name=None)
    inc = make_incident(school, dsl, [(laila, "harmed")])
    referral, _ = referral_service.hand_over(inc, "derbyshire", dsl,
                                             now=local("2026-11-20T10:00"))
    db.session.commit()
    packet = json.loads(referral.packet or "{}")
    [child] = packet["children"]
    assert child["earlier_names"] == ["Laila Ahmed"]
    assert ("Recorded before as", "Laila Ahmed") in packet_service.child_details(child)
    pdf = " ".join(extract(packet_service.packet_pdf(packet)).split())
    assert "Recorded before as Laila Ahmed" in pdf
    # A reason that starts with her name reads left to right, the name first (the line was set
    # right to left and the name ended it, beside "Source").
    label = "A child was sexually harmed"
    reason = pdf[pdf.index(label) + len(label):]
    reason = reason[:reason.index("Source")]
    assert reason.index(laila.reference) < reason.index("was sexually harmed"), reason
