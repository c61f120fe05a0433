"""Server-side sessions behind Flask-Login.

The signed cookie holds one thing: `session["sid"]`, a random token. Its SHA-256 names an
`AuthSession` row, which says who is signed in, whether the second factor is done, and when the
session was last used. Revoking the row (sign-out, password change, disabled account) ends the
session wherever the cookie is; a copied cookie is useless afterwards.

`login_user()` is never called: Flask-Login's `request_loader` resolves every request from the
row, so there is no `_user_id` or remember-me cookie to trust.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from flask import Flask, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from .. import clock, reads
from ..kept import kept
from ..models import AuthSession, User, db
from ..safe_redirect import safe_next
from ..services import accounts

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Sign in to see this page"
login_manager.login_message_category = "info"
# Our own rows do the job of session protection (and do it server-side).
login_manager.session_protection = None

SESSION_KEY = "sid"
# last_seen_at is written at most this often (one write a minute, not one per request).
TOUCH_EVERY = dt.timedelta(seconds=60)


def _row_for_cookie() -> AuthSession | None:
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        return None
    # One statement for the row, its user and the user's school or authority; `g.auth_row`
    # then keeps all of them alive for the request. It also reads the authorities' stamp, so
    # the authorities kept per process need no statement while it is unchanged (portal/reads.py).
    found = db.session.execute(
        _row_statement(), {"token_hash": accounts.token_hash(token)}).first()
    if found is None:
        return None
    row, stamp = found
    reads.note_authorities_stamp(stamp)
    found_row: AuthSession = row
    return found_row


ROW_WITH_ORG: Final = (
    joinedload(AuthSession.user).joinedload(User.school),
    joinedload(AuthSession.user).joinedload(User.local_authority),
)


@kept
def _row_statement() -> Select[Any]:
    """Built once per thread (issue 15, as portal/reads.py says): building it with its loader
    options each request cost more than running it, and a kept statement keeps its cache key."""
    return (select(AuthSession, reads.AUTHORITIES_STAMP).options(*ROW_WITH_ORG)
            .where(AuthSession.token_hash == bindparam("token_hash")))


def current_row() -> AuthSession | None:
    """The session row for this request if it is usable (second factor done or not)."""
    if "auth_row" in g:
        row: AuthSession | None = g.auth_row
        return row
    row = _row_for_cookie()
    state = accounts.session_state(row, now=clock.now())
    if state != "ok":
        if row is not None or SESSION_KEY in session:
            # Expired or revoked: forget it, so the browser is plainly signed out.
            session.pop(SESSION_KEY, None)
        if state in ("idle", "expired"):
            g.session_lapsed = state  # the sign-in page says why (`_unauthorized`)
        elif state == "revoked" and row is not None and row.revoked_reason in _CHANGED:
            g.session_lapsed = "changed"  # (a walk: a role change signed out without a word)
        row = None
    g.auth_row = row
    return row


def pending_row() -> AuthSession | None:
    """A usable row whose second factor is still to do (the TOTP pages accept only this)."""
    row = current_row()
    if row is None or row.two_factor_done or not row.user.needs_two_factor:
        return None
    return row


def _resolve() -> User | None:
    row = current_row()
    if row is None:
        return None
    if row.user.needs_two_factor and not row.two_factor_done:
        return None
    # Refresh last_seen_at at most once a minute; committed in `_touch` before the view runs.
    if clock.now() - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = clock.now()
        g.auth_touched = True
    return row.user


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load_user(user_id: str) -> User | None:
    # Only reached if something called login_user(); the row decides, not the id in the cookie.
    user = _resolve()
    return user if user is not None and str(user.id) == user_id else None


@login_manager.request_loader  # type: ignore[untyped-decorator]
def _load_from_request(req: Any) -> User | None:
    return _resolve()


def start(user: User, *, two_factor_done: bool) -> AuthSession:
    """Signs the browser in afresh: a new cookie (and CSRF token) and a new session row."""
    old = current_row()
    if old is not None:
        accounts.revoke_session(old, "replaced", now=clock.now())
    token = accounts.issue_session(user, two_factor_done=two_factor_done, now=clock.now())
    return_to = session.get(RETURN_KEY)
    session.clear()
    session[SESSION_KEY] = token
    if return_to:  # survives the new session so a rescued draft reopens after sign-in
        session[RETURN_KEY] = return_to
    # Flask-WTF caches the form token in `g`: drop it, so pages use the new session's token.
    for name in ("auth_row", "_login_user", "csrf_token"):
        g.pop(name, None)
    row = db.session.get(AuthSession, accounts.token_hash(token))
    assert row is not None
    g.auth_row = row
    return row


RETURN_KEY = "return_to"


def return_after_sign_in(path: str) -> None:
    """Where to go once signed in again (a path on this site only)."""
    safe = safe_next(path)
    if safe is not None:
        session[RETURN_KEY] = safe


def pop_return_path() -> str | None:
    """The saved path, if it is a plain path on this site (never another host)."""
    return safe_next(session.pop(RETURN_KEY, None))


def end() -> None:
    """Signs the browser out: revokes the row and empties the cookie."""
    row = _row_for_cookie()
    if row is not None and row.revoked_at is None:
        accounts.sign_out(row, now=clock.now())
    session.clear()
    for name in ("auth_row", "_login_user", "csrf_token"):
        g.pop(name, None)


def idle_deadline() -> dt.datetime | None:
    row = current_row()
    if row is None or not current_user.is_authenticated:
        return None
    minutes = accounts.settings().session_idle_minutes
    deadline: dt.datetime = row.last_seen_at + dt.timedelta(minutes=minutes)
    return deadline


def touch() -> None:
    """Keep-alive: moves last_seen_at to now whatever the last write was."""
    row = current_row()
    if row is not None:
        row.last_seen_at = clock.now()


@login_manager.unauthorized_handler  # type: ignore[untyped-decorator]
def _unauthorized() -> Any:
    """Signed out: remember the page asked for (a GET on this site), then ask to sign in."""
    if request.method == "GET" and request.endpoint not in (None, "static"):
        return_after_sign_in(request.full_path.rstrip("?"))
    lapsed = g.pop("session_lapsed", None)
    if lapsed is not None and request.method == "GET":
        # A page left open reloads itself at the deadline: say why the sign-in page is shown.
        flash(LAPSED_MESSAGES[lapsed], "info")
    return redirect(url_for("auth.sign_in"))


# Sessions ended because the account itself changed (services/onboarding.py, accounts.py).
_CHANGED: Final = frozenset({"role_changed", "declined", "totp_reset"})

LAPSED_MESSAGES: Final = {
    "changed": ("You were signed out because your account was changed: its role, or its "
                "authenticator app. Sign in again to carry on."),
    "idle": ("You were signed out because nothing was done for a while. Anything you typed "
             "on a form has been kept: sign in to carry on."),
    "expired": ("You were signed out because you had been signed in for a long time. Anything "
                "you typed on a form has been kept: sign in to carry on."),
}


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, unchanged but for one thing: the signing serializer is
    kept while the keys it was built from stay the same. Flask builds a new one to open the
    cookie on every request (and again to save it when the session changed), and building one
    signs an empty payload to learn its type (issue 15: about 15 µs each, on every page). The
    same salt, serializer, digest and keys sign and check every cookie as before; a changed
    SECRET_KEY or SECRET_KEY_FALLBACKS builds a new one at the next request. A serializer holds
    no state between calls, so the threads of a worker share it."""

    def __init__(self) -> None:
        self._kept: tuple[object, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = self._kept
        if kept is not None and kept[0] == keys:
            return kept[1]
        serializer = super().get_signing_serializer(app)
        self._kept = (keys, serializer)
        return serializer


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.session_interface = CookieSessionInterface()

    def _forget(*_: Any) -> None:
        # `g` lives on the application context, which a test client (and any code that pushes
        # its own context) may reuse across requests: never let one request see another's user.
        here = g._get_current_object()  # once, not per name
        for name in ("auth_row", "auth_touched", "_login_user", "csrf_token"):
            here.pop(name, None)

    app.before_request_funcs.setdefault(None, []).insert(0, _forget)
    app.teardown_request(_forget)

    @app.before_request
    def _touch() -> None:
        # Resolve the user before the view runs, and save last_seen_at while nothing else is
        # pending in the database session (so the view's single commit stays its own).
        if request.endpoint == "static":
            return
        _ = current_user.is_authenticated
        if g.pop("auth_touched", False):
            db.session.commit()

    @app.context_processor
    def _session_context() -> dict[str, Any]:
        deadline = idle_deadline() if request.endpoint != "static" else None
        s = accounts.settings()
        remaining = max(0, int((deadline - clock.now()).total_seconds())) if deadline else 0
        return {
            "session_idle_deadline": deadline,
            "session_idle_remaining": remaining,
            "session_idle_minutes": s.session_idle_minutes,
            "session_warning_minutes": s.session_warning_minutes,
        }
