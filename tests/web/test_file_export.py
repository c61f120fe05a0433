"""Issue 16, parts 2, 3 and 5, through the real forms (CSRF on): a sealed export for a school not
on the portal (opens only with its passphrase, holds every record), its receipt link (confirms
once, shows no child detail) or a receipt recorded by hand, a file from the previous school as
the start of the chronology, and a copy for a subject access request that names no other child
and is recorded. Other schools' staff get 404 everywhere."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import (
    Attachment,
    AuditEvent,
    ChildRecordEntry,
    Decision,
    Disclosure,
    OutboxMessage,
    ReceivedFile,
    SealedExport,
    db,
)
from portal.refusal import Refused
from portal.services import attachments as attachment_service
from portal.services import file_export
from tests import factories
from tests.pdftext import extract
from tests.realfiles import small_pdf
from tests.web.conftest import csrf_from, sign_in, submit
from tests.web.test_child_file import build

RIVERSIDE = "Riverside Academy, Leeds"
PASSPHRASE = re.compile(r'data-testid="passphrase">([a-z-]+)<')
RECEIPT = re.compile(r'data-testid="receipt-link">([^<]+)<')
OTHER_NAMES = ("Benedikt", "Larkspur", "Carys", "Wethersby")


def _world(app: Flask) -> dict[str, Any]:
    """Amira's file (tests/web/test_child_file.py) with a file on her first incident."""
    w = build(app)
    store = app.extensions["attachments"]
    w["notes"] = small_pdf("Notes from the lockers")
    attachment_service.add_attachment(
        store, incident=w["i1"], uploader=w["dsl"], filename="Benedikt notes.pdf",
        description="Notes written by the class teacher", data=w["notes"],
        max_bytes=10 * 1024 * 1024)
    db.session.commit()
    return w


