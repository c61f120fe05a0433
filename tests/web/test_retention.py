"""Issue 16 part 4: retention. A file due for review is listed for the DSL; keeping it needs
reasons; destroying it crypto-shreds that child's key, so its records can never be read again
while every other child of the school still reads, and nothing of the child is left readable on
disk (database and attachment store); another school's DSL gets 404; a file with an open
referral cannot be destroyed; the monthly email says how many, never who."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from portal import keyops, wording
from portal.crypto import FieldContext, KeyShredded
from portal.models import (
    Attachment,
    AuditEvent,
    Child,
    ChildMerge,
    ChildNameTerm,
    ChildRecordEntry,
    ConcernOutcome,
    Decision,
    FileTransfer,
    Incident,
    IncidentChild,
    OutboxMessage,
    ParentContact,
    Referral,
    RetentionReview,
    RetentionTombstone,
    RollContact,
    RollImport,
    School,
    User,
    db,
    keyring,
)
from portal.services import retention
from portal.services.child_keys import child_keyed_fields
from portal.services.children import name_search
from tests import factories
from tests.referral_data import incident as make_incident
from tests.unit.test_canaries import _forms
from tests.web.conftest import csrf_from, sign_in
from tests.web.test_incidents import make_concern

# Ada's file: distinctive invented values, looked for on disk after her file is destroyed.
ADA = {"given": "Quorabelle", "family": "Vantwistle", "words": "ada-words-c4f1",
       "line": "ada-chronology-9e2d", "reason": "ada-decision-reason-71aa",
       "contact": "Ysolde Vantwistle-Parent", "summary": "ada-alone-summary-3b8e",
       "attachment": "ada-attachment-bytes-5d20", "upn": "Q801234567890",
       "merged": "Quorabel-Earlier-Record", "address": "12 Ada-Canary Lane"}
SHARED_SUMMARY = "shared-incident-summary-0af3"
BORN_LONG_AGO = dt.date(2000, 3, 1)  # 25 years on: 1 March 2025, so due now


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _world() -> dict[str, Any]:
    school = factories.school("Oakfield Academy", "derbyshire")
    other = factories.school("Northgate College", "darlington")
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    other_dsl = factories.user("dsl", org=other)
    ada = factories.child(school, ADA["given"], ADA["family"], dob=BORN_LONG_AGO)
    ben = factories.child(school, "Benedikt", "Oyelaran", dob=BORN_LONG_AGO)
    cara = factories.child(school, "Cara", "Lindqvist", dob=dt.date(2014, 6, 2))
    dan = factories.child(school, "Dan", "Okonkwo", dob=BORN_LONG_AGO)

    alone = make_incident(school, dsl, [(ada, "harmed")], summary=ADA["summary"],
                          words={ada.reference: ADA["words"]})
    shared = make_incident(school, dsl, [(ben, "harmed"), (ada, "harmed_others")],
                           summary=SHARED_SUMMARY, words={ben.reference: "ben's words"})
    cara_incident = make_incident(school, dsl, [(cara, "harmed")], summary="Cara's incident")
    dan_incident = make_incident(school, dsl, [(dan, "harmed")], summary="Dan's incident")
    for inc in (alone, shared, cara_incident, dan_incident):
        inc.state = "closed"
    make_concern(school, staff, [ada], state="recorded")
    line = ChildRecordEntry(school_id=school.id, child_id=ada.id, kind="note",
                            incident_id=alone.id)
    line.body = ADA["line"]
    decision = Decision(school_id=school.id, incident_id=alone.id, child_id=ada.id,
                        kind="no_further_action", decided_by_id=dsl.id)
    decision.what = "No further action"
    decision.reasons = ADA["reason"]
    told = ParentContact(school_id=school.id, incident_id=alone.id, child_id=ada.id, number=1,
                         told=True, recorded_by_id=dsl.id)
    told.by_whom = ADA["contact"]
    contact = RollContact(school_id=school.id, child_id=ada.id, priority=1)
    contact.name = ADA["contact"]
    att = Attachment(school_id=school.id, incident_id=alone.id, content_type="application/pdf",
                     size=10, uploaded_by_id=dsl.id)
    att.filename = ADA["attachment"] + ".pdf"
    db.session.add_all([line, decision, told, contact, att])
    db.session.flush()
    current_app.extensions["attachments"].save(
        str(school.id), att.store_name,
        io.BytesIO(b"%PDF-1.7\n" + ADA["attachment"].encode() * 50))
    referral = Referral(incident_id=dan_incident.id, school_id=school.id,
                        local_authority_id=school.local_authority_id, sent_by_id=dsl.id)
    referral.packet = "{}"
    db.session.add(referral)
    # Ada from the roll, a second record of her merged into hers, and a roll import previewed
    # and never confirmed that still holds her row.
    ada.upn = ADA["upn"]
    ada.address = ADA["address"]
    earlier = factories.child(school, ADA["merged"], ADA["family"], dob=BORN_LONG_AGO)
    earlier.merged_into_id = ada.id
    merge = ChildMerge(school_id=school.id, kept_child_id=ada.id, merged_child_id=earlier.id,
                       merged_by_id=dsl.id, choices={}, moved={})
    merge.reasons = f"{ADA['merged']} is the same girl"
    merge.before = json.dumps({"merged": {"given_name": ADA["merged"]}})
    previewed = RollImport(school_id=school.id, created_by_id=dsl.id, total_rows=2)
    previewed.rows = json.dumps([
        {"upn": ADA["upn"], "given_name": ADA["given"], "family_name": ADA["family"]},
        {"upn": "B801234567890", "given_name": "Benedikt", "family_name": "Oyelaran"}])
    db.session.add_all([merge, previewed])
    db.session.commit()
    return {"school": school, "dsl": dsl, "other_dsl": other_dsl, "ada": ada, "ben": ben,
            "cara": cara, "dan": dan, "alone": alone, "shared": shared, "attachment": att}


@pytest.fixture
def w(app: Flask) -> dict[str, Any]:
    return _world()


def _post(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> Any:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_from(page), **(data or {})})


def test_files_due_for_review_are_listed_from_the_dashboard(client: FlaskClient, w) -> None:
    sign_in(client, w["dsl"])
    dashboard = _text(client.get("/dashboard"))
    assert 'href="/retention"' in dashboard
    page = client.get("/retention")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    body = _text(page)
    for child in ("ada", "ben", "dan"):
        assert w[child].reference in body
    assert f"{ADA['given']} {ADA['family']}" in body
    assert "Cara" not in body  # born 2014: not due for many years
    assert "Review due 1 March 2025: 25 years after the child's date of birth" in body
    assert 'data-testid="count-due">3<' in body
    # Each due file opens from the list, and from the page deciding to keep it (walk 16).
    due = body.split('data-testid="due-list"')[1].split("</ul>")[0]
    for child in ("ada", "ben", "dan"):
        assert f'href="/children/{w[child].id}"' in due
    keep = _text(client.get(f"/retention/{w['ben'].id}/keep"))
    assert f'href="/children/{w["ben"].id}" data-testid="read-file">Read the file</a>' in keep


def test_files_coming_up_within_the_year_are_listed_to_plan(client: FlaskClient, w) -> None:
    """A walk: only files due today were listed; a DSL could not plan for the next. Those
    coming up within 12 months are listed with their date, not offered to destroy yet."""
    from portal import clock

    today = clock.today()
    soon = factories.child(w["school"], "Eilidh", "MacAoidh",
                           dob=today.replace(year=today.year - 25) + dt.timedelta(days=100))
    make_incident(w["school"], w["dsl"], [(soon, "harmed")], summary="Eilidh's incident")
    db.session.commit()
    sign_in(client, w["dsl"])
    body = _text(client.get("/retention"))
    coming = body[body.index('data-testid="coming-list"'):]
    coming = coming[:coming.index("</ul>")]
    # By reference, linked to the file, as the kept files: the page is not their file.
    assert f'/children/{soon.id}"><strong>File {soon.reference}</strong></a>' in coming
    assert "Eilidh" not in body
    assert (f"Review due {wording.day(soon.dob.replace(year=soon.dob.year + 25))}: 25 years "
            "after the child's date of birth") in coming
    assert f"/retention/{soon.id}/destroy" not in body
    assert "Cara" not in body  # born 2014: not for many years


def test_keep_requires_reasons_and_a_next_review(client: FlaskClient, w) -> None:
    sign_in(client, w["dsl"])
    url = f"/retention/{w['ada'].id}/keep"
    refused = _post(client, url, {"reasons": "  ", "next_review": ["", "", ""]})
    assert refused.status_code == 400
    body = _text(refused)
    assert "Enter why the file is being kept" in body
    assert "Enter the date of the next review" in body
    assert db.session.scalar(select(RetentionReview)) is None

    next_year = dt.date.today().year + 1
    second_tab = client.get(url)
    kept = _post(client, url, {"reasons": "Her brother's case is still open with the police",
                               "next_review": ["1", "9", str(next_year)]})
    assert kept.status_code == 302
    listing = _text(client.get(kept.headers["Location"]))
    assert f"File {w['ada'].reference} kept until its next review" in listing
    assert ADA["family"] not in listing  # not due any more
    # The same file kept again from a page opened before (another DSL, another tab): not
    # "Page not found" (a walk), and the reasons typed there shown to copy, not lost.
    typed = "Also this: her aunt rang on Friday\n(Zoë Ndiaye-Ocampo, عائشة)."
    again = client.post(url, data={"csrf_token": csrf_from(second_tab), "reasons": typed,
                                   "next_review": ["1", "9", str(next_year)]})
    assert again.status_code == 409
    shown = html.unescape(_text(again))
    assert f"File {w['ada'].reference} is not due for review now" in shown
    assert "Your decision was not saved" in shown and typed in shown
    # With nothing typed, back to the list, saying why.
    again = client.post(url, data={"csrf_token": csrf_from(second_tab), "reasons": "",
                                   "next_review": ["1", "9", str(next_year)]})
    assert again.status_code == 303 and again.headers["Location"].endswith("/retention")
    assert (f"File {w['ada'].reference} is not due for review now: it may have just been "
            "reviewed by another designated safeguarding lead") in _text(
                client.get("/retention"))
    assert len(db.session.scalars(select(RetentionReview)).all()) == 1
    review = db.session.scalar(select(RetentionReview))
    assert review.next_review_on == dt.date(next_year, 9, 1)
    assert review.reasons == "Her brother's case is still open with the police"
    assert b"brother" not in review.reasons_enc
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.kept"))


def _blobs_of_ada(w: dict[str, Any]) -> list[tuple[FieldContext, bytes]]:
    """(context, ciphertext) of values of Ada's own file, as they are before destruction."""
    found = []
    for model in (Child, IncidentChild, ChildRecordEntry, Decision, ParentContact, RollContact):
        rows = db.session.scalars(select(model).where(
            (model.id if model is Child else model.child_id) == w["ada"].id))
        for row in rows:
            for f in child_keyed_fields(model):
                blob = getattr(row, f.column)
                if blob is not None:
                    found.append((f.context(row), bytes(blob)))
    return found


