"""Sign-in through the real forms (CSRF on): password, second factor, enrolment, throttling."""

from __future__ import annotations

import datetime as dt
import logging
import re
from html import unescape as html_unescape
from urllib.parse import quote

import pyotp
import pytest
from sqlalchemy import select, text

from portal.models import AuthSession, User, db
from portal.passwords import Passwords
from tests import factories
from tests.factories import PASSWORD
from tests.helpers.signing_in import (
    COOKIE,
    csrf_from,
    fresh_code,
    override_settings,
    sign_in,
    signed_in,
    submit,
    utcnow,
)

GENERIC = "Enter a correct email address and password"


def _error_summary(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="govuk-error-summary".*?</div>\s*</div>', html, re.S)
    assert match, "no error summary"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).strip()


def _user(role: str, **kw):
    if role in ("staff", "dsl"):
        org = factories.school()
    elif role == "la_adviser":
        org = factories.authority()
    else:
        org = None
    u = factories.user(role, org=org, **kw)
    db.session.commit()
    return u


@pytest.mark.parametrize("role,label,org,starts", [
    ("staff", "Member of staff", "Oakfield Academy", "/home"),
    # Each starts where their work is (a walk: a DSL landed on this account page at every
    # sign-in, one tap from their dashboard; an adviser from their inbox).
    ("dsl", "Designated safeguarding lead", "Oakfield Academy", "/dashboard"),
    ("la_adviser", "Local authority adviser", "Derbyshire County Council", "/referrals"),
    ("admin", "Administrator", "Whole portal", "/home"),
])
def test_sign_in_each_role(app, client, role, label, org, starts):
    u = _user(role)
    response = sign_in(client, u)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(starts)
    assert client.get(starts).status_code == 200
    assert client.get("/sign-in").headers["Location"].endswith(starts)  # signed in already
    home = client.get("/home")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert f"You're signed in as {u.display_name}" in page
    assert label in page and org in page
    assert ("/admin/" in page) == (role == "admin")
    rows = db.session.scalars(select(AuthSession).where(AuthSession.user_id == u.id)).all()
    live = [r for r in rows if r.revoked_at is None]
    assert len(live) == 1 and live[0].two_factor_done
    assert home.headers["Cache-Control"] == "no-store"