def _make_export(client: FlaskClient, w: dict[str, Any]) -> tuple[str, str]:
    """Make a sealed export through the form; (its page's address, the passphrase shown)."""
    amira = w["amira"]
    response = submit(client, f"/children/{amira.id}/send-outside",
                      {"receiving_school": RIVERSIDE})
    assert response.status_code == 302, response.get_data(as_text=True)
    page_url = response.headers["Location"]
    page = client.get(page_url).get_data(as_text=True)
    found = PASSPHRASE.search(page)
    assert found, "the passphrase is shown the first time"
    return page_url, found.group(1)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_sealed_export_opens_only_with_its_passphrase_and_holds_every_record(
    app: Flask, client: FlaskClient
) -> None:
    w = _world(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])
    page_url, passphrase = _make_export(client, w)

    # Seven words, shown once: the next view of the page does not show it, and it is not kept.
    assert len(passphrase.split("-")) == file_export.PASSPHRASE_WORDS
    again = client.get(page_url).get_data(as_text=True)
    assert passphrase not in again and "shown once" in again
    export = db.session.scalars(select(SealedExport)).one()
    assert export.passphrase_enc is None
    assert export.sealed_enc is not None and passphrase.encode() not in export.sealed_enc

    download = client.get(f"{page_url}/download")
    assert download.status_code == 200
    assert download.headers["Cache-Control"] == "no-store"
    assert download.mimetype == "application/zip"
    sealed = download.get_data()

    # Wrong passphrases fail; only the one shown opens it.
    for wrong in ("", passphrase.upper(), passphrase[:-1], "-".join(reversed(
            passphrase.split("-")))):
        with pytest.raises(Refused):
            file_export.unseal(sealed, wrong)
    files = file_export.unseal(sealed, passphrase)
    assert {"README.txt", "child-file.pdf", "child-file.json", "files/01.pdf"} <= set(files)
    # The names inside the zip (readable without the passphrase) say nothing about the child.
    assert not any("Amira" in name or "C0001" in name for name in files)

    data = json.loads(files["child-file.json"])
    assert data["child"]["name"] == "Amira Okonkwo" and data["child"]["reference"] == "C0001"
    assert data["sent_to"] == RIVERSIDE
    lines = data["chronology"]
    ids = {(line["kind"], line["id"]) for line in lines}
    # Every record of hers, compared with the records created.
    decisions = db.session.scalars(select(Decision).where(
        (Decision.child_id == amira.id) | Decision.child_id.is_(None))).all()
    entries = db.session.scalars(select(ChildRecordEntry).where(
        ChildRecordEntry.child_id == amira.id, ChildRecordEntry.kind == "safety_plan")).all()
    expected = ({("concern", str(w["c1"].id)), ("incident", str(w["i1"].id)),
                 ("incident", str(w["i2"].id))}
                | {("decision", str(d.id)) for d in decisions}
                | {("entry", str(e.id)) for e in entries})
    assert expected <= ids
    assert len(lines) == len(expected)
    text = json.dumps(data, ensure_ascii=False)
    for words in ("Physical incident by the lockers", "Early help for Amira",
                  "Repeated pattern at the lockers", "Safety plan agreed",
                  "behaviour was repeated three times", "Dates checked with the class teacher",
                  "Online messages from", "Notes written by the class teacher"):
        assert words in text, words
    # Other children only as initials and reference (R6); another child's decision not at all.
    for name in OTHER_NAMES:
        assert name.lower() not in text.lower(), name
    assert "BL (C0002)" in text and "SECRET-BEN-DECISION" not in text
    # The attached file, byte for byte, under the name the JSON gives it.
    listed = [f for line in lines for f in line["files"]]
    assert len(listed) == 1 and files[listed[0]["path"]] == w["notes"]

    pdf_text = extract(files["child-file.pdf"])
    assert "Amira Okonkwo" in pdf_text and "Repeated pattern at the lockers" in pdf_text
    assert "BL (C0002)" in pdf_text
    for name in OTHER_NAMES:
        assert name.lower() not in pdf_text.lower(), name

    actions = _actions()
    assert "export.sealed" in actions and "export.downloaded" in actions
    # The passphrase is in no audit event, chronology line or email.
    stored = json.dumps([e.detail for e in db.session.scalars(select(AuditEvent))])
    assert passphrase not in stored
    bodies = [e.body or "" for e in db.session.scalars(select(ChildRecordEntry))]
    assert not any(passphrase in b for b in bodies)
    assert any("sealed copy of this file was made to send to " + RIVERSIDE in b
               for b in bodies)
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_receipt_link_confirms_once_and_shows_no_child_detail(
    app: Flask, client: FlaskClient, other_client: FlaskClient
) -> None:
    w = _world(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])
    page_url, _passphrase = _make_export(client, w)
    page = client.get(page_url).get_data(as_text=True)
    link = RECEIPT.search(page)
    assert link
    path = "/" + link.group(1).split("/", 3)[3]
    assert path.startswith("/receipt/") and len(path) > 40

    # Awaiting receipt on the sending school's dashboard.
    board = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="count-awaiting-receipt">1<' in board
    assert f"Amira Okonkwo (C0001) to {RIVERSIDE}" in board

    # The receiving DSL, with no account: a page about a file from the school, nothing more.
    receipt = other_client.get(path)
    assert receipt.status_code == 200
    html = receipt.get_data(as_text=True)
    for detail in ("Amira", "Okonkwo", "C0001", "1 May 2012", RIVERSIDE, "I0001"):
        assert detail not in html, detail
    assert w["school"].name in html and "Confirm you received a file" in html

    missing = other_client.post(path, data={"csrf_token": csrf_from(html), "name": "",
                                             "role": "", "school": ""})
    assert missing.status_code == 400 and "Enter your full name" in missing.get_data(as_text=True)
    done = other_client.post(path, data={"csrf_token": csrf_from(html),
                                          "name": "Rhiannon Hughes",
                                          "role": "Designated safeguarding lead",
                                          "school": "Riverside Academy"})
    assert done.status_code == 303
    # A neutral thank-you at an address without the token: no school, no child.
    assert "/receipt/" not in done.headers["Location"]
    confirmed = other_client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Thank you, receipt confirmed" in confirmed
    for detail in ("Amira", "C0001", w["school"].name, RIVERSIDE):
        assert detail not in confirmed, detail
    # The token is now 404 (docs/file-export.md).
    assert other_client.get(path).status_code == 404

    # Once: a second tab's confirmation changes nothing, and says so.
    again = other_client.post(path, data={"csrf_token": csrf_from(html), "name": "Someone Else",
                                           "role": "Head", "school": "Elsewhere"})
    said = again.get_data(as_text=True)
    assert "Receipt already confirmed" in said and "details you entered were not recorded" in said
    assert "can now see that the file arrived" not in said and w["school"].name not in said
    export = db.session.scalars(select(SealedExport)).one()
    db.session.refresh(export)
    assert export.receipt_method == "link" and export.receipt_name == "Rhiannon Hughes"
    assert export.received_at is not None
    assert export.sealed_enc is None  # the portal keeps no copy once received
    assert _actions().count("export.received") == 1

    # The sender sees who confirmed; the dashboard no longer lists it; no more download.
    page = client.get(page_url).get_data(as_text=True)
    assert "Confirmed by Rhiannon Hughes, Designated safeguarding lead, Riverside Academy" in page
    assert client.get(f"{page_url}/download").status_code == 404
    board = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="count-awaiting-receipt">0<' in board
    chronology = client.get(f"/children/{amira.id}").get_data(as_text=True)
    assert "Receipt of the sealed file confirmed by Rhiannon Hughes" in chronology
    assert "Sealed file made" in chronology and "Sealed file received" in chronology

    # A made-up token is 404.
    assert other_client.get("/receipt/" + "x" * 43).status_code == 404