def _readable_values() -> list[str]:
    """Every encrypted value in the database that any key still opens, as text."""
    out: list[str] = []
    for group in keyops.encrypted_field_groups():
        for row in db.session.scalars(select(group.model)):
            for f in group.fields:
                blob = getattr(row, f.column)
                if blob is None:
                    continue
                try:
                    out.append(f.decrypt_blob(row, blob).decode("utf-8", "replace"))
                except Exception:
                    continue
    return out


def _assert_absent(where: str, data: bytes) -> None:
    lowered = data.lower()
    for label, value in ADA.items():
        for form, needle in _forms(value):
            haystack = lowered if form.startswith("hex") else data
            assert needle not in haystack, f"Ada's {label} found in {where} ({form})"


def test_destroy_shreds_one_child_and_every_other_child_still_reads(
        client: FlaskClient, w, app: Flask, backend: str) -> None:
    ada, ben, cara = w["ada"], w["ben"], w["cara"]
    school_id = w["school"].id
    before = _blobs_of_ada(w)
    assert len(before) >= 8
    name_hash = ada.name_index
    terms = list(db.session.scalars(select(ChildNameTerm.term)
                                    .where(ChildNameTerm.child_id == ada.id)))
    assert terms
    att_path = Path(current_app.extensions["attachments"].path(w["attachment"].store_name))
    assert att_path.exists()

    sign_in(client, w["dsl"])
    url = f"/retention/{ada.id}/destroy"
    confirm = _text(client.get(url))
    assert f"Destroy the file of {ADA['given']} {ADA['family']}" in confirm
    # Plain sentences, not "The child's details: 1".
    for line in ("The child's details: their name, date of birth and everything the roll "
                 "holds about them.", "1 line of their chronology.",
                 "1 incident about this child alone.",
                 "Their part in 1 incident shared with other children.",
                 "1 decision about this child.", "1 record of telling parents or carers.",
                 "1 parent or carer from the roll.", "1 attached file.",
                 "1 concern about this child alone.",
                 "1 other record of this child merged into this one."):
        assert line in confirm, line
    assert "The child's details: 1" not in confirm and "((" not in confirm
    done = client.post(url, data={"csrf_token": csrf_from(confirm)})
    assert done.status_code == 302
    listing = _text(client.get("/retention"))
    assert f"File {ada.reference} destroyed" in listing
    tombstones = listing.split('data-testid="tombstones"')[1]
    assert f"File {ada.reference}</strong>, destroyed" in tombstones
    assert "by Dana Lead" in tombstones and "Chronology lines: 1" in tombstones
    assert "<li>The child's details</li>" in tombstones  # not "The child's details: 1"
    assert ADA["given"] not in listing and ADA["family"] not in listing

    # Every value of Ada's file is undecryptable, for good: her key is shredded.
    db.session.expire_all()
    ring = keyring()
    for ctx, blob in before:
        with pytest.raises(KeyShredded):
            ring.decrypt(ctx, blob)
    tomb = db.session.scalar(select(RetentionTombstone))
    assert tomb.child_reference == ada.reference and tomb.counts["chronology_entries"] == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                       "retention.destroyed"))
    assert event.object_id == str(ada.id) and event.detail["incidents"] == 1

    # Every other child of the school still reads, and so does what Ada shared with Ben.
    ben, cara = db.session.get(Child, ben.id), db.session.get(Child, cara.id)
    assert ben.full_name == "Benedikt Oyelaran" and cara.full_name == "Cara Lindqvist"
    shared = db.session.get(Incident, w["shared"].id)
    assert shared.summary == SHARED_SUMMARY
    ben_part = db.session.scalar(select(IncidentChild).where(IncidentChild.child_id == ben.id,
                                                             IncidentChild.incident_id
                                                             == shared.id))
    assert ben_part.child_words == "ben's words"
    gone = db.session.get(Child, ada.id)
    assert gone.destroyed_at is not None \
        and gone.redacted_label == "A child whose file was destroyed"
    assert client.get(f"/children/{ada.id}").status_code == 404  # her file is gone
    ben_file = client.get(f"/children/{ben.id}")
    assert ben_file.status_code == 200 and "Benedikt" in _text(ben_file)
    left = json.loads(db.session.scalar(select(RollImport)).rows)
    assert [row["given_name"] for row in left] == ["Benedikt"]
    assert client.get(f"/incidents/{shared.id}").status_code == 200
    assert db.session.get(Incident, w["alone"].id).summary is None

    # Search and blind indexes: nothing of Ada's names is left to match.
    assert not db.session.scalars(select(ChildNameTerm).where(
        ChildNameTerm.child_id == ada.id)).all()
    assert db.session.scalars(name_search(school_id, f"{ADA['given']} {ADA['family']}")).all() \
        == []
    assert not db.session.scalar(select(Child).where(Child.name_index == name_hash))

    # On disk: the attachment is gone, nothing readable holds anything of Ada, and the
    # database file holds none of her values, search terms or blind index.
    assert not att_path.exists()
    for path in att_path.parent.rglob("*"):
        if path.is_file():
            _assert_absent(f"attachment file {path.name}", path.read_bytes())
    for value in _readable_values():
        _assert_absent("a value still readable", value.encode())
    if backend == "sqlite":
        db.session.commit()
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db_path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database or "")
        raw = db_path.read_bytes()
        _assert_absent("portal.db", raw)
        for term in [*terms, name_hash]:
            assert term.encode() not in raw


