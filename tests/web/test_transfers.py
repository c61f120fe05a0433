"""Sending a child's file to their next school on the portal (issue 16, item 1): the whole file
goes, other children only as initials and reference; the receiving DSLs are emailed (no child
detail) and accept it (the receipt, shown to both schools); both see the 5-school-day clock,
overdue across a half-term and a bank holiday; the sending school's copy is read-only; other
schools and staff get 404. Real forms and sign-in, CSRF on."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from portal import notify, wording
from portal.models import (
    Child,
    ChildRecordEntry,
    Decision,
    FileTransfer,
    IncidentConcern,
    SchoolTerm,
    TransferAttachment,
    User,
    db,
    keyring,
)
from portal.services import attachments as attachment_service
from portal.services import referrals
from portal.services.roll import UPN_INDEX
from tests import factories
from tests.web.conftest import csrf_from, sign_in
from tests.web.test_attachments import PDF
from tests.web.test_child_file import _concern, _decision, _incident

# Thursday 14 May 2026, 10am in London. Oakfield's summer term has its half-term 18-22 May;
# Monday 25 May is a bank holiday: the file is due by Friday 29 May.
SENT = dt.datetime(2026, 5, 14, 9, 0, tzinfo=dt.UTC)
DUE_DAY = dt.datetime(2026, 5, 29, 15, 0, tzinfo=dt.UTC)
AFTER = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"')
_HIDDEN2 = re.compile(r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"')


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    state = {"now": SENT}
    monkeypatch.setattr(referrals, "utcnow", lambda: state["now"])
    return state


@pytest.fixture
def world(app: Flask, clock: dict[str, dt.datetime]) -> dict[str, Any]:
    oak = factories.school("Oakfield Academy")
    brook = factories.school("Brookside Primary")
    cedar = factories.school("Cedar School")
    dana = factories.user("dsl", org=oak, display_name="Dana Fairweather")
    rhys = factories.user("dsl", org=brook, display_name="Rhys Penhallow")
    brook_staff = factories.user("staff", org=brook, display_name="Sam Ellery")
    cedar_dsl = factories.user("dsl", org=cedar, display_name="Cleo Marchbank")
    amira = factories.child(oak, given="Amira", family="Okonkwo")
    amira.upn = "A123456789012"
    amira.upn_index = keyring().blind_indexer(str(oak.id), UPN_INDEX)("a123456789012")
    ben = factories.child(oak, given="Benedikt", family="Larkspur")
    at = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    incident = _incident(oak, dana, "I0001", at, "Benedikt Larkspur pushed Amira at lunch.",
                         [(amira, "harmed"), (ben, "harmer")])
    _decision(oak, dana, incident, amira, at + dt.timedelta(hours=1), "early_help",
              "Early help assessment", "Amira said Benedikt took her lunch money too.")
    attachment_service.add_attachment(
        app.extensions["attachments"], incident=incident, uploader=dana,
        filename="statement.pdf", description="Amira's statement", data=PDF,
        max_bytes=10 * 1024 * 1024)
    db.session.add(SchoolTerm(school_id=oak.id, starts_on=dt.date(2026, 4, 13),
                              ends_on=dt.date(2026, 7, 22), half_term_starts=dt.date(2026, 5, 18),
                              half_term_ends=dt.date(2026, 5, 22)))
    db.session.commit()
    return {"oak": oak, "brook": brook, "dana": dana, "rhys": rhys, "staff": brook_staff,
            "cedar_dsl": cedar_dsl, "amira": amira, "ben": ben, "incident": incident}


def _hidden(html: str) -> dict[str, str]:
    return {**dict(_HIDDEN2.findall(html)), **dict(_HIDDEN.findall(html))}


def _send(client: FlaskClient, w: dict[str, Any], child: Any = None, school: Any = None,
          ) -> FileTransfer:
    child = child or w["amira"]
    school = school or w["brook"]
    url = f"/children/{child.id}/transfer"
    page = client.get(url)
    assert page.status_code == 200
    assert school.name in page.get_data(as_text=True)
    chosen = client.post(url, data={
        "csrf_token": csrf_from(page), "school": str(school.id),
        "moved_on": ["14", "5", "2026"]})
    assert chosen.status_code == 302  # to the check page: Back never re-posts the choice
    confirm = client.get(chosen.headers["Location"])
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "Check what will be sent" in html
    # A child the roll still lists is said to be (a walk sent one), and it can be called off.
    assert ('data-testid="still-on-roll"' in html) == (child.roll_status == "on_roll")
    assert f'href="/children/{child.id}">Cancel: do not send the file' in html
    assert "1 attached file" in html and school.name in html
    assert f"school number {school.urn}" in html  # two schools of one name told apart
    before = db.session.scalar(select(func.count()).select_from(FileTransfer))
    sent = client.post(f"{url}/send", data=_hidden(html))
    assert sent.status_code == 302
    transfer = db.session.scalar(select(FileTransfer).where(FileTransfer.child_id == child.id)
                                 .order_by(FileTransfer.sent_at.desc()).limit(1))
    assert transfer is not None
    assert db.session.scalar(select(func.count()).select_from(FileTransfer)) == before + 1
    assert sent.headers["Location"].endswith(f"/transfers/{transfer.id}")
    return transfer



def _received(app: Flask, w: dict[str, Any], transfer: FileTransfer, match: str
              ) -> tuple[FlaskClient, TestResponse]:
    """The receiving school's DSL (Rhys) opens the file sent and accepts it as `match` (a
    pupil's id, or "new"): their client and the answer."""
    other = app.test_client()
    sign_in(other, w["rhys"])
    page = other.get(f"/transfers/{transfer.id}")
    return other, other.post(f"/transfers/{transfer.id}/accept", data={
        "csrf_token": csrf_from(page), "match": match})