def test_manual_receipt_records_who_when_and_how(app: Flask, client: FlaskClient) -> None:
    w = _world(app)
    sign_in(client, w["dsl"])
    page_url, _passphrase = _make_export(client, w)
    form_url = f"{page_url}/receipt"
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    future = submit(client, form_url, {
        "name": "Rhiannon Hughes", "role": "Designated safeguarding lead",
        "school": "Riverside Academy", "how": "By phone to me",
        "on": [str(tomorrow.day), str(tomorrow.month), str(tomorrow.year)]})
    assert future.status_code == 400
    assert "must be today or in the past" in future.get_data(as_text=True)
    done = submit(client, form_url, {
        "name": "Rhiannon Hughes", "role": "Designated safeguarding lead",
        "school": "Riverside Academy", "how": "By phone to me",
        "on": ["3", "3", "2026"]})
    assert done.status_code == 302
    page = client.get(page_url).get_data(as_text=True)
    assert ("Confirmed by Rhiannon Hughes, Designated safeguarding lead, Riverside Academy, "
            "By phone to me, on 3 March 2026 (recorded by Dana DSL)") in page
    export = db.session.scalars(select(SealedExport)).one()
    assert export.receipt_method == "manual" and export.receipt_recorded_by_id == w["dsl"].id
    assert "export.received" in _actions()


def _upload_from_previous(client: FlaskClient, child_id: Any, data: bytes, name: str
                          ) -> Any:
    url = f"/children/{child_id}/from-previous-school"
    token = csrf_from(client.get(url))
    return client.post(url, data={
        "csrf_token": token, "file": (io.BytesIO(data), name),
        "previous_school": "Hillside Primary School", "received_on": ["2", "3", "2026"],
        "description": "Child protection file, 6 pages", "confirm": "y",
    }, content_type="multipart/form-data")