def test_another_school_gets_404(client: FlaskClient, w) -> None:
    sign_in(client, w["other_dsl"])
    for url in (f"/retention/{w['ada'].id}/keep", f"/retention/{w['ada'].id}/destroy"):
        assert client.get(url).status_code == 404
    page = client.get("/retention")
    assert page.status_code == 200
    assert w["ada"].reference not in _text(page) or "No files are due" in _text(page)
    assert ADA["family"] not in _text(page)
    db.session.expire_all()
    assert db.session.get(Child, w["ada"].id).destroyed_at is None


def test_destroy_refused_while_a_referral_is_open(client: FlaskClient, w) -> None:
    dan = w["dan"]
    assert retention.destroy_blockers(db.session, dan) == [
        "A referral about this child is still open with the local authority"]
    sign_in(client, w["dsl"])
    url = f"/retention/{dan.id}/destroy"
    page = _text(client.get(url))
    assert "This file cannot be destroyed now" in page
    assert "A referral about this child is still open with the local authority" in page
    assert "Destroy this file" not in page
    refused = client.post(url, data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 400
    db.session.expire_all()
    dan = db.session.get(Child, dan.id)
    assert dan.destroyed_at is None and dan.full_name == "Dan Okonkwo"
    assert db.session.scalar(select(RetentionTombstone)) is None


def test_destroy_refused_while_an_incident_is_open_links_to_it(
        client: FlaskClient, w) -> None:
    """A walk: "An incident about this child is still open", with no way to it. The page
    links each open incident, and still offers to keep the file."""
    ben, shared = w["ben"], w["shared"]
    sign_in(client, w["dsl"])
    # Where it can be destroyed, the warning is in a DSL's words ("the deployment's master
    # key", a walk).
    warning = _text(client.get(f"/retention/{ben.id}/destroy"))
    assert ("Backups made before today still hold it, in a form only the portal's own keys "
            "can read, until they expire.") in warning
    assert "master key" not in warning
    shared.state = "open"
    db.session.commit()
    assert retention.destroy_blockers(db.session, ben) == [
        "An incident about this child is still open"]
    # The list says so beside the file, offering to keep it, not to destroy it.
    listing = _text(client.get("/retention"))
    ben_row = listing[listing.index(f"({ben.reference})"):]
    ben_row = ben_row[:ben_row.index("</li>")]
    assert ("It cannot be destroyed now. An incident about this child is still open. "
            f'<a class="govuk-link" href="/retention/{ben.id}/destroy">See why') in ben_row
    assert ">destroy<" not in ben_row and f"/retention/{ben.id}/keep" in ben_row
    page = client.get(f"/retention/{ben.id}/destroy").get_data(as_text=True)
    still_open = page[page.index('data-testid="still-open"'):]
    still_open = still_open[:still_open.index("</ul>")]
    assert f'href="/incidents/{shared.id}"' in still_open
    assert f"Incident {shared.reference}</a>, opened " in still_open
    assert f'/retention/{ben.id}/keep"' in page


def test_monthly_email_counts_files_and_names_no_child(app: Flask, w) -> None:
    from portal import notify

    notify.outbox().clear()
    assert notify.send_retention_reminders() == 1
    rows = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "retention_reminder")))
    assert [m.org_id for m in rows] == [str(w["school"].id)]
    sent = [m for m in notify.outbox() if m["Subject"] == "Safeguarding files due for review"]
    assert [m["To"] for m in sent] == [w["dsl"].email]
    body = sent[0].get_content()
    assert "3 safeguarding files at Oakfield Academy are due for review" in body
    assert "/retention" in body
    for child in ("ada", "ben", "dan", "cara"):
        assert w[child].reference not in body
        assert w[child].family_name not in body
    assert notify.send_retention_reminders() == 0  # once a month