def test_transfer_between_two_schools(app: Flask, client: FlaskClient, world: dict[str, Any],
                                      clock: dict[str, dt.datetime]) -> None:
    w = world
    sign_in(client, w["dana"])
    transfer = _send(client, w)

    # The receiving school's DSL is emailed, through the outbox, with nothing about the child.
    messages = [m for m in notify.outbox() if m["To"] == w["rhys"].email]
    assert len(messages) == 1
    body = messages[0].get_content()
    assert f"/transfers/{transfer.id}" in body
    for word in ("Amira", "Okonkwo", "Oakfield", "Benedikt"):
        assert word not in body and word not in messages[0]["Subject"]

    # The packet and the file's copy are the receiving school's, re-encrypted (not copied).
    copy = db.session.scalar(select(TransferAttachment))
    assert copy is not None and copy.to_school_id == w["brook"].id
    assert b"Amira" not in (transfer.packet_enc or b"")

    # The sending school: the child's page says where it went; the copy is read-only.
    page = client.get(f"/children/{w['amira'].id}").get_data(as_text=True)
    assert "sent to Brookside Primary" in page and "read-only" in page
    form = client.get(f"/incidents/{w['incident'].id}/decisions/new")
    # The decision's form does not offer her, and says why (a walk typed one, then refused).
    offered = html_lib.unescape(form.get_data(as_text=True))
    assert f'value="{w["amira"].id}"' not in offered and f'value="{w["ben"].id}"' in offered
    assert ("Not listed, as their file was sent to their new school: Amira Okonkwo"
            in offered)
    # Closing the incident asks nothing more about her (it could never have closed, a walk).
    from portal.services.incidents import closing_check
    waiting_for = " ".join(p.message for p in closing_check(w["incident"]))
    assert "Amira" not in waiting_for and "Benedikt Larkspur" in waiting_for
    # Her parents' form, reached by its address, says so on opening (not once typed).
    parents = client.get(f"/incidents/{w['incident'].id}/children/{w['amira'].id}/parents")
    assert parents.status_code == 409 and "read-only" in parents.get_data(as_text=True)
    assert "Nothing was saved" not in parents.get_data(as_text=True)
    # A page opened before the send still names her: refused, what was typed shown back.
    refused = client.post(f"/incidents/{w['incident'].id}/decisions/new", data={
        "csrf_token": csrf_from(form), "kind": "early_help", "child": str(w["amira"].id),
        "reasons": "A further assessment was agreed with the family."})
    assert refused.status_code == 409
    assert "read-only" in refused.get_data(as_text=True)
    # A way back to the incident, not only the home page (a walk).
    assert (f'href="/incidents/{w["incident"].id}" class="govuk-link" data-testid="go-back">'
            "Go back to the incident</a>") in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 1
    # What was typed is shown back to copy (a walk lost a call's 2,600 characters here).
    kept = html_lib.unescape(refused.get_data(as_text=True))
    assert "What you typed" in kept
    assert '>A further assessment was agreed with the family.</div>' in kept
    assert "csrf" not in kept[kept.index("What you typed"):].lower()
    # Its "send the file" page opened again says it was sent, to whom and when, in words
    # (walk 10: it answered 409 "Nothing was saved" to a GET); its form sent again is refused.
    again = client.get(f"/children/{w['amira'].id}/transfer")
    assert again.status_code == 200
    said = html_lib.unescape(again.get_data(as_text=True))
    assert "This child's file has already been sent" in said
    assert (f"It was sent to Brookside Primary on {wording.when(transfer.sent_at)} by "
            f"{w['dana'].display_name}.") in said
    assert f"/transfers/{transfer.id}" in said and f"/children/{w['amira'].id}\"" in said
    assert "Nothing was saved" not in said
    shown = said[said.index("<h1"):said.index("</main>")]
    assert not re.search(r"\d{4}-\d{2}-\d{2}", shown)  # no ISO date shown
    resent = client.post(f"/children/{w['amira'].id}/transfer", data={
        "csrf_token": csrf_from(again), "school": str(w["brook"].id),
        "moved_on": ["14", "5", "2026"]})
    assert resent.status_code == 409 and "Nothing was saved" in resent.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FileTransfer)) == 1
    # A decision about another child of that incident is still written.
    form = client.get(f"/incidents/{w['incident'].id}/decisions/new")
    client.post(f"/incidents/{w['incident'].id}/decisions/new", data={
        "csrf_token": csrf_from(form), "kind": "early_help", "child": str(w["ben"].id),
        "reasons": "Benedikt will have a mentor at lunchtimes."})
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 2

    # The sender sees the clock, waiting for the receipt.
    sender_view = client.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert "Not yet accepted by Brookside Primary" in sender_view
    assert "Due by 29 May 2026" in sender_view
    assert "pushed Amira" not in sender_view  # what was sent is the receiver's to read

    # The receiving DSL: on the dashboard, the whole file, other children as initials only.
    other = app.test_client()
    sign_in(other, w["rhys"])
    board = other.get("/dashboard").get_data(as_text=True)
    assert "A child from Oakfield Academy: accept the file" in board
    assert "Due by 29 May 2026" in board
    response = other.get(f"/transfers/{transfer.id}")
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "Amira Okonkwo" in html
    assert "pushed Amira at lunch" in html and "Early help" in html
    assert "Amira said BL (C0002) took her lunch money too." in html
    # A number in a text is the sending school's: said once, above the chronology (a walk).
    note = html_lib.unescape(html[html.index('data-testid="references-note"'):])
    assert note.startswith('data-testid="references-note">Other children appear as their '
                           "initials and reference number, in the texts too.")
    assert "(Oakfield Academy unless the line says otherwise), not your school's" in note
    # Each text as typed: its line breaks kept and its direction its own.
    assert 'class="govuk-summary-list__value portal-pre" dir="ltr">Amira said BL' in html
    assert "Benedikt" not in html and "Larkspur" not in html
    assert "BL (C0002)" in html
    assert "statement.pdf" in html
    download = other.get(f"/transfers/files/{copy.id}")
    assert download.status_code == 200 and download.data == PDF

    # Accepting is the receipt: a new pupil of Brookside, with a line saying what came.
    clock["now"] = SENT + dt.timedelta(days=1)
    page = other.get(f"/transfers/{transfer.id}")
    accepted = other.post(f"/transfers/{transfer.id}/accept", data={
        "csrf_token": csrf_from(page), "match": "new"})
    assert accepted.status_code == 302
    received = db.session.scalar(select(Child).where(Child.school_id == w["brook"].id))
    assert received is not None and received.full_name == "Amira Okonkwo"
    assert received.upn == "A123456789012"
    line = db.session.scalar(select(ChildRecordEntry).where(
        ChildRecordEntry.child_id == received.id))
    assert line is not None and "received from Oakfield Academy" in (line.body or "")
    child_page = other.get(f"/children/{received.id}").get_data(as_text=True)
    assert "Child protection file from Oakfield Academy" in child_page
    # Her printed file holds what came, whole (a walk: it held only "File received", and a DSL
    # took it to a strategy meeting without her history), its references said to be the
    # sending school's.
    printed = html_lib.unescape(other.get(f"/children/{received.id}/print").get_data(
        as_text=True))
    came = printed[printed.index("File from Oakfield Academy, received 15 May 2026"):]
    assert "pushed Amira at lunch" in came and "Early help" in came
    assert "Amira said BL (C0002) took her lunch money too." in came
    assert "(Oakfield Academy unless the line says otherwise), not your school's" in came
    assert "statement.pdf" in came
    assert "Benedikt" not in printed and "Larkspur" not in printed
    receipt = "Accepted by Rhys Penhallow on 15 May 2026 at 10:00am"
    assert receipt in other.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    # ...and the sending school sees the same receipt.
    assert receipt in client.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert "Received: accepted by Rhys Penhallow" in client.get(
        f"/children/{w['amira'].id}").get_data(as_text=True)
    assert "accept the file" not in other.get("/dashboard").get_data(as_text=True)
    # The sending school's DSL is told by email too, with nothing about the child or either
    # school (a walk: the sender only found out by looking).
    told = [m for m in notify.outbox() if m["To"] == w["dana"].email]
    assert [m["Subject"] for m in told] == ["A child protection file you sent has been accepted"]
    body = told[0].get_content()
    assert f"/transfers/{transfer.id}" in body
    for word in ("Amira", "Okonkwo", "Oakfield", "Brookside", "Rhys"):
        assert word not in body


