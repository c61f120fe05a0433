"""What every page pays, kept per process (issue 15): the session cookie's signing serializer,
the addresses of the navigation and the sign-out and keep-alive forms, the templates' globals.

Each is kept only while what it was made from stays the same: a changed secret key signs with
the new key at once (and an old cookie is refused unless its key is a fallback), and each
address is kept per application root, so a portal served under a path prefix links under it.
"""

from __future__ import annotations

import re
from collections import ChainMap

from portal.govuk_widgets import _Globals
from portal.models import User, db
from tests import factories
from tests.helpers.signing_in import COOKIE, sign_in


def _dsl() -> User:
    u = factories.user("dsl", email="dana.lead@example.test", org=factories.school())
    db.session.commit()
    return u


def test_a_new_secret_key_refuses_the_old_cookie_unless_it_is_a_fallback(app, client):
    sign_in(client, _dsl())
    assert client.get("/home").status_code == 200
    old_key, old_cookie = app.secret_key, client.get_cookie(COOKIE).value

    app.config["SECRET_KEY"] = "a-new-secret-key-of-at-least-thirty-two-characters"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert client.get("/home").status_code == 200  # signed with the old key: still accepted

    app.config["SECRET_KEY_FALLBACKS"] = []
    client.set_cookie(COOKIE, old_cookie)
    refused = client.get("/home")
    assert refused.status_code == 302
    assert refused.headers["Location"].startswith("/sign-in")
    # The cookie set now is signed with the new key, and accepted under it.
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert client.get_cookie(COOKIE).value != old_cookie


def test_links_and_forms_follow_the_application_root(app, client):
    sign_in(client, _dsl())
    plain = client.get("/home").get_data(as_text=True)
    under = client.get("/home", environ_overrides={"SCRIPT_NAME": "/portal"}).get_data(
        as_text=True)
    again = client.get("/home").get_data(as_text=True)

    for wanted in ('href="/dashboard"', 'href="/children"', 'action="/sign-out"',
                   'action="/session/keepalive"', 'src="/static/js/session-timeout.js"'):
        assert wanted in plain
        assert wanted in again
        prefixed = wanted.replace('="/', '="/portal/')
        assert prefixed in under
        assert prefixed not in plain and prefixed not in again

    client.post("/sign-out", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', again).group(1)})
    sign_in_under = client.get("/sign-in", environ_overrides={"SCRIPT_NAME": "/portal"})
    assert 'action="/portal/sign-in"' in sign_in_under.get_data(as_text=True)
    assert 'action="/sign-in"' in client.get("/sign-in").get_data(as_text=True)


def test_template_globals_iterate_as_a_chain_map_does(app):
    env = app.jinja_env
    shared = env.get_template("_partials/header.html").globals
    assert isinstance(shared, _Globals)
    assert list(shared) == list(ChainMap(*shared.maps))
    assert set(shared) == set(shared.keys()) == set(env.globals)

    own = _Globals({"extra": 1, "url_for": "own"}, env.globals)
    chain = ChainMap({"extra": 1, "url_for": "own"}, env.globals)
    assert list(own) == list(chain)
    assert list(own.keys()) == list(chain.keys())
    assert own["url_for"] == "own"
    with app.test_request_context("/"):
        html = env.from_string("{{ extra }} {{ url_for('auth.sign_in') }}",
                               globals={"extra": 5}).render()
    assert html == "5 /sign-in"
