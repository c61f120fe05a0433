"""Server-side sessions: revocation, timeouts, last-seen updates, the idle warning."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.models import AuthSession, User, db
from portal.services import accounts
from tests import factories
from tests.factories import PASSWORD
from tests.helpers.signing_in import COOKIE, csrf_from, sign_in, signed_in, submit, utcnow


def _staff(email: str = "kit.marlowe@example.test") -> User:
    u = factories.user("staff", email=email, org=factories.school())
    db.session.commit()
    return u


def _live_row(u: User) -> AuthSession:
    db.session.expire_all()
    return db.session.scalars(select(AuthSession).where(
        AuthSession.user_id == u.id, AuthSession.revoked_at.is_(None))).one()


def test_saved_cookie_is_useless_after_sign_out(app, client, other_client):
    u = _staff()
    sign_in(client, u)
    saved = client.get_cookie(COOKIE).value
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/home"))})
    other_client.set_cookie(COOKIE, saved)
    response = other_client.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, other_client):
    u = _staff()
    sign_in(client, u)
    sign_in(other_client, u)
    old_cookie = client.get_cookie(COOKIE).value
    new = "tulip garden lantern seven"
    response = submit(client, "/account/password", {
        "current_password": PASSWORD, "new_password": new, "confirm_password": new})
    assert response.status_code == 302 and response.headers["Location"].endswith("/home")
    assert "Your password has been changed" in client.get("/home").get_data(as_text=True)
    assert signed_in(client)
    assert client.get_cookie(COOKIE).value != old_cookie
    assert not signed_in(other_client)  # the other browser's cookie no longer works
    replay = factories_client = other_client
    replay.set_cookie(COOKIE, old_cookie)
    assert not signed_in(factories_client)
    # Old password refused; the new one works.
    fresh = app.test_client()
    assert sign_in(fresh, u).status_code == 200
    assert sign_in(fresh, u, password=new).status_code == 302


def test_password_change_errors(app, client):
    u = _staff()
    sign_in(client, u)
    response = submit(client, "/account/password", {
        "current_password": "", "new_password": "short", "confirm_password": "other"})
    html = response.get_data(as_text=True)
    assert "Enter your current password" in html
    assert "Password must be 12 characters or more" in html
    assert "Passwords must match" in html
    assert 'href="#new_password"' in html
    response = submit(client, "/account/password", {
        "current_password": "not my password", "new_password": "long enough password",
        "confirm_password": "long enough password"})
    assert "Your current password is incorrect" in response.get_data(as_text=True)
    assert signed_in(client)


def test_disabling_the_account_ends_its_sessions(app, client):
    u = _staff()
    sign_in(client, u)
    accounts.set_active(u, False, actor_id=None, now=utcnow())
    db.session.commit()
    assert not signed_in(client)
    assert sign_in(app.test_client(), u).status_code == 200


def test_idle_timeout(app, client):
    u = _staff()
    sign_in(client, u)
    row = _live_row(u)
    row.last_seen_at = utcnow() - dt.timedelta(minutes=29)
    db.session.commit()
    assert signed_in(client)  # and that request counts as activity
    row = _live_row(u)
    assert utcnow() - row.last_seen_at < dt.timedelta(seconds=5)
    row.last_seen_at = utcnow() - dt.timedelta(minutes=31)
    db.session.commit()
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    # The page left open reloads itself at the deadline: the sign-in page says why.
    sign_in_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were signed out because nothing was done for a while" in sign_in_page
    assert not signed_in(client)
    # Signing out on purpose says nothing of the kind.
    sign_in(client, u)
    client.post("/sign-out", data={"csrf_token": csrf_from(client.get("/home"))})
    assert "nothing was done for a while" not in client.get("/sign-in").get_data(as_text=True)


def test_absolute_timeout(app, client):
    u = _staff()
    sign_in(client, u)
    row = _live_row(u)
    row.created_at = utcnow() - dt.timedelta(hours=12, minutes=1)
    row.last_seen_at = utcnow()
    db.session.commit()
    assert not signed_in(client)


def test_last_seen_is_written_at_most_once_a_minute(app, client):
    u = _staff()
    sign_in(client, u)
    row = _live_row(u)
    recent = utcnow() - dt.timedelta(seconds=30)
    row.last_seen_at = recent
    db.session.commit()
    client.get("/home")
    assert _live_row(u).last_seen_at == recent
    row = _live_row(u)
    row.last_seen_at = utcnow() - dt.timedelta(seconds=90)
    db.session.commit()
    client.get("/home")
    assert utcnow() - _live_row(u).last_seen_at < dt.timedelta(seconds=5)


def test_idle_note_and_warning_on_signed_in_pages_only(app, client):
    u = _staff()
    signed_out_page = client.get("/sign-in").get_data(as_text=True)
    assert "data-portal-session" not in signed_out_page
    sign_in(client, u)
    html = client.get("/home").get_data(as_text=True)
    assert "You'll be signed out after 30 minutes without activity" in html
    assert "data-idle-deadline=" in html and 'data-warning-minutes="5"' in html
    assert 'src="/static/js/session-timeout.js"' in html
    assert "Stay signed in" in html and 'action="/session/keepalive"' in html
    assert "<script>" not in html  # no inline script (CSP script-src 'self')
    assert client.get("/static/js/session-timeout.js").status_code == 200


def test_keepalive_moves_the_idle_deadline(app, client):
    u = _staff()
    sign_in(client, u)
    row = _live_row(u)
    row.last_seen_at = utcnow() - dt.timedelta(seconds=50)  # too recent for the per-minute write
    db.session.commit()
    page = client.get("/home")
    response = client.post("/session/keepalive", data={"csrf_token": csrf_from(page)},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["signed_in"] is True
    assert response.json["idle_remaining"] > 29 * 60
    assert utcnow() - _live_row(u).last_seen_at < dt.timedelta(seconds=5)
    # Without JavaScript: a plain form post that comes back to the page.
    response = client.post("/session/keepalive", data={"csrf_token": csrf_from(page),
                                                       "next": "/account/password"})
    assert response.headers["Location"] == "/account/password"
    response = client.post("/session/keepalive", data={"csrf_token": csrf_from(page),
                                                       "next": "//evil.example/"})
    assert response.headers["Location"] == "/home"


def test_the_cookie_cannot_name_a_user(app, client):
    """Flask-Login's `_user_id` in a (forged but signed) cookie does not sign anyone in."""
    u = _staff()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(u.id)
        sess["_fresh"] = True
    assert not signed_in(client)