def test_the_file_goes_on_to_the_next_school_with_what_came_before(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    w = world
    sign_in(client, w["dana"])
    first = _send(client, w)
    rhys = app.test_client()
    sign_in(rhys, w["rhys"])
    page = rhys.get(f"/transfers/{first.id}")
    rhys.post(f"/transfers/{first.id}/accept", data={"csrf_token": csrf_from(page),
                                                      "match": "new"})
    db.session.expire_all()
    at_brook = db.session.get(Child, db.session.get(FileTransfer, first.id).received_child_id)
    assert at_brook is not None
    cedar = db.session.get(User, w["cedar_dsl"].id).school
    onward = _send(rhys, w, child=at_brook, school=cedar)
    other = app.test_client()
    sign_in(other, w["cedar_dsl"])
    html = other.get(f"/transfers/{onward.id}").get_data(as_text=True)
    assert "pushed Amira at lunch" in html and "at Oakfield Academy" in html
    assert "received from Oakfield Academy" in html
    assert "Benedikt" not in html
    copy = db.session.scalar(select(TransferAttachment).where(
        TransferAttachment.transfer_id == onward.id))
    assert copy is not None and copy.to_school_id == cedar.id
    assert other.get(f"/transfers/files/{copy.id}").data == PDF


def test_a_second_file_matches_the_pupil_already_there(app: Flask, client: FlaskClient,
                                                       world: dict[str, Any]) -> None:
    w = world
    already = factories.child(w["brook"], given="Amira", family="Okonkwo")
    db.session.commit()
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    other, accepted = _received(app, w, transfer, str(already.id))
    assert accepted.status_code == 302
    assert already.reference in other.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Child)
                             .where(Child.school_id == w["brook"].id)) == 1
    assert db.session.get(FileTransfer, transfer.id).received_child_id == already.id


