"""An attacker guessing from elsewhere cannot keep the owner out (issue 11, item 3): a browser
that has signed in to the account before carries a device cookie, and is held back by its own
limit, not by the back-off the attacker's guesses cause."""

from __future__ import annotations

from portal.auth import devices
from portal.models import User, db
from tests import factories
from tests.factories import PASSWORD
from tests.helpers.signing_in import override_settings, sign_in, submit


def _attack(app, email: str, times: int) -> None:
    """Wrong guesses from a stranger's browsers (no device cookie), many addresses."""
    for i in range(times):
        attacker = app.test_client()
        page = attacker.get("/sign-in", environ_base={"REMOTE_ADDR": f"192.0.2.{i + 1}"})
        assert page.status_code == 200
        submit(attacker, "/sign-in", {"email": email, "password": f"a wrong guess {i}"},
               environ_base={"REMOTE_ADDR": f"192.0.2.{i + 1}"})


def _signed_out(client) -> None:
    from tests.helpers.signing_in import csrf_from

    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/home"))})


def test_the_owner_signs_in_from_a_known_browser_while_the_account_backs_off(app, client):
    u = factories.user("staff", email="owner@example.test", org=factories.school())
    db.session.commit()
    assert sign_in(client, u).status_code == 302  # the owner's own browser, once
    assert client.get_cookie(devices.COOKIE, path="/sign-in") is not None
    _signed_out(client)
    _attack(app, u.email, 6)
    db.session.expire_all()
    assert db.session.get(User, u.id).locked_until is not None
    # A stranger with the right password is refused (nothing is checked)...
    assert sign_in(app.test_client(), u).status_code == 200
    # ...the owner's browser is not.
    assert sign_in(client, u).status_code == 302


def test_the_second_factor_too(app, client):
    u = factories.user("dsl", email="dsl-owner@example.test", org=factories.school())
    db.session.commit()
    assert sign_in(client, u).status_code == 302
    _signed_out(client)
    _attack(app, u.email, 6)
    assert sign_in(client, u).status_code == 302


def test_a_known_browser_has_its_own_limit(app, client):
    override_settings(app, login_device_limit="3 per hour")
    u = factories.user("staff", email="owner2@example.test", org=factories.school())
    db.session.commit()
    assert sign_in(client, u).status_code == 302
    _signed_out(client)
    _attack(app, u.email, 6)
    for _ in range(3):  # wrong guesses from the trusted browser are checked...
        assert sign_in(client, u, password="not it at all").status_code == 200
    # ...until its own limit is used up; then the account's back-off applies to it too.
    assert sign_in(client, u).status_code == 200


def test_a_cookie_for_another_account_or_forged_does_not_help(app, client):
    victim = factories.user("staff", email="victim@example.test", org=factories.school())
    mine = factories.user("staff", email="mine@example.test", org=factories.school())
    db.session.commit()
    assert sign_in(client, mine).status_code == 302
    _signed_out(client)
    _attack(app, victim.email, 6)
    assert sign_in(client, victim).status_code == 200
    forged = app.test_client()
    forged.set_cookie(devices.COOKIE, "W1siMSIsIngiXV0.forged.sig", path="/sign-in")
    assert sign_in(forged, victim).status_code == 200


def test_the_cookie_is_signed_http_only_and_scoped_to_sign_in(app, client):
    u = factories.user("staff", email="c@example.test", org=factories.school())
    db.session.commit()
    response = submit(client, "/sign-in", {"email": u.email, "password": PASSWORD})
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith(devices.COOKIE))
    assert "HttpOnly" in header and "Path=/sign-in" in header and "SameSite=Lax" in header