def test_the_school_sets_how_long_concerns_that_led_to_nothing_are_kept(
        client: FlaskClient, w) -> None:
    school, staff = w["school"], factories.user("staff", org=w["school"])
    eve = factories.child(school, "Eve", "Marchetti", dob=dt.date(2015, 2, 2))
    make_concern(school, staff, [eve], state="recorded",
                 submitted_at=dt.datetime(2024, 1, 10, 10, 0, tzinfo=dt.UTC))
    db.session.commit()
    sign_in(client, w["dsl"])
    assert "Marchetti" not in _text(client.get("/retention"))  # 72 months: not until 2030
    refused = _post(client, "/retention/settings", {"nfa_months": "6"})
    assert refused.status_code == 400
    assert "Enter a number of months from 12 to 300" in _text(refused)
    saved = _post(client, "/retention/settings", {"nfa_months": "24"})
    assert saved.status_code == 302
    listing = _text(client.get("/retention"))
    assert "Eve Marchetti" in listing
    assert "Concerns that led to no further action" in listing
    assert "Review due 10 January 2026: 2 years after the last concern" in listing


def test_a_concern_handed_on_makes_a_child_protection_file(client: FlaskClient, w) -> None:
    """A walk: a concern of another kind passed to children's social care (neglect, say) put
    the file on the schedule of concerns that led to nothing (six years), to be destroyed while
    the child is still a child. Handed to anyone outside the school, it is a child protection
    file (25 years after birth); kept in school, still the school's setting."""
    school, staff = w["school"], factories.user("staff", org=w["school"])
    long_ago = dt.datetime(2018, 1, 10, 10, 0, tzinfo=dt.UTC)
    kept_here = factories.child(school, "Fen", "Aldous", dob=dt.date(2012, 2, 2))
    handed = factories.child(school, "Gil", "Brackett", dob=dt.date(2012, 3, 3))
    for child, route in ((kept_here, "school_support"), (handed, "front_door")):
        concern = make_concern(school, staff, [child], state="recorded", submitted_at=long_ago)
        outcome = ConcernOutcome(school_id=school.id, concern_id=concern.id,
                                 kind="other_concern", category="neglect", route=route,
                                 route_at=long_ago, decided_by_id=w["dsl"].id,
                                 decided_at=long_ago)
        outcome.reasons = "Passed on as the procedure says."
        db.session.add(outcome)
    db.session.commit()
    sign_in(client, w["dsl"])
    listing = _text(client.get("/retention"))
    assert "Fen Aldous" in listing  # six years after 2018: due
    assert "Gil Brackett" not in listing  # 25 years after 2012: 2037
    due = {d.child.id: d.schedule for d in retention.files_due(school, dt.date(2037, 3, 3))}
    assert due[handed.id].basis == "25 years after the child's date of birth"