def test_file_from_the_previous_school_is_the_start_of_the_chronology(
    app: Flask, client: FlaskClient
) -> None:
    w = _world(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])

    # Checked as any upload: a text file is refused and nothing is kept.
    refused = _upload_from_previous(client, amira.id, b"just some text\n" * 10, "file.txt")
    assert refused.status_code == 400
    assert db.session.scalars(select(ReceivedFile)).all() == []

    document = small_pdf("Previous school chronology")
    response = _upload_from_previous(client, amira.id, document, "Previous file.pdf")
    assert response.status_code == 302
    oldest = client.get(f"/children/{amira.id}?order=oldest").get_data(as_text=True)
    headings = re.findall(r'<h3 class="govuk-heading-s govuk-!-margin-bottom-1">([^<]+)</h3>',
                          oldest)
    assert headings[0] == "File from the previous school"
    first = oldest[oldest.index("File from the previous school"):oldest.index(headings[1])]
    assert "Hillside Primary School" in first and "2 March 2026" in first
    assert "Previous file.pdf" in first and "Child protection file, 6 pages" in first
    newest = client.get(f"/children/{amira.id}").get_data(as_text=True)
    headings = re.findall(r'<h3 class="govuk-heading-s govuk-!-margin-bottom-1">([^<]+)</h3>',
                          newest)
    assert headings[-1] == "File from the previous school"

    row = db.session.scalars(select(ReceivedFile)).one()
    assert row.previous_school == "Hillside Primary School"
    assert row.received_on == dt.date(2026, 3, 2)
    attachment = db.session.get(Attachment, row.attachment_id)
    assert attachment is not None and attachment.incident_id is None
    download = client.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200 and download.get_data() == document
    assert "child.file_received" in _actions()

    # It goes with the file when the file is sent on.
    _page_url, passphrase = _make_export(client, w)
    export = db.session.scalars(select(SealedExport)).one()
    files = file_export.unseal(export.sealed or b"", passphrase)
    lines = json.loads(files["child-file.json"])["chronology"]
    assert lines[0]["from_previous_school"] is True
    assert document in files.values()


