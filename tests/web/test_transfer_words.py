"""The received file says whose references it shows, once: "Incident I0001 (a reference at
Oakfield Academy)", never "Incident I0001 (incident I0001)"; other children as "BL (C0002 at
Oakfield Academy)"."""

from __future__ import annotations

import html
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import sign_in
from tests.web.test_transfers import _send, clock, world  # noqa: F401 (fixtures)


def test_the_received_file_names_the_previous_schools_references(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:  # noqa: F811
    sign_in(client, world["dana"])
    transfer = _send(client, world)
    other = app.test_client()
    sign_in(other, world["rhys"])
    text = html.unescape(other.get(f"/transfers/{transfer.id}").get_data(as_text=True))
    assert "(incident I0001)" not in text
    assert "I0001 (a reference at Oakfield Academy)" in text
    assert "BL (C0002 at Oakfield Academy)" in text
