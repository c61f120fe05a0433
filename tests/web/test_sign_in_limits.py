"""Per client address limits on the sign-in and code steps, and the address behind the proxy
(issue 11: 50 wrong passwords over 10 accounts from one address, then the 51st signed in)."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.models import db
from tests import factories
from tests.conftest import make_test_config
from tests.factories import PASSWORD
from tests.helpers.signing_in import csrf_from, override_settings, sign_in, submit


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _try(client, email: str, password: str, address: str, forwarded: str | None = None):
    page = client.get("/sign-in", **_from(address))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/sign-in", data={"csrf_token": csrf_from(page), "email": email,
                                         "password": password},
                       headers=headers, **_from(address))


def _accounts(n: int) -> list[str]:
    school = factories.school()
    emails = [factories.user("staff", email=f"person{i}@example.test", org=school).email
              for i in range(n)]
    db.session.commit()
    return emails


def test_wrong_passwords_over_many_accounts_from_one_address_are_stopped(app, client):
    override_settings(app, login_rate_limit="10 per hour")
    emails = _accounts(11)
    for i in range(10):
        response = _try(client, emails[i], "not the right one", "203.0.113.7")
        assert response.status_code == 200
    # The 11th attempt is refused before any password is checked, even the right one.
    response = _try(client, emails[10], PASSWORD, "203.0.113.7")
    assert response.status_code == 429
    assert "You have tried too many times" in response.get_data(as_text=True)
    # Another address is not affected, and successes do not use up the limit.
    other = factories.user("staff", email="other@example.test", org=factories.school())
    db.session.commit()
    for _ in range(12):
        assert _try(app.test_client(), other.email, PASSWORD, "198.51.100.2").status_code == 302


def test_the_code_step_shares_the_limit(app, client):
    override_settings(app, login_rate_limit="3 per hour")
    u = factories.user("dsl", email="dsl@example.test", org=factories.school())
    db.session.commit()
    response = submit(client, "/sign-in", {"email": u.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/sign-in/code")
    page = client.get("/sign-in/code")
    codes = []
    for _ in range(4):
        codes.append(client.post("/sign-in/code", data={"csrf_token": csrf_from(page),
                                                        "code": "12345x"}).status_code)
    assert codes == [200, 200, 200, 429]


def test_every_attempt_is_capped_too(app, client):
    override_settings(app, login_rate_limit="", login_request_limit="5 per minute")
    u = factories.user("staff", email="busy@example.test", org=factories.school())
    db.session.commit()
    statuses = [_try(app.test_client(), u.email, PASSWORD, "203.0.113.9").status_code
                for _ in range(6)]
    assert statuses == [302] * 5 + [429]


def test_x_forwarded_for_is_ignored_without_a_proxy(app, client):
    """Default proxy_count 0: a client cannot name a fresh address for every guess."""
    override_settings(app, login_rate_limit="3 per hour")
    emails = _accounts(1)
    statuses = [_try(client, emails[0], "wrong wrong wrong", "203.0.113.7",
                     forwarded=f"192.0.2.{i}").status_code for i in range(4)]
    assert statuses == [200, 200, 200, 429]


@pytest.fixture
def proxied(backend, tmp_path, request):
    from tests.conftest import _database_url

    url = _database_url(backend, tmp_path, request)
    application = create_app(make_test_config(tmp_path, url, proxy_count=1,
                                              login_rate_limit="3 per hour"))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def test_behind_one_proxy_the_address_it_gives_is_used(proxied):
    client = proxied.test_client()
    emails = _accounts(1)
    # Everyone arrives from the proxy (127.0.0.1); the proxy's X-Forwarded-For names them.
    first = [_try(client, emails[0], "wrong wrong wrong", "127.0.0.1",
                  forwarded="203.0.113.7").status_code for _ in range(4)]
    assert first == [200, 200, 200, 429]
    # A second client behind the same proxy is not limited by the first...
    assert _try(client, emails[0], "wrong wrong wrong", "127.0.0.1",
                forwarded="198.51.100.2").status_code == 200
    # ...and an address the client adds in front of the proxy's is not believed.
    assert _try(client, emails[0], "wrong wrong wrong", "127.0.0.1",
                forwarded="192.0.2.99, 203.0.113.7").status_code == 429


def test_signing_in_normally_is_unaffected(app, client):
    u = factories.user("staff", email="normal@example.test", org=factories.school())
    db.session.commit()
    assert sign_in(client, u).status_code == 302


def test_the_limiter_looks_up_limits_only_where_one_can_apply(app, client, monkeypatch):
    """Issue 15: a GET of the sign-in page does no limiter work (its limits count POSTs only),
    a POST is still checked, and a limit for every page, if one is ever added, is checked
    before every request as flask-limiter does."""
    from portal.extensions import limiter

    manager_type = type(limiter.limit_manager)
    real = manager_type.resolve_limits
    looked_up: list[str | None] = []

    def counting(self, app_, endpoint, *args, **kwargs):
        looked_up.append(endpoint)
        return real(self, app_, endpoint, *args, **kwargs)

    monkeypatch.setattr(manager_type, "resolve_limits", counting)
    page = client.get("/sign-in", **_from("203.0.113.9"))
    assert page.status_code == 200
    assert looked_up == []
    client.post("/sign-in", data={"csrf_token": csrf_from(page), "email": "x@example.test",
                                  "password": "wrong"}, **_from("203.0.113.9"))
    assert "auth.sign_in" in looked_up

    # A default limit for every page (none is set): checked again before each request.
    looked_up.clear()
    monkeypatch.setattr(manager_type, "default_limits", property(lambda self: ["1 per day"]))
    monkeypatch.setattr(manager_type, "resolve_limits",
                        lambda self, app_, endpoint, *a, **k: looked_up.append(endpoint)
                        or ([], []))
    assert client.get("/sign-in", **_from("203.0.113.9")).status_code == 200
    assert looked_up == ["auth.sign_in"]