def test_overdue_after_five_school_days_across_half_term_and_bank_holiday(
        app: Flask, client: FlaskClient, world: dict[str, Any],
        clock: dict[str, dt.datetime]) -> None:
    w = world
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    other = app.test_client()
    sign_in(other, w["rhys"])

    clock["now"] = DUE_DAY  # the fifth school day: still in time
    for c in (client, other):
        board = c.get("/dashboard").get_data(as_text=True)
        assert "Child protection files overdue" not in board
        assert "Due today, 29 May 2026" in board

    clock["now"] = AFTER  # Monday 1 June: overdue, at the top of both dashboards
    for c in (client, other):
        board = c.get("/dashboard").get_data(as_text=True)
        assert "Child protection files overdue" in board
        assert board.index("Child protection files overdue") < board.index('id="overdue"')
        # The tag says "Overdue" once; the words say when it was due (never "Overdue Overdue").
        for shown in (board, c.get(f"/transfers/{transfer.id}").get_data(as_text=True)):
            assert re.search(r">Overdue</strong> (<span[^>]*>)?It was due by 29 May 2026",
                             shown)
            assert "Overdue: it was due" not in shown

    # Accepted late: the receipt stays, the clock says it was late, the dashboards clear.
    page = other.get(f"/transfers/{transfer.id}")
    other.post(f"/transfers/{transfer.id}/accept", data={
        "csrf_token": csrf_from(page), "match": "new"})
    for c in (client, other):
        assert "Child protection files overdue" not in c.get("/dashboard").get_data(
            as_text=True)


