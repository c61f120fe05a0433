"""The incident page's upload form (its Files panel) is the upload page's form, character for
character, though its fields are rendered once per process (portal/children/views.py,
blank_upload_fields): only the CSRF token and the one-time key differ per request, and nothing a
user typed into an earlier upload ever shows in it."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.files import setup_world
from tests.helpers.signing_in import csrf_from, override_settings, sign_in
from tests.web.test_form_html_identical import _steady

_FORM = re.compile(r"<form[^>]*data-portal-upload>.*?</form>", re.S)


def upload_form(html: str) -> str:
    found = _FORM.findall(html)
    assert len(found) == 1
    return _steady(found[0])


def test_the_incident_page_shows_the_upload_pages_form(app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    incident_url = f"/incidents/{w['incident'].id}"
    upload_url = f"{incident_url}/attachments"
    expected = upload_form(client.get(upload_url).get_data(as_text=True))
    first = client.get(incident_url).get_data(as_text=True)
    second = client.get(incident_url).get_data(as_text=True)
    assert upload_form(first) == expected
    assert upload_form(second) == expected
    assert 'name="confirm"' in expected and "Upload file" in expected
    # The token and the key are this request's: the form posts with the page's own token.
    assert csrf_from(first) and 'name="submission_key" value="' in _FORM.findall(first)[0]
    keys = [re.search(r'name="submission_key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            for page in (first, second)]
    assert keys[0] != keys[1]


def test_what_was_typed_into_a_refused_upload_never_shows_on_the_page(
        app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    incident_url = f"/incidents/{w['incident'].id}"
    upload_url = f"{incident_url}/attachments"
    before = upload_form(client.get(incident_url).get_data(as_text=True))
    refused = client.post(upload_url, data={
        "csrf_token": csrf_from(client.get(upload_url)),
        "description": "Notes about Amira Okonkwo",
        "file": (io.BytesIO(b"not a picture"), "x.png")}, content_type="multipart/form-data")
    assert refused.status_code == 200
    assert "Notes about Amira Okonkwo" in refused.get_data(as_text=True)
    after = client.get(incident_url).get_data(as_text=True)
    assert "Notes about Amira Okonkwo" not in after
    assert upload_form(after) == before


def test_a_changed_size_limit_shows_at_once(app: Flask, client: FlaskClient) -> None:
    w = setup_world(app)
    sign_in(client, w["dsl"])
    incident_url = f"/incidents/{w['incident'].id}"
    assert "Files must be smaller than 10 MB" in client.get(incident_url).get_data(as_text=True)
    override_settings(app, attachment_max_bytes=2 * 1024 * 1024)
    page = client.get(incident_url).get_data(as_text=True)
    assert "Files must be smaller than 2 MB" in page
    assert f'data-max-bytes="{2 * 1024 * 1024}"' in page
    assert upload_form(page) == upload_form(
        client.get(f"{incident_url}/attachments").get_data(as_text=True))
