"""Issue 11, items 5 and 8: what searching for a child reveals, and to whom.

5. A child's name never reaches a URL, so never an access log: the portal runs under a real
   HTTP server (werkzeug's, writing its access log to a file), every search form is submitted
   over HTTP, and the log is read back: no name in it.
8. Staff find a child only by the full name; a DSL also by the family name alone (partial).
"""

from __future__ import annotations

import http.cookiejar
import logging
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from portal.models import db
from tests import factories
from tests.helpers.concerns import post_form
from tests.helpers.signing_in import COOKIE, csrf_from, sign_in
from tests.referral_data import incident as make_incident

GIVEN, FAMILY = "Maisíe", "Quarrendon"


class Browser:
    """A minimal browser over real HTTP: cookies kept, redirects followed."""

    def __init__(self, base: str, cookie: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        host = urllib.parse.urlsplit(base).hostname or "127.0.0.1"
        self.jar.set_cookie(http.cookiejar.Cookie(
            0, COOKIE, cookie, None, False, host, False, False, "/", True, False, None, True,
            None, None, {}))
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, Any]:
        with self.opener.open(self.base + path) as response:
            return response.status, response.read().decode("utf-8"), response.headers

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode("ascii")
        with self.opener.open(self.base + path, data=body) as response:
            return response.status, response.read().decode("utf-8")


@pytest.fixture
def served(app: Flask, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The app under werkzeug's threaded HTTP server, its access log written to a file."""
    log_path = tmp_path / "access.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    logger = logging.getLogger("werkzeug")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", log_path
    finally:
        server.shutdown()
        thread.join(5)
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _forms(html: str) -> list[str]:
    return re.findall(r"<form\b[^>]*>", html, re.I)


def test_no_child_name_in_the_access_log(app: Flask, client: FlaskClient,
                                         served: tuple[str, Path]) -> None:
    base, log_path = served
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school)
    child = factories.child(school, GIVEN, FAMILY)
    incident = make_incident(school, dsl, [(child, "harmed")])
    db.session.commit()
    full = f"{GIVEN} {FAMILY}"

    sign_in(client, dsl)
    dsl_browser = Browser(base, _cookie(client))
    staff_client = app.test_client()
    sign_in(staff_client, staff)
    staff_browser = Browser(base, _cookie(staff_client))

    searches = [
        (dsl_browser, "/children", "name", full),
        (dsl_browser, "/children", "name", FAMILY),
        (dsl_browser, f"/incidents/{incident.id}/children", "name", full),
        (staff_browser, "/concerns/new", "child_search", full),
        (dsl_browser, "/concerns/new", "child_search", FAMILY),
    ]
    for browser, path, field, name in searches:
        status, html, _ = browser.get(path)
        assert status == 200
        # Every form holding a name box posts it: none is a GET form.
        for form in _forms(html):
            if "role=\"search\"" in form or path in form:
                assert 'method="post"' in form.lower(), f"{path}: {form}"
        data = {"csrf_token": csrf_from(html), field: name}
        if field == "child_search":
            data["find"] = "y"
        status, html = browser.post(path, data)
        assert status == 200, path
        assert child.reference in html, f"{path}: the search found nothing, so proves nothing"

    log = log_path.read_text(encoding="utf-8")
    assert "POST /children" in log and "POST /concerns/new" in log  # the log is real
    lowered = urllib.parse.unquote_plus(log).casefold()
    for part in (GIVEN, FAMILY, "maisie", "quarrendon"):
        assert part.casefold() not in lowered, f"{part!r} in the access log"
    assert urllib.parse.quote(GIVEN) not in log


def test_a_name_in_the_query_string_is_not_searched(app: Flask, client: FlaskClient) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    child = factories.child(school, GIVEN, FAMILY)
    incident = make_incident(school, dsl, [(child, "harmed")])
    db.session.commit()
    sign_in(client, dsl)
    for path in ("/children", f"/incidents/{incident.id}/children"):
        body = client.get(f"{path}?name={FAMILY}").get_data(as_text=True)
        assert "your search" not in body and "No child found" not in body


# ---------------------------------------------------------------------------------------------
# Item 8: staff by full name only; DSLs by family name too


def test_staff_find_a_child_only_by_full_name(app: Flask, client: FlaskClient) -> None:
    school = factories.school()
    staff = factories.user("staff", org=school)
    sibling = factories.child(school, "Teodor", FAMILY)
    child = factories.child(school, GIVEN, FAMILY)
    db.session.commit()
    sign_in(client, staff)
    by_family = post_form(client, {"child_search": FAMILY}, "find").get_data(as_text=True)
    assert child.reference not in by_family and sibling.reference not in by_family
    # One word is not a search for staff: they are asked for both names, not sent to add the
    # child again.
    assert "Enter the child&#39;s first name and family name" in by_family
    assert "No child found with that name" not in by_family
    by_full = post_form(client, {"child_search": f"{GIVEN} {FAMILY}"}, "find")
    text = by_full.get_data(as_text=True)
    assert child.reference in text and sibling.reference not in text
    assert "first name and family name" in text


def test_dsls_find_children_by_family_name(app: Flask, client: FlaskClient) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    sibling = factories.child(school, "Teodor", FAMILY)
    child = factories.child(school, GIVEN, FAMILY)
    db.session.commit()
    sign_in(client, dsl)
    by_family = post_form(client, {"child_search": FAMILY}, "find").get_data(as_text=True)
    assert child.reference in by_family and sibling.reference in by_family
    token = csrf_from(client.get("/children"))
    found = client.post("/children", data={"csrf_token": token, "name": FAMILY})
    assert "2 children match your search" in found.get_data(as_text=True)