def test_a_file_goes_only_where_it_can_be_received_once_the_child_has_left(
        client: FlaskClient, world: dict[str, Any]) -> None:
    """A walk: two schools of one name were two identical choices; a file sent to a school
    with no DSL on the portal was stuck (nobody told, nobody to accept it, this school's copy
    read-only); one sent for a move nine months ahead left the copy read-only all that time.
    Each school is its name, number and authority; the other two are refused, saying why, and
    nothing is sent."""
    w = world
    twin = factories.school("Brookside Primary", "darlington")  # no DSL yet
    db.session.commit()
    sign_in(client, w["dana"])
    url = f"/children/{w['amira'].id}/transfer"
    page = client.get(url)
    labels = [html_lib.unescape(" ".join(label.split())) for label in re.findall(
        r'govuk-radios__label" for="school[^"]*">(.*?)</label>', page.get_data(as_text=True),
        re.S)]
    assert f"Brookside Primary (school number {w['brook'].urn}, Derbyshire County Council)" \
        in labels
    assert f"Brookside Primary (school number {twin.urn}, Darlington Borough Council)" in labels

    def refused(school: Any, moved_on: list[str]) -> str:
        response = client.post(url, data={"csrf_token": csrf_from(page), "school": str(school.id),
                                          "moved_on": moved_on})
        text = html_lib.unescape(response.get_data(as_text=True))
        assert response.status_code == 200 and "govuk-error-summary" in text
        assert "Digest" not in text and 'name="digest"' not in text  # not the confirm page
        return text

    assert (f"Brookside Primary (school number {twin.urn}) has no designated safeguarding lead "
            "on the portal yet, so nobody there could receive the file") in refused(
                twin, ["14", "5", "2026"])
    # A first lead waiting for a second administrator: said so, not "ask for one" (a walk).
    new_lead = factories.user("dsl", org=twin, display_name="Zoë Ó Súilleabháin")
    new_lead.approval = "awaiting_admin"
    db.session.commit()
    assert (f"The designated safeguarding lead of Brookside Primary (school number {twin.urn}) "
            "is waiting for a second portal administrator to confirm their account, so nobody "
            "there could receive the file yet") in refused(twin, ["14", "5", "2026"])
    # Nor can a lead approved but not yet set up receive it (walk 8: sent, the clock started,
    # and nobody could sign in to read it).
    new_lead.approval = "approved"
    new_lead.setup_pending = True
    db.session.commit()
    assert (f"The designated safeguarding lead of Brookside Primary (school number {twin.urn}) "
            "has not yet set up their portal account, so nobody there could receive the file: "
            "send it once they have") in refused(twin, ["14", "5", "2026"])
    ahead = refused(w["brook"], ["15", "5", "2026"])  # the day after the clock's
    assert "The day the child left must be today or before" in ahead
    assert 'value="15"' in ahead  # what was typed kept
    assert db.session.scalar(select(func.count()).select_from(FileTransfer)) == 0