def test_the_list_costs_the_same_statements_however_many_files_are_due_or_kept(
        app: Flask, w) -> None:
    """Issue 15: what stops each due file being destroyed was read with five statements a file,
    and each kept file's child with one more; the page reads them all at once."""
    from tests.web.test_statement_counts import get

    dsl_id, school_id, cara_id = w["dsl"].id, w["school"].id, w["cara"].id
    today = dt.date.today()
    reasons = "Her brother's case is still open."
    # One file kept, reviewed again next year.
    retention.keep(w["dsl"], w["ben"], reasons, today + dt.timedelta(days=400), today=today)
    db.session.commit()
    client = app.test_client()
    sign_in(client, w["dsl"])
    client.get("/retention")
    few, page = get(client, "/retention")
    assert 'data-testid="count-due">2<' in page and not few.repeats
    assert html.unescape(page).count(reasons) == 1
    school = db.session.get(School, school_id)
    dsl = db.session.get(User, dsl_id)
    cara = db.session.get(Child, cara_id)
    assert school is not None and dsl is not None and cara is not None
    for n in range(4):  # more due: one still open, one whose file is on its way elsewhere
        kid = factories.child(school, f"Due{n}", "Farrowdale", dob=BORN_LONG_AGO)
        inc = make_incident(school, dsl, [(kid, "harmed")], summary=f"Due {n}")
        inc.state = "open" if n == 0 else "closed"
        if n == 1:
            other = factories.school("Westbrook High", "derbyshire")
            db.session.add(FileTransfer(child_id=kid.id, from_school_id=school.id,
                                        to_school_id=other.id, moved_on=today,
                                        sent_by_id=dsl.id, sent_at=dt.datetime.now(dt.UTC)))
    # Kept by another DSL: each decision's author was read one statement each.
    deputy = factories.user("dsl", org=school, display_name="Dev Deputy")
    retention.keep(deputy, cara, reasons, today + dt.timedelta(days=300), today=today)
    db.session.commit()
    more, page = get(client, "/retention")
    assert "Kept by Dev Deputy" in html.unescape(page)
    assert f'href="/children/{cara_id}"' in page.split('data-testid="kept-list"')[1]
    assert 'data-testid="count-due">6<' in page
    text = html.unescape(page)
    assert "An incident about this child is still open" in text
    assert "The file has been sent to the child's new school" in text
    assert text.count(reasons) == 2
    assert not more.repeats, more.repeats
    assert len(more.statements) == len(few.statements), (len(few.statements),
                                                         len(more.statements))
