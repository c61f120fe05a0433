"""The sign-in page kept whole for signed-out visitors (portal/token_pages.py, issue 15): what it
serves is byte for byte what rendering gives (its CSRF token aside, which is the request's own),
for a first visit, a returning visitor, after signing out (a flashed message), after a refused
attempt (errors, then the blank page again), under a path prefix, and after the settings change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal import token_pages
from portal.models import User, db
from tests import factories
from tests.helpers.signing_in import csrf_from, override_settings, sign_in

_TOKEN = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+(")')


def _steady(response: TestResponse) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers (a cookie's value aside: it holds the token) and the HTML with its
    token replaced; the page must hold exactly one token."""
    html, tokens = _TOKEN.subn(r"\1TOKEN\2", response.get_data(as_text=True))
    assert tokens == 1
    headers = [(k, "set" if k == "Set-Cookie" else v) for k, v in response.headers.items()]
    return response.status_code, headers, html


@contextmanager
def _renders(app: Flask) -> Iterator[list[str]]:
    names: list[str] = []

    def seen(sender: Any, template: Any, context: Any, **_: Any) -> None:
        names.append(template.name)

    with template_rendered.connected_to(seen, app):
        yield names


def _visits(app: Flask, user: User) -> list[tuple[str, TestResponse, list[str]]]:
    """Each step's name, response and the templates it rendered."""
    out: list[tuple[str, TestResponse, list[str]]] = []
    first, other = app.test_client(), app.test_client()

    def get(name: str, client: FlaskClient, **kw: Any) -> TestResponse:
        with _renders(app) as names:
            response = client.get("/sign-in", **kw)
        out.append((name, response, names))
        return response

    page = get("first visit", first)
    get("first visit, another browser", other)
    get("returning visitor", first)
    with _renders(app) as names:
        bad = first.post("/sign-in", data={"csrf_token": csrf_from(page), "email": "x@y.test",
                                           "password": "wrong"})
    out.append(("a refused attempt", bad, names))
    get("blank after a refused attempt", first)
    assert sign_in(other, user).status_code == 302
    signed_in = other.get("/home").get_data(as_text=True)
    other.post("/sign-out", data={"csrf_token": csrf_from(signed_in)})
    get("signed out (flashed)", other)
    get("signed out, next visit", other)
    get("under a path prefix", first, environ_overrides={"SCRIPT_NAME": "/portal"})
    get("under a path prefix again", other, environ_overrides={"SCRIPT_NAME": "/portal"})
    get("back at the root", first)
    override_settings(app, login_max_failures=7, hide_page_url="https://example.test/n?a=1&b=2")
    get("settings changed", first)
    get("settings changed, again", other)
    return out


def test_kept_page_is_the_rendered_page(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    user = factories.user("staff", org=factories.school())
    db.session.commit()
    settings = app.config["PORTAL_SETTINGS"]

    monkeypatch.setattr(token_pages, "_fixed_now", lambda: False)
    expected = _visits(app, user)
    monkeypatch.undo()
    app.config["PORTAL_SETTINGS"] = settings
    got = _visits(app, user)

    for (name, old, _), (_, new, _) in zip(expected, got, strict=True):
        assert _steady(new) == _steady(old), name
    pages = {name: (response.get_data(as_text=True), names) for name, response, names in got}
    assert "You&#39;ve signed out" in pages["signed out (flashed)"][0]
    assert "There is a problem" in pages["a refused attempt"][0]
    assert 'action="/portal/sign-in"' in pages["under a path prefix"][0]
    assert "After 7 wrong attempts" in pages["settings changed"][0]
    assert "n?a=1&amp;b=2" in pages["settings changed"][0]
    # Rendered where nothing fitting was kept, or where the page is not the fixed one; the kept
    # parts served everywhere else.
    rendered = [name for name, _, names in got if names]
    assert rendered == ["first visit", "a refused attempt", "signed out (flashed)",
                        "under a path prefix", "settings changed"]


def test_each_visitor_gets_their_own_token(app: Flask) -> None:
    """The kept page carries the token of the visitor's own session, which their form then
    passes with (a refused password, not a stale form)."""
    browsers = [app.test_client() for _ in range(3)]
    tokens = [csrf_from(b.get("/sign-in").get_data(as_text=True)) for b in browsers]
    again = csrf_from(browsers[0].get("/sign-in").get_data(as_text=True))
    assert len(set(tokens)) == 3
    for token, browser in zip([again, *tokens[1:]], browsers, strict=True):
        refused = browser.post("/sign-in", data={"csrf_token": token, "email": "a@b.test",
                                                 "password": "x"})
        assert refused.status_code == 200
        assert "Enter a correct email address and password" in refused.get_data(as_text=True)