def test_other_schools_and_staff_get_404(app: Flask, client: FlaskClient,
                                         world: dict[str, Any]) -> None:
    w = world
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    copy = db.session.scalar(select(TransferAttachment))
    assert copy is not None
    for person in (w["cedar_dsl"], w["staff"]):
        c = app.test_client()
        sign_in(c, person)
        assert c.get(f"/transfers/{transfer.id}").status_code == 404
        assert c.get(f"/transfers/files/{copy.id}").status_code == 404
        assert c.post(f"/transfers/{transfer.id}/accept", data={}).status_code in (400, 404)
    # The sending school never reads the receiving school's copy of the files...
    assert client.get(f"/transfers/files/{copy.id}").status_code == 404
    # ...nor can it accept its own transfer, and the receiver cannot open the sender's child.
    page = client.get(f"/transfers/{transfer.id}")
    assert client.post(f"/transfers/{transfer.id}/accept", data={
        "csrf_token": csrf_from(page), "match": "new"}).status_code == 404
    rhys = app.test_client()
    sign_in(rhys, w["rhys"])
    assert rhys.get(f"/children/{w['amira'].id}").status_code == 404
    assert rhys.get(f"/children/{w['amira'].id}/transfer").status_code == 404


def test_term_dates_are_a_school_setting(app: Flask, client: FlaskClient,
                                         world: dict[str, Any]) -> None:
    sign_in(client, world["rhys"])
    settings = client.get("/school/settings").get_data(as_text=True)
    assert "/school/terms" in settings
    page = client.get("/school/terms")
    bad = client.post("/school/terms", data={
        "csrf_token": csrf_from(page), "starts_on": ["2", "9", "2026"],
        "ends_on": ["18", "12", "2026"], "half_term_starts": ["26", "10", "2026"],
        "half_term_ends": ["", "", ""]})
    assert bad.status_code == 200
    assert "Enter both the first and the last day of the half-term" in bad.get_data(
        as_text=True)
    done = client.post("/school/terms", data={
        "csrf_token": csrf_from(page), "starts_on": ["2", "9", "2026"],
        "ends_on": ["18", "12", "2026"], "half_term_starts": ["26", "10", "2026"],
        "half_term_ends": ["30", "10", "2026"]})
    assert done.status_code == 302
    listed = client.get("/school/terms").get_data(as_text=True)
    assert "2 September 2026 to 18 December 2026" in listed
    assert "26 October 2026 to 30 October 2026" in listed
    assert db.session.scalar(select(func.count()).select_from(SchoolTerm)
                             .where(SchoolTerm.school_id == world["brook"].id)) == 1


