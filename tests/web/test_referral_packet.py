"""Issue 14, the packet: a referral a front door accepts without ringing the school back.

Through the pages with CSRF on: the DSL fills in what the roll lacks, adds their contact details,
each child's parents' agreement, a covering note and a file; previews exactly what will be sent;
confirms it. The adviser of that authority reads every field on the page, in the JSON and in the
PDF; the file travels (re-encrypted for the authority: its advisers only); the nudes rule keeps
images back; a version 1 packet stored before still reads.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal.models import Referral, ReferralAttachment, RollContact, db
from portal.services import attachments as attachment_service
from portal.services import parents
from portal.services import referrals as service
from portal.services.referral_files import NUDES_RULE
from tests import factories
from tests.helpers.files import PDF as PDF_BYTES
from tests.helpers.files import png_bytes
from tests.helpers.signing_in import csrf_from, sign_in, submit
from tests.pdftext import extract
from tests.referral_data import incident, local
from tests.web.handover_forms import confirm, preview

NOW = local("2026-11-20T10:00")  # a Friday morning


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    state = {"now": NOW}
    monkeypatch.setattr(service, "utcnow", lambda: state["now"])
    return state


def _carer(child: Any, priority: int, name: str, relationship: str, responsibility: bool | None,
           phones: str, email: str | None) -> None:
    contact = RollContact(school_id=child.school_id, child_id=child.id, priority=priority)
    contact.name = name
    contact.relationship = relationship
    contact.responsibility = responsibility
    contact.phones = phones
    contact.email = email
    db.session.add(contact)


@pytest.fixture
def world(app: Flask, clock: dict[str, dt.datetime]) -> dict[str, Any]:
    derbyshire = factories.authority("derbyshire")
    darlington = factories.authority("darlington")
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school, email="dsl@oak.example", display_name="Dana Lead")
    adviser = factories.user("la_adviser", org=derbyshire, email="adv@derbys.example")
    other_adviser = factories.user("la_adviser", org=darlington, email="adv@darl.example")
    li = factories.child(school, "小龙", "李", dt.date(2014, 3, 2), la_code="derbyshire")
    zoe = factories.child(school, "Zoë", "Ó Súilleabháin", dt.date(2012, 1, 9),
                          la_code="derbyshire")
    li.address = "12 Mill Lane, Matlock DE4 3AA"
    zoe.address = "Flat 3, 7 Bridge Street, Bakewell DE45 1DS"
    _carer(li, 1, "李娜", "Mother", True, "07700 900111\n01629 555111", "li.na@example.com")
    _carer(li, 2, "Wei Li", "Father", None, "07700 900112", None)
    _carer(zoe, 1, "Máire Ó Súilleabháin", "Mother", True, "07700 900222", "maire@example.ie")
    _carer(zoe, 2, "Pat Fenwick", "Step-father", False, "07700 900223", None)
    inc = incident(school, dsl, [(li, "harmed"), (zoe, "harmed_others")],
                   reported_at=local("2026-11-19T15:30"),
                   summary="An image was shared after repeated pressure in the park.",
                   words={li.reference: "She kept asking me for a photo."})
    db.session.flush()
    # R9: one child's parents told, the other's not (and why).
    parents.record_parents(dsl, inc, parents.ParentsInput(
        child_id=li.id, told=True, told_at_local=dt.datetime(2026, 11, 19, 17, 0),
        by_whom="Dana Lead", told_whom="李娜 (Mother)"), NOW)
    parents.record_parents(dsl, inc, parents.ParentsInput(
        child_id=zoe.id, told=False, reason="csc_advised"), NOW)
    db.session.commit()
    return {"derbyshire": derbyshire, "darlington": darlington, "school": school, "dsl": dsl,
            "adviser": adviser, "other_adviser": other_adviser, "li": li, "zoe": zoe,
            "incident": inc}


def _attach(app: Flask, w: dict[str, Any], data: bytes, name: str, description: str) -> uuid.UUID:
    attachment = attachment_service.add_attachment(
        app.extensions["attachments"], incident=w["incident"], uploader=w["dsl"],
        filename=name, description=description, data=data, max_bytes=10 * 1024 * 1024)
    db.session.commit()
    return attachment.id


def _url(w: dict[str, Any], code: str = "derbyshire") -> str:
    return f"/incidents/{w['incident'].id}/hand-over/{code}"


DETAILS = {
    # As the browser posts the form: the address from the roll is in it already.
    "li": {"address": "12 Mill Lane, Matlock DE4 3AA", "first_language": "Mandarin",
           "interpreter": "yes", "ethnicity": "Chinese",
           "religion": "Buddhist", "gp": "Dr Amara Okafor, Matlock Health Centre, 01629 555000",
           "other_agencies": "Early help: Sam Worker, 01629 555123\nCAMHS: Dr Rhys Pell"},
    "zoe": {"address": "Flat 3, 7 Bridge Street, Bakewell DE45 1DS", "first_language": "Irish",
            "interpreter": "no", "ethnicity": "White Irish",
            "religion": "", "gp": "Dr Niamh Byrne, Bakewell Surgery",
            "other_agencies": "Youth justice service: Kit Marlow"},
}
AGREE = {"li": ("yes", ""), "zoe": ("not_asked", "Children's social care advised us not to "
                                     "tell the family yet.")}
NOTE = ("Please call me before you contact Zoë's family: the step-father may be at the house. "
        "Li is safe in school today.")


def _pdf_text(data: bytes) -> str:
    """The text a reader gets from the PDF (tests/pdftext.py, as the PDF tests use)."""
    return " ".join(extract(data).split())


def test_a_referral_with_every_field_and_two_children_reaches_the_adviser(
        app: Flask, client: FlaskClient, other_client: FlaskClient, world: dict[str, Any]
) -> None:
    w = world
    file_id = _attach(app, w, PDF_BYTES, "strategy-notes.pdf", "Notes of the meeting with Li")
    sign_in(client, w["dsl"])

    # The form says what the referral lacks: each child's language... in one line a child with
    # one link to add them (a walk: a line and a link for each, eight a child on a phone).
    form_page = client.get(_url(w)).get_data(as_text=True)
    details_lines = re.findall(r"<li>Missing: ([^<]*) — <a[^>]*>add them<", form_page)
    assert len(details_lines) == 2, details_lines  # Li's and Zoë's
    assert all(line.startswith("first language") and ", GP" in line for line in details_lines)
    assert "Missing: home address" not in form_page  # from the roll
    assert "Missing: parents and carers" not in form_page
    for key in ("li", "zoe"):
        child = w[key]
        details_url = f"{_url(w)}/children/{child.id}"
        assert details_url in form_page
        saved = submit(client, details_url, DETAILS[key])
        assert saved.status_code == 302 and saved.headers["Location"].endswith(_url(w))
    form_page = client.get(_url(w)).get_data(as_text=True)
    assert "first language" not in form_page and "Missing: GP" not in form_page

    data: dict[str, Any] = {"covering_note": NOTE, "files": [str(file_id)]}
    for key, (answer, why) in AGREE.items():
        ref = w[key].reference
        data[f"agree_{ref}"] = answer
        data[f"agree_why_{ref}"] = why
    shown = preview(client, _url(w), data)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200, page
    # The preview is the adviser's rendering, and nothing is sent yet.
    assert "Check the referral to" in page and 'data-testid="packet-summary"' in page
    assert "Mandarin" in page and "Dr Niamh Byrne, Bakewell Surgery" in page
    assert "strategy-notes.pdf" in page
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0

    sent = confirm(client, _url(w), shown)
    assert sent.status_code == 302, sent.get_data(as_text=True)
    referral = db.session.scalars(select(Referral)).one()
    assert referral.schema_version == 2
    # The DSL's contact details are remembered for the next referral.
    again = client.get(f"/incidents/{w['incident'].id}/hand-over/darlington")
    if again.status_code == 200:
        assert "01234 567890" in again.get_data(as_text=True)
    # Sending the confirmation again hands over nothing more (exactly once).
    assert confirm(client, _url(w), shown).status_code in (302, 303)
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 1

    sign_in(other_client, w["adviser"])
    view = other_client.get(f"/referrals/{referral.id}")
    html = view.get_data(as_text=True)
    assert view.status_code == 200
    packet = json.loads(other_client.get(f"/referrals/{referral.id}/packet.json")
                        .get_data(as_text=True))
    pdf = _pdf_text(other_client.get(f"/referrals/{referral.id}/packet.pdf").get_data())

    # -- the JSON holds every field and both names intact --------------------------------
    assert packet["schema_version"] == 2
    dsl = packet["from"]["dsl"]
    assert (dsl["name"], dsl["role"], dsl["phone"], dsl["availability"]) == (
        "Dana Lead", "Designated safeguarding lead", "01234 567890", "Weekdays 8am to 5pm")
    assert packet["covering_note"] == NOTE
    li, zoe = packet["children"]
    assert (li["given_name"], li["family_name"]) == ("小龙", "李")
    assert (zoe["given_name"], zoe["family_name"]) == ("Zoë", "Ó Súilleabháin")
    assert li["address"] == "12 Mill Lane, Matlock DE4 3AA"
    assert li["parents_carers"] == [
        {"name": "李娜", "relationship": "Mother", "parental_responsibility": True,
         "phones": ["07700 900111", "01629 555111"], "email": "li.na@example.com",
         "address": None},
        {"name": "Wei Li", "relationship": "Father", "parental_responsibility": None,
         "phones": ["07700 900112"], "email": None, "address": None}]
    assert zoe["parents_carers"][1]["parental_responsibility"] is False
    assert (li["first_language"], li["interpreter_needed"], li["ethnicity"], li["religion"]) \
        == ("Mandarin", True, "Chinese", "Buddhist")
    assert (zoe["first_language"], zoe["interpreter_needed"], zoe["religion"]) == (
        "Irish", False, None)
    assert li["gp"] == DETAILS["li"]["gp"]
    assert li["other_agencies"] == ["Early help: Sam Worker, 01629 555123", "CAMHS: Dr Rhys Pell"]
    assert li["parents_told"]["told"] is True and li["parents_told"]["told_whom"] == "李娜 (Mother)"
    assert zoe["parents_told"]["told"] is False
    assert "children's social care" in zoe["parents_told"]["why_not"].lower()
    assert li["parents_agree"] == {"answer": "yes", "why": None}
    assert zoe["parents_agree"] == {"answer": "not_asked", "why": AGREE["zoe"][1]}
    [sent_file] = packet["attachments"]
    assert sent_file["name"] == "strategy-notes.pdf" and sent_file["id"]

    # -- the adviser's page ----------------------------------------------------------------
    # A Chinese name family name first, as it is written (it read "小龙 李").
    for text in ("李小龙", "Zoë Ó Súilleabháin", "12 Mill Lane, Matlock DE4 3AA", "李娜 (Mother)",
                 "Parental responsibility: not known", "07700 900111", "li.na@example.com",
                 "Mandarin", "White Irish", "Buddhist", "Dr Amara Okafor", "CAMHS: Dr Rhys Pell",
                 "Youth justice service: Kit Marlow", "01234 567890", "Weekdays 8am to 5pm",
                 "Designated safeguarding lead", "They have not been asked",
                 "strategy-notes.pdf"):
        assert text in html, text
    assert "Please call me before you contact Zoë&#39;s family" in html
    # A parent's or carer's numbers and email are links to call or write (an adviser on a
    # phone: a walk found them plain text).
    assert 'Phone: <a class="govuk-link" href="tel:07700900111">07700 900111</a>' in html
    # A second number is labelled as one (two lines both "Phone" read as a mistake, walk 4).
    assert ('Other phone: <a class="govuk-link" href="tel:01629555111">01629 555111</a>'
            in html)
    assert 'Email: <a class="govuk-link" href="mailto:li.na@example.com">li.na@example.com</a>' \
        in html

    # The rules name the children by reference: the adviser reads their names in each reason
    # (walk 4: "C0002 harmed others", the names further up the page).
    li_ref, zoe_ref = li["ref"], zoe["ref"]
    assert any(r["because"].startswith(f"{li_ref} (harmed) was 12")
               for r in packet["assessment"]["reasons"])  # the packet itself keeps references
    for shown_reasons in (html, pdf):
        assert f"李小龙 ({li_ref}, harmed) was 12 on 16 November 2026" in shown_reasons
        assert f"Zoë Ó Súilleabháin ({zoe_ref}) harmed others at 10 or over" in shown_reasons
        assert f"between 李小龙 ({li_ref}) and Zoë Ó Súilleabháin ({zoe_ref})" in shown_reasons
    # -- the PDF: every field, in every script ---------------------------------------------
    for text in ("李小龙", "李娜 (Mother)", "Zoë Ó Súilleabháin", "12 Mill Lane, Matlock DE4 3AA",
                 "Máire Ó Súilleabháin",
                 "Wei Li", "07700 900111", "li.na@example.com", "Mandarin",
                 "Interpreter needed Yes", "White Irish", "Buddhist",
                 "Dr Amara Okafor, Matlock Health Centre, 01629 555000", "CAMHS: Dr Rhys Pell",
                 "01234 567890", "Weekdays 8am to 5pm", "Designated safeguarding lead",
                 "Please call me before you contact", "They have not been asked",
                 "strategy-notes.pdf", "Parental responsibility: No",
                 "Other phone: 01629 555111"):
        assert text in pdf, text

    # -- the file travels: the authority's advisers read it, nobody else -------------------
    file_url = f"/referrals/{referral.id}/files/{sent_file['id']}"
    assert f'href="{file_url}"' in html
    got = other_client.get(file_url)
    assert got.status_code == 200 and got.get_data() == PDF_BYTES
    assert got.headers["Cache-Control"] == "no-store"
    copy = db.session.get(ReferralAttachment, uuid.UUID(sent_file["id"]))
    assert copy is not None and copy.local_authority_id == w["derbyshire"].id
    # Encrypted under the authority's key, not the school's.
    stored = (app.extensions["attachments"].path(copy.store_name)).read_bytes()
    assert PDF_BYTES[:20] not in stored
    assert client.get(file_url).status_code == 404  # the school's DSL
    with app.test_client() as third:
        sign_in(third, w["other_adviser"])
        assert third.get(file_url).status_code == 404  # another authority
        assert third.get(f"/referrals/{referral.id}").status_code == 404


def test_the_nudes_rule_keeps_images_back(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    w = world
    image_id = _attach(app, w, png_bytes(), "screenshot.png", "Screenshot of the messages")
    sign_in(client, w["dsl"])
    form_page = client.get(_url(w)).get_data(as_text=True)
    # The page explains, and the image cannot be ticked.
    assert "images of children&#39;s bodies are never passed on" in form_page
    assert f'value="{image_id}" disabled' in form_page
    # Posted anyway (a forged form), it is refused and nothing is sent.
    refused = preview(client, _url(w), {"files": [str(image_id)]})
    assert refused.status_code == 200
    assert NUDES_RULE.replace("'", "&#39;") in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReferralAttachment)) == 0


def test_a_preview_that_no_longer_matches_is_shown_again(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    w = world
    sign_in(client, w["dsl"])
    shown = preview(client, _url(w))
    # Another DSL changes the incident's summary after the preview.
    w["incident"].summary = "Changed after the preview."
    db.session.commit()
    again = confirm(client, _url(w), shown)
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert "changed after you previewed it" in page and "Changed after the preview." in page
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0
    assert confirm(client, _url(w), again).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 1


def test_the_hand_over_needs_the_referrers_phone_and_each_childs_answer(
        client: FlaskClient, world: dict[str, Any]) -> None:
    w = world
    sign_in(client, w["dsl"])
    page = client.get(_url(w))
    response = client.post(_url(w), data={"csrf_token": csrf_from(page), "step": "preview",
                                          "role": "DSL", "availability": "Any time",
                                          f"agree_{w['zoe'].reference}": "no"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter your direct phone number" in html
    assert "Choose whether their parents or carers agree" in html
    assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


# A packet stored before version 2 (issue 13), exactly as the portal wrote it then.
V1_PACKET = {
    "schema": "safeguarding-portal/referral", "schema_version": 1,
    "referral_id": "3f9a12c0-6a1e-4c55-9d0b-2f1f6f0a7b11", "reference": "R-3F9A12C0",
    "created_at": "2026-11-20T18:50:00Z",
    "to": {"local_authority": "derbyshire", "name": "Derbyshire County Council",
           "convening": True},
    "convening_authority": {"local_authority": "derbyshire", "name": "Derbyshire County Council"},
    "authorities_involved": [{"local_authority": "derbyshire",
                              "name": "Derbyshire County Council", "convening": True}],
    "from": {"school": {"name": "Oakfield Academy", "urn": "100000"},
             "dsl": {"name": "Dana Lead", "email": "dsl@oak.example",
                     "school": "Oakfield Academy"}},
    "incident": {"reference": "I0001", "occurred_on": "2026-11-16",
                 "reported_at": "2026-11-20T18:30", "types": ["nudes_sharing"],
                 "features": ["coercion"], "online": True, "sexual_activity": False,
                 "immediate_danger": True, "crime_suspected": False, "arrested": False,
                 "adults_harmed": [], "summary": "Image shared after repeated pressure.",
                 "concerns": []},
    "children": [{"ref": "C0001", "given_name": "Mia", "family_name": "Harbottle",
                  "role": "harmed", "role_label": "Harmed", "dob": "2014-03-02", "age": 12,
                  "send": False, "local_authority": "derbyshire", "same_school": True,
                  "household": None, "child_words": "He kept asking.",
                  "child_words_missing_reason": None}],
    "assessment": None,
    "school_actions": {"decisions": [], "consultation_calls": []},
}


def _stored(w: dict[str, Any], packet: dict[str, Any]) -> Referral:
    """A referral of version 1 sent with `packet`, as the portal stored it then."""
    referral = Referral(id=uuid.uuid4(), incident_id=w["incident"].id,
                        school_id=w["school"].id, local_authority_id=w["derbyshire"].id,
                        convening=True, state="sent", schema_version=1,
                        sent_by_id=w["dsl"].id, sent_at=NOW)
    referral.packet = json.dumps(packet)
    db.session.add(referral)
    db.session.commit()
    return referral


def test_a_version_1_packet_still_reads(
        other_client: FlaskClient, world: dict[str, Any]) -> None:
    w = world
    referral = _stored(w, V1_PACKET)
    sign_in(other_client, w["adviser"])
    page = other_client.get(f"/referrals/{referral.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Mia Harbottle" in html and "He kept asking." in html and "Dana Lead" in html
    assert "Image shared after repeated pressure." in html
    assert "Parents and carers" not in html  # not in a version 1 packet: not made up
    pdf = _pdf_text(other_client.get(f"/referrals/{referral.id}/packet.pdf").get_data())
    assert "Mia Harbottle" in pdf and "He kept asking." in pdf and "Dana Lead" in pdf
    assert "Schema version 1" in pdf
    assert "Home address" not in pdf
    raw = json.loads(other_client.get(f"/referrals/{referral.id}/packet.json").get_data())
    assert raw == V1_PACKET


def test_the_summary_joins_its_lists_mid_sentence_and_sets_what_happened_as_body_text(
        other_client: FlaskClient, world: dict[str, Any]) -> None:
    """Walk 10: "Coercion or pressure and An image ..." (a capital where a list is joined) and
    "What happened" in smaller type than the rest of the summary. The PDF says the same."""
    w = world
    packet = json.loads(json.dumps(V1_PACKET))
    packet["incident"]["types"] = ["sexual_harassment", "upskirting"]
    packet["incident"]["features"] = ["coercion", "distributed"]
    referral = _stored(w, packet)
    sign_in(other_client, w["adviser"])
    html = other_client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    serious = "Coercion or pressure and an image or sexual content was passed on"
    kinds = "Sexual harassment and upskirting"
    summary = html[html.index('data-testid="referral-summary"'):]
    summary = summary[:summary.index("</dl>")]
    assert serious in summary and kinds in summary
    assert " and An " not in html and " and Upskirting" not in html
    what = summary[summary.index('data-testid="summary-text"'):]
    what = what[:what.index("</dd>")]
    assert "Image shared after repeated pressure." in what
    assert "govuk-body-s" not in what  # the summary's other answers are body text too
    pdf = _pdf_text(other_client.get(f"/referrals/{referral.id}/packet.pdf").get_data())
    assert f"What made it serious {serious}" in pdf and f"What kind {kinds}" in pdf


def test_a_calls_typed_lines_keep_their_breaks_and_each_its_direction(
        other_client: FlaskClient, world: dict[str, Any]) -> None:
    """A walk: advice typed as an English line then an Arabic one ran together on one line,
    the English without its full stop and the Arabic one's at its wrong end."""
    w = world
    packet = json.loads(json.dumps(V1_PACKET))
    packet["school_actions"]["consultation_calls"] = [{
        "called_at": "2026-11-20T18:40:00Z", "local_authority": "derbyshire",
        "recorded_by": "Dana Lead", "spoke_to": "Sam Duty, duty social worker",
        "advice": "Make a referral today\nقدموا إحالة اليوم", "decision": "Refer today.",  # noqa: RUF001
        "reasons": "Her age"}]
    referral = _stored(w, packet)
    sign_in(other_client, w["adviser"])
    html = other_client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    call = html[html.index('<p class="govuk-body portal-lines">Call to'):]
    call = call[:call.index("</p>")]
    assert ('Advice: <span dir="ltr">Make a referral today</span>\n'
            '<span dir="rtl">قدموا إحالة اليوم.</span> Decision: Refer today. '
            "Reasons: Her age.") in call


