"""Retention meets transfers and sealed files (issue 16, fix 5): destroying waits for the new
school's receipt; the sending school can destroy its read-only copy once the transfer is accepted
while the receiving school still reads its own; the receiving school destroying a child it
received leaves nothing of that file decryptable, the transfer packet and its files included.
Real forms, CSRF on."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import keyops
from portal.crypto import KeyShredded
from portal.models import (
    Child,
    ChildRecordEntry,
    FileTransfer,
    TransferAttachment,
    db,
    keyring,
)
from portal.services import retention
from tests.web.conftest import csrf_from, sign_in
from tests.web.test_attachments import PDF
from tests.web.test_transfers import _send, clock, world  # noqa: F401 (fixtures)

BORN_LONG_AGO = dt.date(2000, 3, 1)  # 25 years on: 1 March 2025, so due now
WAITING_TRANSFER = ("The file has been sent to the child's new school and they have not "
                    "accepted it yet")
WAITING_SEALED = "A sealed copy of the file is waiting for the new school to confirm receipt"


@pytest.fixture
def due(world: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The world of tests/web/test_transfers.py, with Amira and Ben due for review and their
    incident closed, so nothing else stops their files being destroyed."""
    for child in (world["amira"], world["ben"]):
        child.dob = BORN_LONG_AGO
    world["incident"].state = "closed"
    db.session.commit()
    assert retention.destroy_blockers(db.session, world["amira"]) == []
    return world


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _refused(client: FlaskClient, child: Child, reason: str) -> None:
    url = f"/retention/{child.id}/destroy"
    page = _text(client.get(url))
    assert "This file cannot be destroyed now" in page and reason in page
    assert "Destroy this file" not in page
    refused = client.post(url, data={"csrf_token": csrf_from(client.get(url))})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Child, child.id).destroyed_at is None


def _destroy(client: FlaskClient, child: Child) -> None:
    url = f"/retention/{child.id}/destroy"
    page = client.get(url)
    assert page.status_code == 200 and "Destroy this file" in _text(page), _text(page)
    done = client.post(url, data={"csrf_token": csrf_from(page)})
    assert done.status_code == 302, _text(done)


def _accept(app: Flask, w: dict[str, Any], transfer: FileTransfer) -> tuple[FlaskClient, Child]:
    other = app.test_client()
    sign_in(other, w["rhys"])
    page = other.get(f"/transfers/{transfer.id}")
    accepted = other.post(f"/transfers/{transfer.id}/accept", data={
        "csrf_token": csrf_from(page), "match": "new"})
    assert accepted.status_code == 302
    received = db.session.scalar(select(Child).where(Child.school_id == w["brook"].id))
    assert received is not None
    return other, received


def test_destroying_waits_for_a_transfer_to_be_accepted(
        app: Flask, client: FlaskClient, due: dict[str, Any]) -> None:
    sign_in(client, due["dana"])
    _send(client, due)
    assert retention.destroy_blockers(db.session, due["amira"]) == [WAITING_TRANSFER]
    _refused(client, due["amira"], WAITING_TRANSFER)


def test_destroying_waits_for_a_sealed_file_to_be_received(
        client: FlaskClient, due: dict[str, Any]) -> None:
    ben = due["ben"]
    sign_in(client, due["dana"])
    url = f"/children/{ben.id}/send-outside"
    made = client.post(url, data={"csrf_token": csrf_from(client.get(url)),
                                  "receiving_school": "Riverside Academy, Leeds"})
    assert made.status_code == 302
    assert retention.destroy_blockers(db.session, ben) == [WAITING_SEALED]
    _refused(client, ben, WAITING_SEALED)
    # Withdrawn (made by mistake): it waits for nothing any more.
    withdraw = made.headers["Location"] + "/withdraw"
    assert client.post(withdraw, data={"csrf_token": csrf_from(client.get(withdraw))}
                       ).status_code == 302
    assert retention.destroy_blockers(db.session, ben) == []


def test_the_sender_destroys_its_read_only_copy_and_the_receiver_still_reads_its_own(
        app: Flask, client: FlaskClient, due: dict[str, Any]) -> None:
    w = due
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    other, received = _accept(app, w, transfer)

    # The sending school's copy is read-only, yet its retention runs.
    _destroy(client, w["amira"])
    db.session.expire_all()
    assert db.session.get(Child, w["amira"].id).destroyed_at is not None
    assert client.get(f"/children/{w['amira'].id}").status_code == 404
    assert "Accepted by Rhys Penhallow" in _text(client.get(f"/transfers/{transfer.id}"))

    # Brookside's copy is its own: the child, the file that came, the attached file.
    page = other.get(f"/children/{received.id}")
    assert page.status_code == 200
    text = _text(page)
    assert "Amira Okonkwo" in text and "Child protection file from Oakfield Academy" in text
    came = _text(other.get(f"/transfers/{transfer.id}"))
    assert "pushed Amira at lunch" in came and "Early help" in came
    copy = db.session.scalar(select(TransferAttachment))
    assert copy is not None
    download = other.get(f"/transfers/files/{copy.id}")
    assert download.status_code == 200 and download.data == PDF


def test_the_receiver_destroying_a_received_file_leaves_nothing_of_it_readable(
        app: Flask, client: FlaskClient, due: dict[str, Any]) -> None:
    w = due
    sign_in(client, w["dana"])
    transfer = _send(client, w)
    other, received = _accept(app, w, transfer)
    copy = db.session.scalar(select(TransferAttachment))
    assert copy is not None
    copy_path = Path(app.extensions["attachments"].path(copy.store_name))
    assert copy_path.exists()
    lines = [(ctx, blob) for ctx, blob in _blobs(Child, Child.id == received.id)
             + _blobs(ChildRecordEntry, ChildRecordEntry.child_id == received.id)]
    assert lines

    received.dob = BORN_LONG_AGO
    db.session.commit()
    _destroy(other, received)

    db.session.expire_all()
    # The received child's own values: its key is shredded.
    for ctx, blob in lines:
        with pytest.raises(KeyShredded):
            keyring().decrypt(ctx, blob)
    # The packet and its files, kept under the school's key: emptied, and the file is gone.
    for model, where in ((FileTransfer, FileTransfer.id == transfer.id),
                         (TransferAttachment, TransferAttachment.transfer_id == transfer.id)):
        assert _readable(model, where) == [], model.__name__
    assert not copy_path.exists()
    assert other.get(f"/children/{received.id}").status_code == 404
    assert other.get(f"/transfers/files/{copy.id}").status_code == 404
    assert other.get(f"/transfers/{transfer.id}").status_code == 404
    # The sending school's own copy is untouched.
    assert "pushed Amira at lunch" in _text(client.get(f"/children/{w['amira'].id}"))


def _groups(model: Any) -> list[Any]:
    return [g for g in keyops.encrypted_field_groups() if g.model is model]


def _blobs(model: Any, where: Any) -> list[tuple[Any, bytes]]:
    found = []
    for group in _groups(model):
        for row in db.session.scalars(select(model).where(where)):
            for f in group.fields:
                blob = getattr(row, f.column)
                if blob is not None:
                    found.append((f.context(row), bytes(blob)))
    return found


def _readable(model: Any, where: Any) -> list[str]:
    """The values of these rows that any key still opens."""
    out = []
    for group in _groups(model):
        for row in db.session.scalars(select(model).where(where)):
            for f in group.fields:
                blob = getattr(row, f.column)
                if blob is None:
                    continue
                try:
                    out.append(f.decrypt_blob(row, blob).decode("utf-8", "replace"))
                except Exception:
                    continue
    return out
