"""Issue 11, item 9: an oversized upload sent chunked (no Content-Length) is a 413 with the
upload page again (what was typed kept), not a 500; 405 and 413 elsewhere say what happened in
plain words, not "a problem with the service"."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import Attachment, db
from tests.helpers.files import png_bytes
from tests.helpers.signing_in import csrf_from, override_settings, sign_in
from tests.hostile import assert_no_leak
from tests.hostile.test_uploads_and_paths import world

SERVICE_PROBLEM = "problem with the service"


def multipart(fields: dict[str, str], file_bytes: bytes) -> tuple[bytes, str]:
    boundary = "----portal-test-boundary"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                  f"{value}\r\n".encode())
    out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
              f"filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n".encode())
    out.write(file_bytes)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def chunked_post(client: FlaskClient, url: str, body: bytes, content_type: str) -> Any:
    """A POST as a chunked request reaches the app: a body with no Content-Length."""
    return client.post(url, input_stream=io.BytesIO(body), content_type=content_type,
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_chunked_oversized_upload_is_413_with_the_form(app: Flask, client: FlaskClient) -> None:
    w = world()
    override_settings(app, attachment_max_bytes=64 * 1024)
    app.config["MAX_CONTENT_LENGTH"] = 128 * 1024
    sign_in(client, w["dsl"])
    url = f"/incidents/{w['incident'].id}/attachments"
    for size in (200 * 1024, 2 * 1024 * 1024):
        token = csrf_from(client.get(url))
        body, ctype = multipart({"csrf_token": token, "description": "Photo of the note",
                                 "confirm": "y"}, png_bytes() + b"\0" * size)
        response = chunked_post(client, url, body, ctype)
        text = response.get_data(as_text=True)
        assert response.status_code == 413, f"{size}: {response.status_code}"
        assert "must be smaller than" in text and "Photo of the note" in text
        assert SERVICE_PROBLEM not in text
        assert_no_leak(text, f"chunked upload of {size} bytes")
    assert db.session.scalars(select(Attachment)).all() == []


def test_oversized_post_elsewhere_says_too_large(app: Flask, client: FlaskClient) -> None:
    w = world()
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    sign_in(client, w["dsl"])
    url = f"/incidents/{w['incident'].id}/summary"
    token = csrf_from(client.get(url))
    for response in (
        client.post(url, data={"csrf_token": token, "summary": "x" * 200_000}),
        chunked_post(client, url, f"csrf_token={token}&summary={'x' * 200_000}".encode(),
                     "application/x-www-form-urlencoded"),
    ):
        assert response.status_code == 413
        text = response.get_data(as_text=True)
        assert SERVICE_PROBLEM not in text
        assert "too much" in text.lower() or "too large" in text.lower()
        assert_no_leak(text, url)


def test_wrong_method_is_405_in_plain_words(app: Flask, client: FlaskClient) -> None:
    w = world()
    sign_in(client, w["dsl"])
    for response in (client.put("/children"), client.delete(f"/incidents/{w['incident'].id}"),
                     client.post("/home")):
        assert response.status_code == 405
        text = response.get_data(as_text=True)
        assert SERVICE_PROBLEM not in text
        assert "cannot be used that way" in text
        assert "Allow" in response.headers