def test_two_factor_roles_see_nothing_before_the_code(app, client):
    u = _user("dsl")
    response = submit(client, "/sign-in", {"email": u.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/sign-in/code")
    # Password alone: still signed out everywhere but the code page.
    assert client.get("/home").headers["Location"].startswith("/sign-in")
    assert client.get("/account/password").status_code == 302
    assert client.get("/sign-in/code").status_code == 200


def test_wrong_password_and_unknown_email_give_the_same_message(app, client):
    u = _user("staff")
    wrong = submit(client, "/sign-in", {"email": u.email, "password": "not the password!"})
    unknown = submit(client, "/sign-in", {"email": "nobody@example.test",
                                          "password": "not the password!"})
    assert wrong.status_code == unknown.status_code == 200
    assert _error_summary(wrong) == _error_summary(unknown)
    assert GENERIC in _error_summary(wrong)
    assert wrong.get_data(as_text=True).count("Error: Sign in") == 1
    # What was typed is kept, except the password.
    assert f'value="{u.email}"' in wrong.get_data(as_text=True)
    assert "not the password!" not in wrong.get_data(as_text=True)
    assert not signed_in(client)


def test_empty_form_uses_govuk_messages_linked_to_fields(app, client):
    response = submit(client, "/sign-in", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert "Enter your email address" in html and "Enter your password" in html
    assert 'href="#email"' in html and 'href="#password"' in html


def test_sixth_attempt_is_refused_for_that_account_only(app, client, other_client):
    victim = _user("staff", email="victim@example.test")
    bystander = _user("staff", email="bystander@example.test")
    for _ in range(4):
        response = submit(client, "/sign-in", {"email": victim.email, "password": "guess-guess-1"})
        assert GENERIC in _error_summary(response)
    # The fifth starts the back-off, and says so (tests/web/test_sign_in_locked.py).
    response = submit(client, "/sign-in", {"email": victim.email, "password": "guess-guess-1"})
    assert "Too many attempts" in _error_summary(response)
    db.session.expire_all()
    assert db.session.get(User, victim.id).locked_until is not None
    # The right password now fails too (it is not even checked), with the same message.
    response = sign_in(client, victim)
    assert response.status_code == 200 and "Too many attempts" in _error_summary(response)
    assert GENERIC not in _error_summary(response)
    assert not signed_in(client)
    # Another account is unaffected, even from the same browser.
    assert sign_in(other_client, bystander).status_code == 302
    assert signed_in(other_client)


def test_failures_outside_the_window_do_not_add_up(app, client):
    u = _user("staff")
    for _ in range(4):
        submit(client, "/sign-in", {"email": u.email, "password": "guess-guess-1"})
    u = db.session.get(User, u.id)
    u.failed_window_start = utcnow() - dt.timedelta(seconds=61)
    db.session.commit()
    for _ in range(2):
        submit(client, "/sign-in", {"email": u.email, "password": "guess-guess-1"})
    assert sign_in(client, u).status_code == 302


def test_lockout_ends_after_the_lockout_time(app, client):
    override_settings(app, login_max_failures=2)
    u = _user("staff")
    for _ in range(2):
        submit(client, "/sign-in", {"email": u.email, "password": "guess-guess-1"})
    assert sign_in(client, u).status_code == 200
    db.session.expire_all()
    u = db.session.get(User, u.id)
    assert u.locked_until > utcnow() + dt.timedelta(seconds=290)
    u.locked_until = utcnow() - dt.timedelta(seconds=1)  # time passes
    db.session.commit()
    assert sign_in(client, u).status_code == 302
    db.session.expire_all()
    u = db.session.get(User, u.id)
    assert u.failed_logins == 0 and u.locked_until is None


def test_wrong_totp_code(app, client):
    u = _user("dsl")
    response = sign_in(client, u, code="000000" if factories.totp_now(u) != "000000" else "111111")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The code is not correct" in html and 'href="#code"' in html
    assert not signed_in(client)
    response = sign_in(client, u, code="12ab")
    assert "Enter a 6-digit code" in response.get_data(as_text=True)


def test_reused_totp_code_is_refused(app, client, other_client):
    u = _user("la_adviser")
    code = fresh_code(u.totp_secret, 0)
    assert sign_in(client, u, code=code).status_code == 302
    # The same code again (say, watched over a shoulder) on another browser.
    response = sign_in(other_client, u, code=code)
    assert response.status_code == 200
    assert "already been used" in response.get_data(as_text=True)
    assert not signed_in(other_client)
    # An older code is refused too; a new one works.
    db.session.expire_all()
    u = db.session.get(User, u.id)
    older = pyotp.TOTP(u.totp_secret).generate_otp(u.totp_last_step - 1)
    assert sign_in(other_client, u, code=older).status_code == 200
    assert sign_in(other_client, u).status_code == 302


def test_totp_failures_count_towards_lockout(app, client):
    override_settings(app, login_max_failures=3)
    u = _user("admin")
    bad = "000000" if factories.totp_now(u) != "000000" else "111111"
    for _ in range(3):
        sign_in(client, u, code=bad)
    db.session.expire_all()
    assert db.session.get(User, u.id).locked_until is not None
    assert sign_in(client, u).status_code == 200  # password and a good code: still locked


def test_enrolment_shows_a_local_qr_code_and_the_key(app, client):
    u = _user("dsl", enrolled=False)
    u.totp_secret = None
    db.session.commit()
    response = submit(client, "/sign-in", {"email": u.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/sign-in/enrol")
    page = client.get("/sign-in/enrol")
    html = page.get_data(as_text=True)
    assert "<svg" in html and 'class="segno"' in html
    assert "http" not in html.split('data-testid="totp-qr"')[1].split("</div>")[0]
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    # On the phone that has the app (which cannot scan its own screen): a link the app opens,
    # with the same key and account.
    link = html_unescape(re.search(r'href="([^"]+)" data-testid="totp-app-link"', html).group(1))
    assert link.startswith("otpauth://totp/") and f"secret={secret}" in link
    assert quote(u.email) in link or u.email in link
    # The same key on a reload (it is stored, encrypted) and not in the clear in the database.
    again = client.get("/sign-in/enrol").get_data(as_text=True)
    assert secret in again.replace(" ", "")
    db.session.expire_all()
    u = db.session.get(User, u.id)
    assert u.totp_secret == secret and secret.encode() not in u.totp_secret_enc
    # A wrong code, then the right one.
    wrong = client.post("/sign-in/enrol", data={"csrf_token": csrf_from(html), "code": "12345x"})
    assert "Enter a 6-digit code" in wrong.get_data(as_text=True)
    done = client.post("/sign-in/enrol", data={
        "csrf_token": csrf_from(html), "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and done.headers["Location"].endswith("/dashboard")  # a DSL's
    assert signed_in(client)
    db.session.expire_all()
    assert db.session.get(User, u.id).totp_enrolled
    # Next time: the code page, not enrolment.
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/home"))})
    again = submit(client, "/sign-in", {"email": u.email, "password": PASSWORD})
    assert again.headers["Location"].endswith("/sign-in/code")


def test_session_cookie_and_csrf_token_change_at_sign_in(app, client, other_client):
    u = _user("staff")
    page = client.get("/sign-in")
    before_cookie = client.get_cookie(COOKIE).value
    before_token = csrf_from(page)
    response = client.post("/sign-in", data={"csrf_token": before_token, "email": u.email,
                                             "password": PASSWORD})
    assert response.status_code == 302
    after_cookie = client.get_cookie(COOKIE).value
    assert after_cookie != before_cookie
    # The token from before sign-in is void (new session), and the old cookie is not signed in.
    assert client.post("/sign-out", data={"csrf_token": before_token}).status_code == 400
    other_client.set_cookie(COOKIE, before_cookie)
    assert not signed_in(other_client)
    # The cookie holds the session token only: no user id.
    with app.test_request_context():
        from flask import session as flask_session  # noqa: F401

        serializer = app.session_interface.get_signing_serializer(app)
        data = serializer.loads(after_cookie)
    assert set(data) <= {"sid", "csrf_token", "_flashes"}
    assert str(u.id) not in str(data)


def test_post_without_csrf_token_is_refused(app, client):
    u = _user("staff")
    assert client.post("/sign-in", data={"email": u.email, "password": PASSWORD}).status_code == 400
    sign_in(client, u)
    assert client.post("/sign-out").status_code == 400
    assert client.post("/account/password", data={}).status_code == 400
    assert client.post("/session/keepalive").status_code == 400
    assert signed_in(client)
    assert client.get("/sign-out").status_code == 405


def test_sign_out_ends_the_session(app, client):
    u = _user("staff")
    sign_in(client, u)
    response = client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/home"))})
    assert response.headers["Location"].endswith("/sign-in")
    assert "You&#39;ve signed out" in client.get("/sign-in").get_data(as_text=True)
    row = db.session.scalars(select(AuthSession).where(AuthSession.user_id == u.id)).one()
    assert row.revoked_at is not None and row.revoked_reason == "signed_out"


def test_password_is_rehashed_when_the_cost_changes(app, client):
    u = _user("staff")
    u.password_hash = Passwords(time_cost=2, memory_kib=16).hash(PASSWORD)
    db.session.commit()
    old = u.password_hash
    assert sign_in(client, u).status_code == 302
    db.session.expire_all()
    new = db.session.get(User, u.id).password_hash
    assert new != old and "m=8,t=1" in new


def test_only_the_session_hash_is_stored(app, client):
    u = _user("staff")
    sign_in(client, u)
    row = db.session.scalars(select(AuthSession)).one()
    assert len(row.token_hash) == 32
    with app.test_request_context():
        data = app.session_interface.get_signing_serializer(app).loads(
            client.get_cookie(COOKIE).value)
    import hashlib

    assert hashlib.sha256(data["sid"].encode()).digest() == row.token_hash


def test_no_password_or_totp_secret_leaks(app, client, other_client, caplog):
    caplog.set_level(logging.DEBUG)
    staff = _user("staff")
    dsl = _user("dsl")
    secret = dsl.totp_secret
    responses = []
    responses.append(submit(client, "/sign-in", {"email": staff.email,
                                                 "password": "wrong-password-xyz"}))
    responses.append(sign_in(client, staff))
    responses.append(client.get("/home"))
    new_password = "a brand new passphrase"
    responses.append(submit(client, "/account/password", {
        "current_password": PASSWORD, "new_password": new_password,
        "confirm_password": new_password}))
    responses.append(client.get("/home"))
    responses.append(submit(client, "/account/password", {
        "current_password": "nope", "new_password": "short", "confirm_password": "short2"}))
    responses.append(sign_in(other_client, dsl, code="000000"))
    responses.append(sign_in(other_client, dsl))
    responses.append(other_client.get("/home"))
    db.session.commit()
    secrets_ = [PASSWORD, "wrong-password-xyz", new_password, secret]
    for response in responses:
        body = response.get_data(as_text=True) + str(response.headers)
        for s in secrets_:
            assert s not in body
    for record in caplog.records:
        for s in secrets_:
            assert s not in record.getMessage()
    # Nothing in the clear in any table.
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f"SELECT * FROM {table.name}")):
            dumped = repr(tuple(row))
            for s in secrets_:
                assert s not in dumped, table.name
                assert s.encode() not in b"".join(v for v in row if isinstance(v, bytes))


def test_back_off_grows_and_checks_nothing_while_it_lasts(app, client):
    """A lockout is a growing wait (5 min, 10, 20 ... up to an hour), not a fixed denial."""
    override_settings(app, login_max_failures=3, login_lockout_seconds=300,
                      login_lockout_max_seconds=1200, login_rate_limit="")
    u = _user("staff")
    waits = []
    for _ in range(6):
        db.session.expire_all()
        row = db.session.get(User, u.id)
        row.locked_until = None if row.locked_until is None else utcnow() - dt.timedelta(seconds=1)
        db.session.commit()
        submit(client, "/sign-in", {"email": u.email, "password": "guess-guess-1"})
        db.session.expire_all()
        row = db.session.get(User, u.id)
        waits.append(None if row.locked_until is None
                     else round((row.locked_until - utcnow()).total_seconds() / 60))
        # During the wait even the right password is refused, unchecked.
        if row.locked_until is not None:
            assert sign_in(client, u).status_code == 200
    assert waits == [None, None, 5, 10, 20, 20]
    # Once the wait is over the right password is checked, and signs in; the count starts again.
    db.session.expire_all()
    row = db.session.get(User, u.id)
    row.locked_until = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert sign_in(client, u).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, u.id).failed_logins == 0


def test_sign_out_from_a_second_tab_after_signing_out_says_signed_out(app, client):
    """Walk 6: two tabs open, signed out in one; Sign out in the other (its token died with
    the session) ends on the sign-in page saying so, not on an error page."""
    u = _user("staff")
    sign_in(client, u)
    other_tab_token = csrf_from(client.get("/home"))
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/home"))})
    response = client.post("/sign-out", data={"csrf_token": other_tab_token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    assert "You&#39;ve signed out" in client.get("/sign-in").get_data(as_text=True)
    assert not signed_in(client)


def test_every_role_reaches_their_account_and_a_fresh_start_forgets_an_old_return_page(
        app, client):
    """Walk 16: a DSL, who now starts on the dashboard, had no link to their account (nor to
    changing their password) but the service's name; and on a shared computer, signing in as
    staff after opening the portal afresh led to the school settings the last visitor tried."""
    for role in ("staff", "dsl", "la_adviser", "admin"):
        u = _user(role)
        c = app.test_client()
        sign_in(c, u)
        landing = c.get(access_start(c)).get_data(as_text=True)
        assert re.search(r'href="/home"[^>]*>\s*(<strong[^>]*>)?\s*Your account', landing), role
    staff = _user("staff")
    assert client.get("/school/settings").status_code == 302  # asked for, signed out
    client.get("/")  # then the portal opened afresh
    response = sign_in(client, staff)
    assert response.headers["Location"].endswith("/home")
    # Asked for and then signed in straight away: still taken there.
    other = app.test_client()
    assert other.get("/concerns/new").status_code == 302
    assert sign_in(other, _user("staff")).headers["Location"].endswith("/concerns/new")


def access_start(c) -> str:
    """Where a signed-in client starts (the root sends them on)."""
    return c.get("/").headers["Location"]