def test_the_roll_marks_a_leaver_with_a_school_on_the_portal_and_the_dsl_is_offered_it(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    from tests.web.conftest import override_settings
    from tests.web.test_roll import confirm, preview

    w = world
    override_settings(app, roll_import_inline=True)
    data = ("UPN,Legal Surname,Legal Forename,Date of Birth,Leaving Date,Destination URN\n"
            f"A123456789012,Okonkwo,Amira,01/05/2012,13/05/2026,{w['brook'].urn}\n").encode()
    sign_in(client, w["dana"])
    url, page = preview(client, data)
    assert confirm(client, url, page).status_code == 302
    db.session.expire_all()
    amira = db.session.get(Child, w["amira"].id)
    assert amira is not None and amira.roll_status == "left"
    assert amira.destination_school == w["brook"].urn
    offer = client.get(f"/children/{amira.id}").get_data(as_text=True)
    assert "This pupil has left for Brookside Primary, which uses the portal" in offer
    start = client.get(f"/children/{amira.id}/transfer?school={w['brook'].id}")
    html = start.get_data(as_text=True)
    # The school is chosen and the day they left is filled in from the roll.
    assert re.search(rf'value="{w["brook"].id}"[^>]*checked', html)
    assert 'value="13"' in html and 'value="2026"' in html
    # The dashboard offers it too, on the clock from the day they left (Wednesday 13 May:
    # 14, 15, then half-term and the bank holiday, 26, 27, 28 May).
    board = client.get("/dashboard").get_data(as_text=True)
    # As every dashboard item: initials and reference, never the full name.
    assert f"AO ({amira.reference}): left for Brookside Primary, send their file" in board
    assert "Amira Okonkwo" not in board and "Okonkwo" not in board
    assert "Due by 28 May 2026 (4 school days left)" in board
    _send(client, w)
    board = client.get("/dashboard").get_data(as_text=True)
    assert "send their file" not in board
    assert f"AO ({amira.reference}): sent to Brookside Primary, waiting for their receipt" \
        in board
    assert "Okonkwo" not in board


def test_a_sent_copy_still_answers_a_request_but_takes_no_more_files(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    """After the file was sent, the school can still release a copy of what it keeps (a request
    from the police), but cannot add a file from a previous school to it."""
    import io

    from portal.models import Disclosure, ReceivedFile
    from tests.web.conftest import submit

    w = world
    sign_in(client, w["dana"])
    _send(client, w)
    disclosed = submit(client, f"/children/{w['amira'].id}/disclose", {
        "requester": "PC Aled Jones, West Yorkshire Police", "basis": "police"})
    assert disclosed.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Disclosure)) == 1
    url = f"/children/{w['amira'].id}/from-previous-school"
    refused = client.post(url, data={
        "csrf_token": csrf_from(client.get(url)), "file": (io.BytesIO(PDF), "old.pdf"),
        "previous_school": "Hillside Primary School", "received_on": ["2", "3", "2026"],
        "description": "Child protection file, 6 pages", "confirm": "y",
    }, content_type="multipart/form-data")
    assert refused.status_code == 409
    assert "read-only" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ReceivedFile)) == 0


