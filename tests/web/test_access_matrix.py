"""Every route in app.url_map, for every role, for users of another school and another
authority, and signed out: what is not allowed answers 404 (or a redirect to sign in when
signed out). A new route without an expectation here fails the test, so none can slip in
unchecked.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.models import db
from tests import factories
from tests.helpers.access import school_records, urls
from tests.helpers.signing_in import csrf_from, sign_in

# auth.set_up: the one-time set-up link; a token that is not a live one is 404 for everyone.
# children.receipt: a sealed file's receipt link (issue 16), the same: 404 unless live
# (tests/web/test_file_export.py); children.receipt_confirmed: where confirming leads, a
# thank-you that shows no school, token or child.
PUBLIC = {"static", "main.index", "main.hide", "auth.sign_in", "auth.set_up",
          "children.receipt", "children.receipt_confirmed"}
# Steps of signing in: reachable only part-way through, else they send you on.
SIGN_IN_STEPS = {"auth.sign_in_code", "auth.sign_in_enrol"}
# main.how_the_portal_decides: the rules every reason's source links to; discard_draft: a
# person's own draft of a page, thrown away (tests/web/test_form_drafts.py: only their own,
# only a page that keeps drafts, else 404).
ANY_SIGNED_IN = {"auth.home", "auth.change_password", "auth.sign_out", "auth.keepalive",
                 "main.how_the_portal_decides", "discard_draft"}
ROLES = ("staff", "dsl", "la_adviser", "admin")
# The DSL's dashboard sends anyone else signed in to their own first page (a walk: an adviser
# typing /dashboard read "Page not found"): a redirect there, nothing of the dashboard.
SENDS_ON = {"incidents.dashboard": {"la_adviser": "/referrals", "staff": "/home",
                                    "admin": "/home"}}


# Who may use the pages of each feature (routes without an object id in them). A route WITH an
# object id is tried with the id of the other school's or authority's object, which every role
# must get as 404 (admin pages are deployment-wide, so admins may open any of them).
FEATURE_ROLES = {
    "admin.": {"admin"},
    "concerns.": {"staff", "dsl"},
    "incidents.": {"dsl"},
    "children.": {"dsl"},
    "roll.": {"dsl"},  # the school roll import (issue 13)
    "retention.": {"dsl"},  # reviewing and destroying files at the end of retention (issue 16)
    "referrals.": {"la_adviser"},
    "team.": {"dsl", "la_adviser"},  # approving a colleague's account (issue 11)
    "transfers.": {"dsl"},  # a child's file sent to their next school, term dates (issue 16)
    "reports.": {"dsl"},  # the DSL's and governors' report (issue 17)
    "authority_reports.": {"la_adviser"},  # the authority's view across its schools (issue 17)
}


def expectation(endpoint: str, role: str, has_object_id: bool = False) -> str:
    """'allow', 'deny' or 'skip' for a signed-in `role`."""
    if endpoint in PUBLIC or endpoint in SIGN_IN_STEPS:
        return "skip"
    if endpoint in ANY_SIGNED_IN:
        return "allow"
    if role in SENDS_ON.get(endpoint, {}):
        return "sends_on"
    for prefix, roles in FEATURE_ROLES.items():
        if endpoint.startswith(prefix):
            if role not in roles:
                return "deny"
            if has_object_id and prefix != "admin.":
                return "deny"  # another school's or authority's object
            return "allow"
    raise AssertionError(f"no access expectation for new route {endpoint!r}: add it here")


def world(app: Flask) -> dict[str, object]:
    """Two schools in two authorities, every role in each, and ids of the other side's things."""
    la_a, la_b = factories.authority("derbyshire"), factories.authority("darlington")
    school_a = factories.school("Oakfield Academy", "derbyshire")
    school_b = factories.school("Northgate College", "darlington")
    users = {
        "staff": factories.user("staff", org=school_a),
        "dsl": factories.user("dsl", org=school_a),
        "la_adviser": factories.user("la_adviser", org=la_a),
        "admin": factories.user("admin"),
        "other_staff": factories.user("staff", org=school_b),
        "other_dsl": factories.user("dsl", org=school_b),
        "other_adviser": factories.user("la_adviser", org=la_b),
    }
    records_a = school_records(school_a, la_a, users["staff"], users["dsl"], "derbyshire")
    records_b = school_records(school_b, la_b, users["other_staff"], users["other_dsl"],
                               "darlington")
    db.session.commit()
    # Each user is tried against the OTHER side's school, authority and records.
    ids_of_a = {"user_id": users["dsl"].id, "authority_id": la_a.id, "school_id": school_a.id,
                **records_a}
    ids_of_b = {"user_id": users["other_dsl"].id, "authority_id": la_b.id,
                "school_id": school_b.id, **records_b}
    return {
        "users": users,
        "other_ids": ids_of_b,
        "ids_for": {who: (ids_of_a if who.startswith("other_") else ids_of_b) for who in users},
    }






def call(client: FlaskClient, method: str, url: str, token: Callable[[], str]):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": token()})


@pytest.mark.parametrize("who", [*ROLES, "other_staff", "other_dsl", "other_adviser"])
def test_every_route_denies_with_404(app: Flask, client: FlaskClient, who: str) -> None:
    data = world(app)
    user = data["users"][who]
    role = user.role
    assert sign_in(client, user).status_code == 302
    token = lambda: csrf_from(client.get("/account/password"))  # noqa: E731
    checked = 0
    for endpoint, method, url, has_id in urls(app, data["ids_for"][who]):
        want = expectation(endpoint, role, has_id)
        if who.startswith("other_") and has_id and not endpoint.startswith("admin."):
            # The ids are school B's / authority B's: these users' own records, not another's.
            continue
        if want == "skip" or endpoint == "auth.sign_out":
            continue
        if want == "sends_on":
            response = client.get(url)
            assert response.status_code == 302, f"{who} GET {url}: {response.status_code}"
            assert response.headers["Location"] == SENDS_ON[endpoint][role], (who, url)
            continue
        if want == "allow":
            if method == "GET":
                response = client.get(url)
                assert response.status_code == 200, f"{who} GET {url}: {response.status_code}"
            continue
        response = call(client, method, url, token)
        assert response.status_code == 404, f"{who} {method} {url} gave {response.status_code}"
        checked += 1
    if role != "admin":
        assert checked > 0  # the admin pages at least were refused


def test_signed_out_every_private_route_redirects_to_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    data = world(app)
    token = lambda: csrf_from(client.get("/sign-in"))  # noqa: E731
    for endpoint, method, url, _ in urls(app, data["other_ids"]):
        if endpoint in PUBLIC:
            continue
        response = call(client, method, url, token)
        assert response.status_code == 302, f"signed out {method} {url}: {response.status_code}"
        assert "/sign-in" in response.headers["Location"], f"{method} {url}"


def test_every_route_sends_security_headers(app: Flask, client: FlaskClient) -> None:
    data = world(app)
    sign_in(client, data["users"]["admin"])
    for endpoint, method, url, _ in urls(app, data["other_ids"]):
        if method != "GET":
            continue
        response = client.get(url)
        assert "default-src 'self'" in response.headers["Content-Security-Policy"], url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if endpoint != "static":
            assert response.headers["Cache-Control"] == "no-store", url
