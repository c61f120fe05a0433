"""The security headers are set in one pass (portal/security.py `_set_all`, issue 15) with the
same result as setting each in turn: every header a page sends, in the same order."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.wrappers import Response

from portal.security import ALWAYS, CSP, HSTS, NO_STORE, _set_all

ALREADY = [
    [],
    [("Cache-Control", "private")],
    [("X-A", "1"), ("cache-control", "a"), ("Server", "x"), ("Cache-Control", "b"), ("X-B", "2"),
     ("pragma", "p"), ("server", "y")],
    [("Content-Disposition", "attachment"), ("X-Content-Type-Options", "nosniff"),
     ("Cache-Control", "no-store")],
]


def _one_at_a_time(response: Response, fixed: tuple[tuple[str, str], ...]) -> None:
    for name, value in fixed:
        response.headers[name] = value
    response.headers.pop("Server", None)


@pytest.mark.parametrize("already", ALREADY)
@pytest.mark.parametrize("fixed", [ALWAYS, ALWAYS + NO_STORE, ALWAYS + HSTS + NO_STORE])
def test_one_pass_sets_what_setting_each_would(already: list[tuple[str, str]],
                                               fixed: tuple[tuple[str, str], ...]) -> None:
    expected, got = Response("x"), Response("x")
    for name, value in already:
        expected.headers.add(name, value)
        got.headers.add(name, value)
    _one_at_a_time(expected, fixed)
    _set_all(got.headers, fixed)
    assert list(got.headers.items()) == list(expected.headers.items())
    assert "Server" not in got.headers


def test_a_page_and_a_static_file(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/sign-in")
    assert page.headers["Content-Security-Policy"] == CSP
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers.getlist("Cache-Control") == ["no-store"]
    assert page.headers["Pragma"] == "no-cache"
    assert "Server" not in page.headers
    asset = client.get("/static/css/portal.css")
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in asset.headers.get("Cache-Control", "")