def test_return_path_after_sign_in_never_leaves_the_site(app, client) -> None:
    from portal.auth import sessions

    with app.test_request_context("/"):
        for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "concerns"):
            sessions.return_after_sign_in(bad)
            assert sessions.pop_return_path() is None
        sessions.return_after_sign_in("/concerns/new")
        assert sessions.pop_return_path() == "/concerns/new"
        assert sessions.pop_return_path() is None  # used once


def test_keepalive_next_bypasses_go_home_and_never_fail(app, client) -> None:
    """`/\\t/evil` was followed to another host, and CR or LF in `next` gave a 500."""
    u = _staff()
    sign_in(client, u)
    token = csrf_from(client.get("/home"))
    for bad in ("/\t/evil.example.com", "/\\evil.example.com", "///evil.example.com",
                "https:evil.example.com", "/a\r\nSet-Cookie: x=1", "/\n", "/\r", "/\x00",
                "/%09/evil.example.com", "%2F%2Fevil.example.com", "/\u2215evil.example.com"):
        response = client.post("/session/keepalive", data={"csrf_token": token, "next": bad})
        assert response.status_code == 302, repr(bad)
        assert response.headers["Location"] == "/home", repr(bad)
    with client.session_transaction() as sess:
        sess["return_to"] = "/\t/evil.example.com"
    with app.test_request_context("/"):
        from portal.auth import sessions

        sessions.return_after_sign_in("/\t/evil.example.com")
        assert sessions.pop_return_path() is None
