"""A file sent to another school withdrawn before it is accepted (sent to the wrong school, or
the child did not move after all): with reasons, the receiving school's copy erased and its DSLs
told, the sending school's record writable again and sendable to the right school. Invented
names only."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from portal import notify
from portal.models import (
    AuditEvent,
    Child,
    ChildRecordEntry,
    Decision,
    FileTransfer,
    School,
    TransferAttachment,
    db,
)
from portal.refusal import Refused
from portal.services import transfer as svc
from tests.web.conftest import csrf_from, sign_in
from tests.web.test_transfers import SENT, _send, clock, world  # noqa: F401 (fixtures)

REASONS = "Sent to Cedar School by mistake: Amira is moving to Brookside Primary (قرار خاطئ, Zoë)."


def _cedar(w: dict[str, Any]) -> School:
    school = db.session.get(School, w["cedar_dsl"].school_id)
    assert school is not None
    return school


def _text(response: Any) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def test_a_file_sent_to_the_wrong_school_is_withdrawn_then_sent_to_the_right_one(
        app: Flask, client: FlaskClient, world: dict[str, Any],  # noqa: F811
        clock: dict[str, dt.datetime]) -> None:  # noqa: F811
    w = world
    cedar = _cedar(w)
    sign_in(client, w["dana"])
    wrong = _send(client, w, school=cedar)
    copy = db.session.scalar(select(TransferAttachment))
    assert copy is not None
    copy_id = copy.id
    stored = Path(app.extensions["attachments"].path(copy.store_name))
    assert stored.exists()

    # The transfer's page offers it while it waits; the page asks why.
    shown = _text(client.get(f"/transfers/{wrong.id}"))
    assert "Withdraw the file" in shown
    url = f"/transfers/{wrong.id}/withdraw"
    page = client.get(url)
    assert page.status_code == 200
    assert "Withdraw the file sent to Cedar School?" in _text(page)
    # No reasons: refused, nothing changed.
    refused = client.post(url, data={"csrf_token": csrf_from(page), "reasons": "  "})
    assert refused.status_code == 400
    assert "Enter why you are withdrawing the file" in _text(refused)
    db.session.expire_all()
    assert db.session.get(FileTransfer, wrong.id).state == "sent"

    clock["now"] = SENT + dt.timedelta(hours=1)
    done = client.post(url, data={"csrf_token": csrf_from(page), "reasons": REASONS})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/transfers/{wrong.id}")
    db.session.expire_all()
    withdrawn = db.session.get(FileTransfer, wrong.id)
    assert withdrawn.state == "withdrawn" and withdrawn.withdrawn_by_id == w["dana"].id
    assert withdrawn.withdrawn_reasons == REASONS
    assert b"mistake" not in (withdrawn.withdrawn_reasons_enc or b"")
    # The receiving school's copy is erased: what was sent, and the file's copy.
    assert withdrawn.packet_enc is None
    assert db.session.scalar(select(func.count()).select_from(TransferAttachment)) == 0
    assert not stored.exists()
    # Audited on both schools' chains.
    orgs = set(db.session.scalars(select(AuditEvent.org_id).where(
        AuditEvent.action == "transfer.withdrawn")))
    assert orgs == {str(w["oak"].id), str(cedar.id)}

    # The sender: who, when and why on the transfer's page; the record is writable again,
    # with a line saying so; the child's page says where it went and came back.
    shown = _text(client.get(done.headers["Location"]))
    assert "File withdrawn. Cedar School has been told" in shown
    assert "Never: withdrawn by Dana Fairweather on 14 May 2026 at 11:00am" in shown
    assert REASONS in shown and "Withdraw the file" not in shown
    line = db.session.scalar(select(ChildRecordEntry).where(
        ChildRecordEntry.child_id == w["amira"].id, ChildRecordEntry.kind == "transfer_withdrawn"))
    # The line says what happened; why stays with the transfer (the line goes with the file
    # when it is sent on, perhaps to the school it first went to: a walk).
    assert line is not None and "was withdrawn before it was accepted" in (line.body or "")
    assert "mistake" not in (line.body or "")
    child_page = _text(client.get(f"/children/{w['amira'].id}"))
    assert "read-only" not in child_page
    assert re.search(r"Sent to Cedar School on 14 May 2026 at 10:00am, then <a [^>]+>withdrawn "
                     r"on 14 May 2026 at 11:00am</a> before they accepted it", child_page)
    assert "Transfer withdrawn" in child_page
    form = client.get(f"/incidents/{w['incident'].id}/decisions/new")
    added = client.post(f"/incidents/{w['incident'].id}/decisions/new", data={
        "csrf_token": csrf_from(form), "kind": "early_help", "child": str(w["amira"].id),
        "reasons": "A further assessment was agreed with the family."})
    assert added.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Decision).where(
        Decision.child_id == w["amira"].id)) == 2

    # The receiving school: told by email, with nothing about the child, either school or why;
    # the page says it was withdrawn and shows nothing of the file; it cannot be accepted.
    told = [m for m in notify.outbox() if m["To"] == w["cedar_dsl"].email]
    assert [m["Subject"] for m in told] == [
        "A child protection file has been sent to your school",
        "A child protection file sent to your school has been withdrawn"]
    body = told[1].get_content()
    assert f"/transfers/{wrong.id}" in body
    for word in ("Amira", "Okonkwo", "Oakfield", "Brookside", "mistake", "Dana"):
        assert word not in body
    other = app.test_client()
    sign_in(other, w["cedar_dsl"])
    theirs = other.get(f"/transfers/{wrong.id}")
    assert theirs.status_code == 200
    said = _text(theirs)
    assert "withdrew it before it was accepted" in said
    for word in ("Amira", "Okonkwo", "pushed", "statement.pdf", "mistake"):
        assert word not in said
    assert "accept the file" not in _text(other.get("/dashboard"))
    assert other.get(f"/transfers/files/{copy_id}").status_code == 404
    tried = other.post(f"/transfers/{wrong.id}/accept", data={
        "csrf_token": csrf_from(theirs), "match": "new"}, follow_redirects=True)
    assert "has withdrawn it, so it can no longer be accepted" in _text(tried)
    assert db.session.scalar(select(func.count()).select_from(Child).where(
        Child.school_id == cedar.id)) == 0

    # The right school: sent again, as any file is.
    clock["now"] = SENT + dt.timedelta(hours=2)
    right = _send(client, w)
    assert right.id != wrong.id and right.to_school_id == w["brook"].id
    assert "Sent to Cedar School by mistake" not in (right.packet or "")
    # The withdrawn transfer, where why is kept, is still linked from the child's page.
    assert re.search(r"Sent to Cedar School on 14 May 2026 at 10:00am, then <a [^>]*href=\"/"
                     rf"transfers/{wrong.id}\"", client.get(f"/children/{w['amira'].id}")
                     .get_data(as_text=True))
    assert "read-only" in _text(client.get(f"/children/{w['amira'].id}"))


def test_an_accepted_file_cannot_be_withdrawn_and_what_was_typed_stays(
        app: Flask, client: FlaskClient, world: dict[str, Any],  # noqa: F811
        clock: dict[str, dt.datetime]) -> None:  # noqa: F811
    w = world
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    url = f"/transfers/{transfer.id}/withdraw"
    page = client.get(url)  # opened before the other school accepted it
    other = app.test_client()
    sign_in(other, w["rhys"])
    theirs = other.get(f"/transfers/{transfer.id}")
    assert other.post(f"/transfers/{transfer.id}/accept", data={
        "csrf_token": csrf_from(theirs), "match": "new"}).status_code == 302
    typed = "The family told us they are staying in Leeds after all."
    refused = client.post(url, data={"csrf_token": csrf_from(page), "reasons": typed})
    assert refused.status_code == 409
    said = _text(refused)
    assert "This file can no longer be withdrawn" in said
    assert "has already accepted this file, so it can no longer be withdrawn" in said
    assert "Accepted by Rhys Penhallow on 14 May 2026 at 10:00am" in said
    # What was typed is shown to copy; nothing offers to withdraw it (a walk: the page still
    # said "they have not accepted it yet" under the refusal, with the button).
    assert typed in said
    assert "They have not accepted it yet" not in said and 'name="reasons"' not in said
    db.session.expire_all()
    assert db.session.get(FileTransfer, transfer.id).state == "accepted"
    # Opened now: the transfer's page, saying why.
    again = client.get(url, follow_redirects=True)
    assert "can no longer be withdrawn" in _text(again)
    assert "Withdraw the file" not in _text(client.get(f"/transfers/{transfer.id}"))


def test_only_the_sending_schools_dsls_can_withdraw(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:  # noqa: F811
    w = world
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    for person in (w["rhys"], w["cedar_dsl"], w["staff"]):
        other = app.test_client()
        sign_in(other, person)
        assert other.get(f"/transfers/{transfer.id}/withdraw").status_code == 404
    db.session.expire_all()
    assert db.session.get(FileTransfer, transfer.id).state == "sent"


def test_accepting_and_withdrawing_at_once_one_wins(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:  # noqa: F811
    """The receiving DSL's page was loaded while the file was "sent"; the sending school
    withdrew it before the acceptance reached the database: the acceptance is refused and
    writes nothing (no child added), whatever the object in memory says."""
    w = world
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    db.session.expire_all()
    loaded = db.session.get(FileTransfer, transfer.id)
    assert loaded.state == "sent"
    db.session.execute(update(FileTransfer).where(FileTransfer.id == transfer.id)
                       .values(state="withdrawn").execution_options(synchronize_session=False))
    with pytest.raises(Refused, match="withdrawn it"):
        svc.accept(w["rhys"], loaded, None, SENT)
    assert db.session.scalar(select(func.count()).select_from(Child).where(
        Child.school_id == w["brook"].id)) == 0
    db.session.rollback()
