"""A locked-out sign-in is told so, and for how long, with the right password as with a wrong
one; an address with no account is told exactly the same after the same attempts, so the
message never says whether an address has an account (docs/security.md 5)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

from sqlalchemy import func, select

from portal.models import UnknownAddressThrottle, User, db
from tests import factories
from tests.helpers.signing_in import override_settings, signed_in, submit, utcnow

GENERIC = "Enter a correct email address and password"
LOCKED = ("Too many attempts to sign in with this email address. Try again in 5 minutes. "
          "Until then, no password is accepted, even the right one.")


def _message(response) -> str:
    """The error summary's message, as a person reads it."""
    html = response.get_data(as_text=True)
    match = re.search(r'<div class="govuk-error-summary".*?</div>\s*</div>', html, re.S)
    assert match, "no error summary"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).strip()
    return unescape(text).removeprefix("There is a problem ").strip()


def _attempts(client, email: str, passwords: list[str]) -> list[tuple[int, str]]:
    out = []
    for password in passwords:
        response = submit(client, "/sign-in", {"email": email, "password": password})
        out.append((response.status_code, _message(response) if response.status_code == 200
                    else response.headers.get("Location", "")))
    return out


def test_a_locked_account_is_told_so_and_an_unknown_address_is_told_the_same(
        app, client, other_client):
    override_settings(app, login_rate_limit="")  # eleven tries from one client address
    u = factories.user("staff", email="oriel.fanshawe@example.test")
    db.session.commit()
    tries = ["guess-guess-1"] * 5 + [factories.PASSWORD]

    known = _attempts(client, u.email, tries)
    unknown = _attempts(other_client, "orla.fenwick@example.test", tries)

    # Four wrong passwords: the usual message. The fifth starts a 5-minute back-off and says
    # so; the right password during it gets the same words, and does not sign in.
    assert known == [(200, GENERIC)] * 4 + [(200, LOCKED)] * 2
    assert not signed_in(client)
    # An address with no account: the same words after the same attempts.
    assert unknown == known
    # Nothing of the address itself is kept: only an index of it.
    rows = db.session.scalars(select(UnknownAddressThrottle)).all()
    assert len(rows) == 1 and "orla" not in rows[0].address_index
    assert len(rows[0].address_index) == 64


def test_the_time_left_is_the_time_left(app, client, other_client):
    override_settings(app, login_rate_limit="", login_max_failures=2,
                      login_lockout_seconds=3600, login_lockout_max_seconds=3600)
    u = factories.user("staff")
    db.session.commit()
    for c, email in ((client, u.email), (other_client, "nobody.here@example.test")):
        _attempts(c, email, ["guess-guess-1"] * 2)
    # 59 minutes 30 seconds later (for both): "1 minute"; an hour is said in hours.
    db.session.execute(
        User.__table__.update().where(User.id == u.id)
        .values(locked_until=utcnow() + dt.timedelta(seconds=30)))
    db.session.execute(UnknownAddressThrottle.__table__.update()
                       .values(locked_until=utcnow() + dt.timedelta(seconds=30)))
    db.session.commit()
    for c, email in ((client, u.email), (other_client, "nobody.here@example.test")):
        [(status, text)] = _attempts(c, email, [factories.PASSWORD])
        assert status == 200 and "Try again in 1 minute." in text, text


def test_after_the_back_off_the_right_password_signs_in(app, client):
    override_settings(app, login_rate_limit="")
    u = factories.user("staff")
    db.session.commit()
    _attempts(client, u.email, ["guess-guess-1"] * 5)
    db.session.execute(User.__table__.update().where(User.id == u.id)
                       .values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    db.session.commit()
    [(status, _)] = _attempts(client, u.email, [factories.PASSWORD])
    assert status == 302 and signed_in(client)


def test_unknown_addresses_back_off_independently_and_old_rows_go(app, client):
    override_settings(app, login_rate_limit="")
    first = _attempts(client, "una.one@example.test", ["guess-guess-1"] * 5)
    assert first[-1] == (200, LOCKED)
    # Another unknown address (or the same one written differently) is its own count...
    assert _attempts(client, "Una.One@Example.test ", ["guess-guess-1"]) == [(200, LOCKED)]
    assert _attempts(client, "una.two@example.test", ["guess-guess-1"]) == [(200, GENERIC)]
    # ...and rows long finished are cleared when a new address is counted.
    db.session.execute(UnknownAddressThrottle.__table__.update().values(
        updated_at=utcnow() - dt.timedelta(days=3)))
    db.session.commit()
    _attempts(client, "una.three@example.test", ["guess-guess-1"])
    assert db.session.scalar(select(func.count()).select_from(UnknownAddressThrottle)) == 1


def test_a_locked_account_and_a_locked_unknown_address_do_the_same_work(app, client):
    """Same Argon2 work (one verification, whose answer is not used) and the same database
    round trips, give or take one, so the time taken does not tell them apart either."""
    from sqlalchemy import event

    from tests.helpers.signing_in import CountingPasswords

    override_settings(app, login_rate_limit="")
    u = factories.user("staff", email="locked.known@example.test")
    db.session.commit()
    unknown = "locked.unknown@example.test"
    for email in (u.email, unknown):
        _attempts(client, email, ["guess-guess-1"] * 5)

    counting = CountingPasswords(app.extensions["passwords"])
    app.extensions["passwords"] = counting
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    work = {}
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for email in (u.email, unknown):
            counting.verified = 0
            statements.clear()
            response = submit(client, "/sign-in", {"email": email, "password": factories.PASSWORD})
            assert _message(response) == LOCKED
            work[email] = (counting.verified, len(statements))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        app.extensions["passwords"] = counting.inner
    (known_hashes, known_sql), (unknown_hashes, unknown_sql) = work[u.email], work[unknown]
    assert known_hashes == unknown_hashes == 1
    assert abs(known_sql - unknown_sql) <= 1, work
