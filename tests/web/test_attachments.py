"""Attachments on an incident through the real upload form (CSRF on): checked by content and
size, stored only as ciphertext, downloaded byte for byte with download headers, refused to
anyone who may not see them. Never an image of a child's body: the warning and the tick box."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from portal.crypto import DecryptionError
from portal.models import Attachment, AuditEvent, Incident, db
from tests import factories
from tests.helpers.files import (
    CANARY,
    PDF,
    png_bytes,
    setup_world,
)
from tests.helpers.signing_in import csrf_from, override_settings, sign_in

WARNING = ("Never upload images of a child&#39;s body, including nudes or semi-nudes. Staff must "
           "not view, copy, forward or ask for them (UK Council for Internet Safety advice on "
           "sharing nudes and semi-nudes). Record what was described instead.")




def upload(client: FlaskClient, incident: Incident, data: bytes, name: str, *,
           confirm: bool = True, description: str = "Teacher's notes") -> Any:
    url = f"/incidents/{incident.id}/attachments"
    token = csrf_from(client.get(url))
    form: dict[str, Any] = {"csrf_token": token, "description": description,
                            "file": (io.BytesIO(data), name)}
    if confirm:
        form["confirm"] = "y"
    return client.post(url, data=form, content_type="multipart/form-data")


def only_attachment() -> Attachment:
    return db.session.scalars(select(Attachment)).one()


def test_warning_and_tick_box_come_before_the_file(app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    html = client.get(f"/incidents/{w['incident'].id}/attachments").get_data(as_text=True)
    assert WARNING in html
    assert html.index(WARNING) < html.index('type="file"')
    assert 'name="confirm"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "No files have been added to this incident" in html


@pytest.mark.parametrize(("data", "name", "mime"), [
    (png_bytes(), "note.png", "image/png"),
    (PDF, "statement.pdf", "application/pdf"),
])
def test_upload_then_download_identical_bytes(app: Flask, client: FlaskClient, data: bytes,
                                               name: str, mime: str) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    response = upload(client, w["incident"], data, name)
    assert response.status_code == 302
    attachment = only_attachment()
    assert attachment.content_type == mime and attachment.size == len(data)
    assert attachment.filename == name and attachment.description == "Teacher's notes"
    assert attachment.incident_id == w["incident"].id
    # Name and description are encrypted in the row; the file on disk holds no plaintext.
    assert name.encode() not in (attachment.filename_enc or b"")
    store = app.extensions["attachments"]
    raw = store.path(attachment.id.hex).read_bytes()
    assert CANARY not in raw and data not in raw

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "File uploaded" in page and name in page and "Teacher&#39;s notes" in page
    assert f"/attachments/{attachment.id}" in page

    download = client.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.get_data() == data
    assert download.headers["Content-Type"] == mime
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert name in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert int(download.headers["Content-Length"]) == len(data)

    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert "attachment.uploaded" in actions and "attachment.downloaded" in actions
    uploaded = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "attachment.uploaded")).one()
    assert uploaded.object_id == str(attachment.id)
    assert uploaded.detail["content_type"] == mime


@pytest.mark.parametrize(("data", "name"), [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64, "photo.png"),
    (b"This is only text, whatever its name says\n" * 4, "photo.png"),
    (b"#!/bin/sh\necho hello\n", "notes.pdf"),
])
def test_wrong_content_is_refused_with_the_message(app: Flask, client: FlaskClient,
                                                   data: bytes, name: str) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    response = upload(client, w["incident"], data, name)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The selected file must be a photo (JPEG, PNG, WebP or HEIC) or a PDF" in html
    assert "govuk-error-summary" in html
    assert db.session.scalars(select(Attachment)).all() == []
    assert not list(app.extensions["attachments"].root.glob("*")) or all(
        p.name.startswith(".") for p in app.extensions["attachments"].root.iterdir())


def test_tick_box_is_required(app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    response = upload(client, w["incident"], png_bytes(), "note.png", confirm=False)
    assert response.status_code == 200
    assert "Confirm that the file is not an image of a child&#39;s body" in response.get_data(
        as_text=True)
    assert db.session.scalars(select(Attachment)).all() == []


def test_oversize_is_refused_with_the_message(app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    override_settings(app, attachment_max_bytes=1024 * 1024)
    sign_in(client, w["dsl"])
    big = png_bytes() + b"\x00" * (1024 * 1024)
    response = upload(client, w["incident"], big, "big.png")
    assert response.status_code == 200
    assert "The selected file must be smaller than 1 MB" in response.get_data(as_text=True)
    assert db.session.scalars(select(Attachment)).all() == []


def test_request_too_large_gives_a_friendly_page_keeping_the_description(
    app: Flask, client: FlaskClient
) -> None:
    w = setup_world(app)
    override_settings(app, attachment_max_bytes=1024 * 1024)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024 + 64 * 1024
    sign_in(client, w["dsl"])
    huge = png_bytes() + b"\x00" * (2 * 1024 * 1024)
    response = upload(client, w["incident"], huge, "huge.png",
                      description="Photo of the note found in the corridor")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "The selected file must be smaller than 1 MB" in html
    assert "Photo of the note found in the corridor" in html
    assert "govuk-error-summary" in html
    assert db.session.scalars(select(Attachment)).all() == []


def test_other_schools_attachment_and_incident_are_404(app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    assert upload(client, w["incident"], png_bytes(), "note.png").status_code == 302
    attachment = only_attachment()

    other = factories.school("Northgate College", "darlington")
    other_dsl = factories.user("dsl", org=other)
    db.session.commit()
    other_client = app.test_client()
    sign_in(other_client, other_dsl)
    assert other_client.get(f"/attachments/{attachment.id}").status_code == 404
    assert other_client.get(f"/incidents/{w['incident'].id}/attachments").status_code == 404
    assert other_client.get("/attachments/..%2F..%2Fetc%2Fpasswd").status_code == 404

    staff_client = app.test_client()
    sign_in(staff_client, w["staff"])
    assert staff_client.get(f"/attachments/{attachment.id}").status_code == 404
    assert staff_client.get(f"/incidents/{w['incident'].id}/attachments").status_code == 404
    downloads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")).all()
    assert downloads == []


def test_tampered_file_is_never_served_partially(app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    data = png_bytes(CANARY * 20000)  # several 64 KB chunks
    assert upload(client, w["incident"], data, "long.png").status_code == 302
    attachment = only_attachment()
    path = app.extensions["attachments"].path(attachment.id.hex)
    raw = bytearray(path.read_bytes())
    raw[-40] ^= 0x01  # corrupt the last chunk
    path.write_bytes(bytes(raw))
    response = client.get(f"/attachments/{attachment.id}", buffered=False)
    with pytest.raises(DecryptionError):
        response.get_data()
    # Only whole authenticated chunks were ever produced, and fewer than the file's size.
    assert int(response.headers["Content-Length"]) == len(data)


def test_incident_partial_lists_files_and_offers_the_form(app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    assert upload(client, w["incident"], PDF, "statement.pdf").status_code == 302
    with app.test_request_context():
        from flask import render_template_string
        from flask_login import login_user

        login_user(w["dsl"])
        html = render_template_string('{% include "children/_incident_attachments.html" %}',
                                      incident=w["incident"])
    assert "statement.pdf" in html and "/attachments/" in html
    assert WARNING in html and 'name="confirm"' in html and 'name="csrf_token"' in html


def test_incident_page_shows_each_file_in_words_oldest_first(app: Flask,
                                                             client: FlaskClient) -> None:
    """The incident page's files panel (read as columns and decrypted as the objects would be):
    each file's name, what it is, its description and who added it, oldest first; a file
    that is gone from the list is gone from the page."""
    w = setup_world(app)
    sign_in(client, w["dsl"])
    assert upload(client, w["incident"], PDF, "statement.pdf",
                  description="Written by the form tutor").status_code == 302
    assert upload(client, w["incident"], png_bytes(), "screenshot.png",
                  description="What was sent").status_code == 302
    page = client.get(f"/incidents/{w['incident'].id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    first, second = html.index("statement.pdf"), html.index("screenshot.png")
    assert first < second
    assert "Written by the form tutor" in html and "What was sent" in html
    assert f"Added by {w['dsl'].display_name} on" in html
    assert "No files have been added to this incident." not in html


def test_incident_page_reads_its_files_before_its_commit(app: Flask, client: FlaskClient) -> None:
    """The Files panel is read with the rest of the page, in its one transaction: nothing is
    read after the page's commit (a read from the template then began a second transaction),
    and the file is still listed."""
    w = setup_world(app)
    sign_in(client, w["dsl"])
    assert upload(client, w["incident"], PDF, "statement.pdf").status_code == 302
    seen: list[str] = []

    def statement(conn: Any, cursor: Any, text: str, *_: Any) -> None:
        seen.append(text)

    def commit(conn: Any) -> None:
        seen.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        page = client.get(f"/incidents/{w['incident'].id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
    assert page.status_code == 200 and "statement.pdf" in page.get_data(as_text=True)
    assert seen.count("COMMIT") == 1
    assert seen[-1] == "COMMIT", seen[seen.index("COMMIT") + 1:]
    assert any("FROM attachments" in text for text in seen[:seen.index("COMMIT")])
