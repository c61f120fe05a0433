"""Every failed upload keeps the input (issue 12, item 4), with REAL files made at test time: a
15 MB photo (random noise at quality 95, checked to decode), small JPEG, PNG and PDF files, and a
JPEG cut short. Each failure comes back on the upload page, with the description and the tick
kept, and a message naming the limit and what to do; never a 500 or a bare 413 page; nothing is
stored."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import Attachment, db
from tests import realfiles
from tests.helpers.files import setup_world
from tests.helpers.signing_in import csrf_from, override_settings, sign_in

DESCRIPTION = "Photo of the note found in the Year 5 cloakroom — “keep this one”"


@pytest.fixture(scope="module")
def photo_15mb() -> bytes:
    data = realfiles.noise_jpeg(15)
    assert 14.5 * realfiles.MB < len(data) < 15.5 * realfiles.MB
    return data


def browser_body(parts: list[tuple[str, str | tuple[bytes, str]]]) -> tuple[bytes, str]:
    """A multipart body with its parts in the order given, as a browser sends a form: the
    fields in page order, so the description comes AFTER the file (Werkzeug's test client would
    put every text field first, which no browser does)."""
    boundary = "----portaltestboundary7MA4YWxkTrZu0gW"
    out = io.BytesIO()
    for name, value in parts:
        out.write(f"--{boundary}\r\n".encode())
        if isinstance(value, tuple):
            data, filename = value
            out.write(f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                      "Content-Type: application/octet-stream\r\n\r\n".encode())
            out.write(data)
        else:
            out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
            out.write(value.encode("utf-8"))
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post_upload(client: FlaskClient, url: str, data: bytes, name: str, *,
                token: str | None = None, description: str = DESCRIPTION) -> Any:
    token = token if token is not None else csrf_from(client.get(url))
    body, content_type = browser_body([
        ("csrf_token", token), ("file", (data, name)), ("description", description),
        ("confirm", "y"), ("submit", "y")])
    return client.post(url, data=body, content_type=content_type)


def assert_kept(html: str) -> None:
    """The upload page again, the description and tick as typed, an error summary."""
    assert "govuk-error-summary" in html
    assert "Photo of the note found in the Year 5 cloakroom — “keep this one”" in html.replace(
        "&#34;", '"').replace("&#39;", "'")
    assert 'name="confirm"' in html and "checked" in html.split('name="confirm"')[1][:200]
    assert "Sorry, there is a problem with the service" not in html


def nothing_stored(app: Flask) -> None:
    assert db.session.scalars(select(Attachment)).all() == []
    root = app.extensions["attachments"].root
    assert not root.exists() or not [p for p in root.iterdir() if not p.name.startswith(".")]


@pytest.fixture
def world(app: Flask, client: FlaskClient) -> dict[str, Any]:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    w["url"] = f"/incidents/{w['incident'].id}/attachments"
    return w


def test_a_real_15_mb_photo_comes_back_with_its_size_the_limit_and_the_text(
    app: Flask, client: FlaskClient, world: dict[str, Any], photo_15mb: bytes
) -> None:
    response = post_upload(client, world["url"], photo_15mb, "IMG_4032.JPG")
    html = response.get_data(as_text=True)
    # Larger than any other page accepts (413), but read whole: the page, not a bare 413.
    assert response.status_code == 413
    assert "The photo is 15 MB. The selected file must be smaller than 10 MB" in html
    assert "on a phone, send the photo at a smaller size" in html
    assert "Add a file" in html
    assert_kept(html)
    nothing_stored(app)


def test_a_photo_just_over_the_limit_says_over_not_the_limit_itself(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    override_settings(app, attachment_max_bytes=1024 * 1024)
    photo = realfiles.noise_jpeg(1.02)
    assert len(photo) > 1024 * 1024
    html = post_upload(client, world["url"], photo, "IMG_0001.jpg").get_data(as_text=True)
    assert "The photo is over 1 MB. The selected file must be smaller than 1 MB" in html
    assert_kept(html)
    nothing_stored(app)


@pytest.mark.parametrize(("make", "name", "message"), [
    (lambda: realfiles.truncated(realfiles.small_jpeg()), "IMG_0002.jpg",
     "The selected file could not be opened: it may be damaged or only partly saved"),
    (lambda: realfiles.truncated(realfiles.small_png()), "scan.png",
     "The selected file could not be opened: it may be damaged or only partly saved"),
    (lambda: realfiles.small_pdf()[:-200], "statement.pdf",
     "The selected file could not be opened: it may be damaged or only partly saved"),
    (lambda: b"Notes typed on a phone, saved with the wrong name\n" * 20, "IMG_0003.jpg",
     "The selected file must be a photo (JPEG, PNG, WebP or HEIC) or a PDF"),
    (lambda: realfiles.small_pdf(), "IMG_0004.jpg", None),  # named as a photo, is a PDF: fine
    (lambda: b"", "IMG_0005.jpg", "The selected file is empty"),
])
def test_unreadable_files_come_back_with_the_text_kept(
    app: Flask, client: FlaskClient, world: dict[str, Any], make: Any, name: str,
    message: str | None
) -> None:
    response = post_upload(client, world["url"], make(), name)
    html = response.get_data(as_text=True)
    if message is None:
        assert response.status_code == 302
        assert db.session.scalars(select(Attachment)).one().content_type == "application/pdf"
        return
    assert response.status_code == 200, html[:500]
    assert message in html
    assert_kept(html)
    nothing_stored(app)


@pytest.mark.parametrize(("make", "mime"), [
    (realfiles.small_jpeg, "image/jpeg"),
    (realfiles.small_png, "image/png"),
    (realfiles.small_pdf, "application/pdf"),
])
def test_real_small_files_are_stored_and_come_back_identical(
    app: Flask, client: FlaskClient, world: dict[str, Any], make: Any, mime: str
) -> None:
    data = make()
    response = post_upload(client, world["url"], data, "file")
    assert response.status_code == 302
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.content_type == mime
    assert client.get(f"/attachments/{attachment.id}").get_data() == data


def test_expired_page_keeps_the_description_and_says_what_to_do(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    token = csrf_from(client.get(world["url"]))
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    time.sleep(2.1)
    response = post_upload(client, world["url"], realfiles.small_jpeg(), "IMG_0006.jpg",
                           token=token)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert ("The page was open for a long time, so the file was not uploaded. Choose the file "
            "again and select Upload file") in html
    assert "Sorry, there is a problem with the page" not in html
    assert_kept(html)
    nothing_stored(app)
    # The page's fresh token works: choosing the file again uploads it.
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    again = post_upload(client, world["url"], realfiles.small_jpeg(), "IMG_0006.jpg",
                        token=csrf_from(html))
    assert again.status_code == 302


def test_other_errors_ask_for_the_file_again_and_keep_the_text(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    token = csrf_from(client.get(world["url"]))
    response = client.post(world["url"], data={
        "csrf_token": token, "file": (io.BytesIO(realfiles.small_jpeg()), "IMG_0007.jpg"),
        "description": DESCRIPTION}, content_type="multipart/form-data")  # no tick
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Confirm that the file is not an image of a child&#39;s body" in html
    assert "Choose the file again: a chosen file is not kept when the page comes back" in html
    assert "Photo of the note found in the Year 5 cloakroom" in html
    nothing_stored(app)


def test_a_body_over_even_the_upload_limit_keeps_the_text_when_it_can(
    app: Flask, client: FlaskClient, world: dict[str, Any], photo_15mb: bytes
) -> None:
    # The upload page reads at most twice its limit to find what was typed.
    override_settings(app, upload_body_max_bytes=12 * realfiles.MB)
    response = post_upload(client, world["url"], photo_15mb, "IMG_4032.JPG")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The file is 15 MB. The selected file must be smaller than 10 MB" in html
    assert_kept(html)
    # Beyond that the text cannot be read: the page says how to get it back.
    override_settings(app, upload_body_max_bytes=4 * realfiles.MB)
    app.config["MAX_CONTENT_LENGTH"] = realfiles.MB
    response = post_upload(client, world["url"], photo_15mb, "IMG_4032.JPG")
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The selected file must be smaller than 10 MB" in html
    assert "use your browser&#39;s Back button to return to the form" in html
    assert "Sorry, there is a problem" not in html
    nothing_stored(app)


def test_other_pages_keep_the_usual_body_limit(
    app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    """Only the upload page reads a large body: elsewhere it is refused before it is read."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/account/password", data=b"x",
                           headers={"Content-Length": str(limit + 1),
                                    "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code in (400, 413)