def test_subject_access_copy_names_no_other_child_and_is_recorded(
    app: Flask, client: FlaskClient
) -> None:
    w = _world(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])
    url = f"/children/{amira.id}/disclose"
    form = client.get(url).get_data(as_text=True)
    safety_plan = db.session.scalars(select(ChildRecordEntry).where(
        ChildRecordEntry.kind == "safety_plan")).one()
    anchor = f"entry-{safety_plan.id.hex}"
    assert f'value="{anchor}"' in form  # each line may be left out
    data = {"requester": "Grace Okonkwo, Amira's mother", "basis": "subject_access",
            "basis_detail": "Request received on 1 March 2026", "leave_out": [anchor]}
    unexplained = submit(client, url, data)
    assert unexplained.status_code == 400
    assert "Say what was left out of the copy and why" in unexplained.get_data(as_text=True)
    assert db.session.scalars(select(Disclosure)).all() == []
    response = submit(client, url, {
        **data, "withheld": "The safety plan, which names the staff who keep watch"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Subject access request" in html and "Grace Okonkwo" in html

    copy = client.get(response.headers["Location"] + "/copy.pdf")
    assert copy.status_code == 200 and copy.mimetype == "application/pdf"
    assert copy.headers["Cache-Control"] == "no-store"
    text = extract(copy.get_data())
    # Her own file, with a cover sheet first.
    assert text.index("Cover sheet") < text.index("Chronology, oldest first")
    for words in ("Amira Okonkwo", "Who asked for it", "Grace Okonkwo, Amira's mother",
                  "Subject access request", "Released by", "Dana DSL",
                  "The safety plan, which names the staff who keep watch",
                  "These lines of the chronology: A chronology entry, 3 March 2026.",
                  "Repeated pattern at the lockers"):
        assert words in " ".join(text.split()), words
    # The line left out is not in the copy; everything else is.
    assert "Safety plan agreed" not in text and "Online messages from" in text
    # No other child by name, not even her brother (same family group) Otis.
    for name in (*OTHER_NAMES, "Otis"):
        assert name.lower() not in text.lower(), name
    assert "BL (C0002)" in text and "OO (C0003)" in text

    # Recorded: in the chronology, the audit and with the exact copy released.
    row = db.session.scalars(select(Disclosure)).one()
    assert row.basis == "subject_access" and row.released_by_id == w["dsl"].id
    assert row.pdf == copy.get_data()
    file_page = client.get(f"/children/{amira.id}").get_data(as_text=True)
    assert "Copy released" in file_page
    assert "A copy of this file was released to Grace Okonkwo" in file_page
    assert "1 line of the chronology left out" in file_page
    assert "Safety plan agreed" in file_page  # left out of the copy, never out of the file
    assert "export.disclosed" in _actions()


def test_other_schools_and_staff_get_404(app: Flask, client: FlaskClient,
                                         other_client: FlaskClient) -> None:
    w = _world(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])
    page_url, _passphrase = _make_export(client, w)
    disclosed = submit(client, f"/children/{amira.id}/disclose", {
        "requester": "PC Aled Jones, West Yorkshire Police", "basis": "police"})
    assert disclosed.status_code == 302
    copy_url = disclosed.headers["Location"]

    elsewhere = factories.school(name="Oakfield School", urn="654321")
    outsider = factories.user("dsl", org=elsewhere, display_name="Olu Outsider")
    db.session.commit()
    urls = [f"/children/{amira.id}/send-outside", page_url, f"{page_url}/download",
            f"{page_url}/receipt", f"/children/{amira.id}/disclose", copy_url,
            f"{copy_url}/copy.pdf", f"/children/{amira.id}/from-previous-school"]
    for user in (outsider, w["staff"]):
        browser = app.test_client()
        sign_in(browser, user)
        for url in urls:
            assert browser.get(url).status_code == 404, (user.display_name, url)
        assert browser.post(f"/children/{amira.id}/send-outside", data={
            "receiving_school": "Anywhere"}).status_code in (400, 404)
    assert len(db.session.scalars(select(SealedExport)).all()) == 1
    sign_in(other_client, outsider)
    board = other_client.get("/dashboard").get_data(as_text=True)
    assert "Amira" not in board and 'data-testid="count-awaiting-receipt">0<' in board


def test_the_disclosure_form_keeps_what_was_typed_when_its_page_expired(
    app: Flask, client: FlaskClient
) -> None:
    from tests.web.test_concern_drafts import rescue_key_from

    w = _world(app)
    sign_in(client, w["dsl"])
    url = f"/children/{w['amira'].id}/disclose"
    page = client.get(url)
    response = client.post(url, data={
        "csrf_token": "expired", "rescue_key": rescue_key_from(page),
        "requester": "DC Morwenna Tregarthen, Devon and Cornwall Police", "basis": "police",
        "withheld": "The GP's letter, which is not ours to release"})
    assert response.status_code == 302 and response.headers["Location"] == url
    shown = client.get(url).get_data(as_text=True)
    assert "DC Morwenna Tregarthen" in shown and "not ours to release" in shown
    assert db.session.scalars(select(Disclosure)).all() == []


def test_a_file_from_the_previous_school_follows_a_merge(app: Flask, client: FlaskClient) -> None:
    from portal.services.child_merge import merge_children

    w = _world(app)
    again = factories.child(w["school"], given="Amira", family="Okonkwo")
    db.session.commit()
    sign_in(client, w["dsl"])
    response = _upload_from_previous(client, again.id, small_pdf("From before"), "Before.pdf")
    assert response.status_code == 302
    merge_children(w["dsl"], w["amira"], again, choices={}, reasons="The same child",
                   now=dt.datetime.now(dt.UTC))
    db.session.commit()
    page = client.get(f"/children/{w['amira'].id}?order=oldest").get_data(as_text=True)
    first = page[page.index(">File from the previous school</h3>"):]
    assert "Hillside Primary School" in first[:3000] and "Before.pdf" in first[:3000]


def test_the_cover_sheet_names_a_left_out_line_by_its_kind_and_day_only(
    app: Flask, client: FlaskClient
) -> None:
    """A decision's heading says what was decided: the cover sheet must not repeat it."""
    w = _world(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])
    route = db.session.scalars(select(Decision).where(
        Decision.kind == "take_route", Decision.child_id.is_(None))).one()
    url = f"/children/{amira.id}/disclose"
    response = submit(client, url, {
        "requester": "Grace Okonkwo, Amira's mother", "basis": "subject_access",
        "leave_out": [f"decision-{route.id.hex}"],
        "withheld": "Advice the school took, which is not her personal information"})
    assert response.status_code == 302
    text = " ".join(extract(client.get(response.headers["Location"] + "/copy.pdf")
                            .get_data()).split())
    assert "These lines of the chronology: A decision, 2 March 2026." in text
    assert "Talk it through with the line" not in text
    assert "Repeated pattern at the lockers" not in text