def test_a_call_about_the_incident_is_still_recorded_after_one_childs_file_went(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    """The incident goes on for the child still at the school: a call to the consultation line
    about it is recorded, and the sent child's copy gets its line (handing over may finish)."""
    w = world
    sign_in(client, w["dana"])
    _send(client, w)
    at = dt.datetime(2026, 5, 14, 9, 15, tzinfo=dt.UTC)
    referrals.record_call(w["incident"], w["dana"], authority_code="derbyshire", called_at=at,
                          spoke_to="Sam Duty, duty social worker",
                          advice="Refer Benedikt today", decision="Refer today",
                          reasons="He took money from a younger child", now=at)
    db.session.commit()
    lines = db.session.scalars(select(ChildRecordEntry.child_id).where(
        ChildRecordEntry.kind == "consultation_call")).all()
    assert sorted(map(str, lines)) == sorted([str(w["amira"].id), str(w["ben"].id)])
    # Her page says which lines may still be added to the read-only copy (a walk: "read-only",
    # then a call's line in it).
    said = html_lib.unescape(client.get(f"/children/{w['amira'].id}").get_data(as_text=True))
    assert "an incident's calls to the consultation line, its handing over" in said


def test_a_sent_file_says_so_on_opening_and_send_pressed_twice_goes_to_the_transfer(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    """Found walking it at 390 px: the sealed-file and merge forms of a sent file opened and
    refused only when sent (losing what was typed); "Send the file" pressed twice answered
    "read-only" to the second press; a concern already added to an incident was listed as not
    dealt with."""
    w = world
    staff = factories.user("staff", org=w["oak"], display_name="Tom Ashgrove")
    waiting = _concern(w["oak"], staff, [w["amira"]], SENT - dt.timedelta(days=1),
                       what_happened="Amira was upset at break.")
    in_incident = _concern(w["oak"], staff, [w["amira"]], SENT - dt.timedelta(days=2),
                           what_happened="Amira's lunch money was taken.")
    in_incident.state = "picked_up"
    db.session.add(IncidentConcern(incident_id=w["incident"].id, concern_id=in_incident.id))
    db.session.commit()
    sign_in(client, w["dana"])
    url = f"/children/{w['amira'].id}/transfer"
    page = client.get(url)
    chosen = client.post(url, data={"csrf_token": csrf_from(page), "school": str(w["brook"].id),
                                    "moved_on": ["14", "5", "2026"]})
    check = chosen.headers["Location"]
    html = client.get(check).get_data(as_text=True)
    # One concern waits for triage; the one in the incident is the incident's to finish.
    assert "1 concern about this child is not yet dealt with." in html
    assert waiting.state == "submitted"

    first = client.post(f"{url}/send", data=_hidden(html))
    second = client.post(f"{url}/send", data=_hidden(html))
    assert first.status_code == 302
    assert second.status_code == 303  # "This was already sent", to the first press's result
    assert second.headers["Location"] == first.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(FileTransfer)) == 1
    # Back from the transfer's page reaches the check page, a page of its own (no "send the
    # form again?"): it says the file was sent, and offers no second send.
    back = html_lib.unescape(client.get(check).get_data(as_text=True))
    assert "This child's file has already been sent" in back and "Send the file" not in back

    for opened in (f"/children/{w['amira'].id}/send-outside",
                   f"/children/{w['amira'].id}/merge",
                   f"/children/{w['amira'].id}/merge/{w['ben'].id}"):
        response = client.get(opened)
        assert response.status_code == 409, opened
        assert "read-only" in response.get_data(as_text=True)
        # Opened, not sent: nothing can have failed to save (walk 10).
        assert "Nothing was saved" not in response.get_data(as_text=True), opened
    # Another child of the school is still writable.
    assert client.get(f"/children/{w['ben'].id}/send-outside").status_code == 200


def test_names_recorded_before_go_with_the_file_to_the_next_school(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    """A child whose name was corrected at their old school: the next school finds them by the
    name recorded before, and it says so on their file (R6 hides it as their other names)."""
    from portal.services import children as children_service

    w = world
    amira = w["amira"]
    children_service.set_names(amira, given_name="Amira", family_name="Okonkwo-Bello")
    db.session.commit()
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    other, accepted = _received(app, w, transfer, "new")
    assert accepted.status_code == 302, accepted.get_data(as_text=True)[:500]
    db.session.expire_all()
    new_id = db.session.get(FileTransfer, transfer.id).received_child_id
    arrived = db.session.get(Child, new_id)
    assert arrived.school_id == w["brook"].id and arrived.earlier_names == [("Amira", "Okonkwo")]
    assert children_service.search(w["brook"].id, "Amira Okonkwo", partial=False).ids == [new_id]
    file_page = re.sub(r"<[^>]+>", " ", other.get(f"/children/{new_id}").get_data(as_text=True))
    assert "Recorded before as Amira Okonkwo" in " ".join(file_page.split())
