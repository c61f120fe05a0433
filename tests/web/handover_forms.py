"""Handing an incident over through the pages (issue 14): the form, its preview, then the
confirmation, as a DSL's browser sends them (CSRF and the submission key from the pages)."""

from __future__ import annotations

import html
import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.signing_in import csrf_from

CONTACT: dict[str, Any] = {
    "role": "Designated safeguarding lead",
    "phone": "01234 567890",
    "availability": "Weekdays 8am to 5pm",
}
_FORM_RE = re.compile(r"<form\b[^>]*>(.*?)</form>", re.S)
_INPUT_RE = re.compile(r"<input\b([^>]*)>", re.S)
_ATTR_RE = re.compile(r'(\w[\w-]*)="([^"]*)"')


def hidden_fields(page: str, step: str) -> list[tuple[str, str]]:
    """The hidden fields of the page's form that posts `step` ("confirm" or "change")."""
    for body in _FORM_RE.findall(page):
        fields = []
        for attrs in _INPUT_RE.findall(body):
            found = dict(_ATTR_RE.findall(attrs))
            if found.get("type") == "hidden" and "name" in found:
                fields.append((found["name"], html.unescape(found.get("value", ""))))
        if ("step", step) in fields:
            return fields
    raise AssertionError(f"no form with step {step} on the page")


def preview(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> TestResponse:
    """GET the hand-over form and post it to be previewed: the DSL's contact details, "yes,
    they agree" for each child unless `data` says otherwise, and `data`."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    text = page.get_data(as_text=True)
    form: dict[str, Any] = {"csrf_token": csrf_from(text), "step": "preview", **CONTACT}
    for ref in sorted(set(re.findall(r'name="agree_(C\d+)"', text))):
        form[f"agree_{ref}"] = "yes"
    form.update(data or {})
    return client.post(url, data=form)


def confirm(client: FlaskClient, url: str, shown: TestResponse) -> TestResponse:
    """Post the confirmation form of a preview page, as it is."""
    assert shown.status_code == 200, shown.status_code
    fields = hidden_fields(shown.get_data(as_text=True), "confirm")
    form: dict[str, list[str]] = {}
    for name, value in fields:
        form.setdefault(name, []).append(value)
    return client.post(url, data=form)


def hand_over(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> TestResponse:
    """Fill in, preview and confirm: the response to the confirmation."""
    return confirm(client, url, preview(client, url, data))