def test_a_sealed_file_made_by_mistake_can_be_withdrawn(
    app: Flask, client: FlaskClient, other_client: FlaskClient
) -> None:
    w = _world(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])
    page_url, _passphrase = _make_export(client, w)
    page = client.get(page_url).get_data(as_text=True)
    link = RECEIPT.search(page)
    assert link and "Withdraw this sealed file" in page
    path = "/" + link.group(1).split("/", 3)[3]
    receipt_form = other_client.get(path).get_data(as_text=True)
    board = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="count-awaiting-receipt">1<' in board

    # A confirm page first; the form needs its CSRF token.
    confirm = client.get(f"{page_url}/withdraw")
    assert confirm.status_code == 200
    assert "Withdraw the sealed file for " + RIVERSIDE in confirm.get_data(as_text=True)
    assert client.post(f"{page_url}/withdraw", data={}).status_code == 400
    done = submit(client, f"{page_url}/withdraw", {})
    assert done.status_code == 302 and done.headers["Location"] == page_url

    # The zip is gone, the receipt link answers 404, and it no longer awaits receipt.
    export = db.session.scalars(select(SealedExport)).one()
    db.session.refresh(export)
    assert export.sealed_enc is None and export.withdrawn_at is not None
    assert export.withdrawn_by_id == w["dsl"].id
    assert client.get(f"{page_url}/download").status_code == 404
    assert other_client.get(path).status_code == 404
    assert other_client.post(path, data={
        "csrf_token": csrf_from(receipt_form), "name": "Rhiannon Hughes",
        "role": "Designated safeguarding lead", "school": "Riverside Academy"}).status_code == 404
    shown = client.get(page_url).get_data(as_text=True)
    assert "Withdrawn by Dana DSL" in shown and RECEIPT.search(shown) is None
    assert "Download the sealed file" not in shown
    board = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="count-awaiting-receipt">0<' in board
    assert f"Amira Okonkwo (C0001) to {RIVERSIDE}" not in board

    # The chronology and the audit say it was withdrawn.
    file_page = client.get(f"/children/{amira.id}").get_data(as_text=True)
    assert "Sealed file withdrawn" in file_page
    assert "was withdrawn: it was made by mistake" in file_page
    assert "withdrawn " in file_page.split('data-testid="sealed-exports"')[1]
    assert _actions().count("export.withdrawn") == 1
    # Once: asking again changes nothing.
    assert client.get(f"{page_url}/withdraw").status_code == 302
    assert _actions().count("export.withdrawn") == 1


def test_the_file_lists_each_sealed_file_and_each_copy_once_oldest_first(
    app: Flask, client: FlaskClient
) -> None:
    """Read in one statement with the copies released (issue 15): two sealed files and two
    copies are each listed once, in the order they were made."""
    w = _world(app)
    amira = w["amira"]
    sign_in(client, w["dsl"])
    _make_export(client, w)
    _make_export(client, w)
    for requester in ("Grace Okonkwo, Amira's mother", "PC Ray Idowu, the police"):
        assert submit(client, f"/children/{amira.id}/disclose", {
            "requester": requester, "basis": "subject_access",
            "basis_detail": "Request received on 1 March 2026"}).status_code == 302
    page = client.get(f"/children/{amira.id}").get_data(as_text=True)
    sent = page.split('data-testid="sealed-exports"')[1].split("</ul>")[0]
    released = page.split('data-testid="disclosures"')[1].split("</ul>")[0]
    assert sent.count("<li>") == 2 and sent.count(f"To {RIVERSIDE}") == 2
    assert released.count("<li>") == 2
    assert released.index("Grace Okonkwo") < released.index("PC Ray Idowu")