def test_each_concern_says_when_it_happened_in_the_pdf(app: Flask) -> None:
    """Walk 5: the PDF printed "When -" beside each concern that gave its date; it prints the
    date and the time the staff member gave, and the adviser's page says them too."""
    from portal.services import packet as packet_service
    from portal.services import referrals as referral_service
    from tests.referral_data import incident as make_incident

    factories.authority("derbyshire")
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school)
    mia = factories.child(school, "Mia", "Harbottle", dt.date(2014, 3, 2))
    inc = make_incident(school, dsl, [(mia, "harmed")], concern_text="Mia told me at break.")
    referral, _ = referral_service.hand_over(inc, "derbyshire", dsl, now=local("2026-11-20T10:00"))
    db.session.commit()
    packet = json.loads(referral.packet or "{}")
    [concern] = packet["incident"]["concerns"]
    assert packet_service.concern_when(concern) == "16 November 2026"
    assert packet_service.concern_when({**concern, "when": "after lunch"}) == (
        "16 November 2026, after lunch")
    assert packet_service.concern_when({"occurred_on": None, "when": None}) is None
    pdf = _pdf_text(packet_service.packet_pdf(packet))
    start = pdf.index("Concern 1 as raised by staff")
    raised = pdf[start:pdf.index("What happened", start)]
    when = raised[raised.index("When"):raised.index("Where")]  # (a page may break between)
    assert when.endswith("16 November 2026 ") and "When -" not in pdf
