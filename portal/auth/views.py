"""Sign-in (password, then a code for roles that need one), enrolment, sign-out, password change,
the keep-alive behind the idle warning, and the signed-in landing page."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from typing import Any

import segno
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import access, clock, drafts, token_pages
from ..extensions import limiter
from ..form_problems import show_problems
from ..models import ROLE_LABELS, db
from ..refusal import Refused
from ..safe_redirect import safe_next
from ..services import accounts, onboarding
from . import bp, devices, sessions
from .forms import ChangePasswordForm, CodeForm, PlainForm, SetUpForm, SignInForm

SIGN_IN_ERROR = "Enter a correct email address and password"
CODE_ERROR = "The code is not correct or has already been used. Enter the latest code"


def _limit(name: str) -> str:
    return str(getattr(accounts.settings(), name)) or "1000000 per second"


def _unlimited(name: str) -> bool:
    return not getattr(accounts.settings(), name)


def _failed(response: Response) -> bool:
    # Success at either step is a redirect; a refusal shows the form again.
    return response.status_code != 302


# Per client address, across the password, code and enrolment steps (docs/security.md): failed
# attempts, and all attempts (each may cost an Argon2 hash). Checked before the view runs.
per_address_failures = limiter.shared_limit(
    lambda: _limit("login_rate_limit"), scope="sign-in-failures", methods=["POST"],
    deduct_when=_failed, exempt_when=lambda: _unlimited("login_rate_limit"))
per_address_requests = limiter.shared_limit(
    lambda: _limit("login_request_limit"), scope="sign-in-requests", methods=["POST"],
    exempt_when=lambda: _unlimited("login_request_limit"))


def _limited_posts(view: Callable[..., Any]) -> Callable[..., Any]:
    """Both per-address limits on a sign-in step. They count POSTs only (`methods`): a GET
    goes straight to the view, without the limiter's work for it (issue 15: a tenth of the
    sign-in page's CPU)."""
    limited = per_address_requests(per_address_failures(view))

    @functools.wraps(view)
    def step(*args: Any, **kwargs: Any) -> Any:
        return (limited if request.method == "POST" else view)(*args, **kwargs)

    return step


def _form_error(form: Any, field: str, message: str) -> None:
    getattr(form, field).errors = [*list(getattr(form, field).errors), message]


def _start_or_sign_in() -> Response:
    """Where a page of the second factor sends someone it has nothing to ask: signed in, to
    where they start (`access.start_page`); else to sign in."""
    if current_user.is_authenticated:
        return redirect(url_for(access.start_page(current_user)))
    return redirect(url_for("auth.sign_in"))


def _after_sign_in(user_id: object) -> Response:
    # The page the person asked for before signing in, else their own starting page: a DSL's
    # dashboard, an adviser's inbox (a walk: every sign-in landed on the account page, one tap
    # from the work), anyone else's home page.
    response = redirect(sessions.pop_return_path() or url_for(access.start_page(current_user)))
    devices.remember(response, str(user_id))  # this browser is now a trusted device
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
@_limited_posts
def sign_in() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for(access.start_page(current_user)))
    if request.method != "POST":
        # The same page for every signed-out visitor but its token: kept whole (issue 15).
        return token_pages.fixed_page("auth/sign_in.html", _sign_in_page)
    form = SignInForm()
    if form.validate_on_submit():
        trusted = devices.trusted_accounts()
        check = accounts.check_password(form.email.data, form.password.data,
                                        now=clock.now(), trusted=frozenset(trusted))
        if check.outcome == "ok" and check.user is not None:
            user = check.user
            if not user.needs_two_factor:
                accounts.mark_signed_in(user, clock.now())
                sessions.start(user, two_factor_done=True)
                db.session.commit()
                return _after_sign_in(user.id)
            sessions.start(user, two_factor_done=False)
            db.session.commit()
            if user.totp_enrolled:
                return redirect(url_for("auth.sign_in_code"))
            return redirect(url_for("auth.sign_in_enrol"))
        # The failure counter and the audit entry must be kept although the attempt failed.
        db.session.commit()
        if check.user is not None and str(check.user.id) in trusted:
            devices.count_failure(trusted[str(check.user.id)])
        # Locked out (the same for an address with no account: docs/security.md 5), or not.
        _form_error(form, "email", locked_message(check.locked_for) if check.locked_for
                    else SIGN_IN_ERROR)
    return _sign_in_page(form)


def _sign_in_page(form: SignInForm | None = None) -> str:
    """The sign-in page: blank (a GET), or `form` as posted with its errors."""
    return render_template("auth/sign_in.html", form=SignInForm() if form is None else form,
                           page_title="Sign in",
                           lockout_minutes=_lockout_minutes(),
                           max_failures=accounts.settings().login_max_failures)


def locked_message(wait: dt.timedelta) -> str:
    """"Too many attempts" with how long is left, rounded up to a whole minute (or hour)."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        left = f"{hours} hour{'s' if hours != 1 else ''}"
    else:
        left = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return (f"Too many attempts to sign in with this email address. Try again in {left}. "
            "Until then, no password is accepted, even the right one.")


def _lockout_minutes() -> int:
    return max(1, round(int(accounts.settings().login_lockout_seconds) / 60))


@bp.route("/sign-in/code", methods=["GET", "POST"])
@_limited_posts
def sign_in_code() -> Any:
    row = sessions.pending_row()
    if row is None:
        return _start_or_sign_in()
    user = row.user
    if not user.totp_enrolled:
        return redirect(url_for("auth.sign_in_enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        user_id = user.id
        device = devices.trusted_accounts().get(str(user_id))
        if accounts.verify_totp(user, form.code.data, now=clock.now(),
                                trusted=device is not None):
            accounts.mark_signed_in(user, clock.now())
            sessions.start(user, two_factor_done=True)
            db.session.commit()
            return _after_sign_in(user_id)
        db.session.commit()
        if device is not None:
            devices.count_failure(device)
        _form_error(form, "code", CODE_ERROR)
    return render_template("auth/code.html", form=form, page_title="Enter your security code")


def _qr_svg(uri: str) -> Markup:
    # Made here, from the provisioning URI: no third-party QR service ever sees the secret.
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, title="QR code to scan",
                                                 dark="#0b0c0c", light="#ffffff")
    return Markup(svg)  # noqa: S704 - segno's own markup; no user text is interpolated


@bp.route("/sign-in/enrol", methods=["GET", "POST"])
@_limited_posts
def sign_in_enrol() -> Any:
    row = sessions.pending_row()
    if row is None:
        return _start_or_sign_in()
    user = row.user
    if user.totp_enrolled:
        return redirect(url_for("auth.sign_in_code"))
    secret = accounts.enrolment_secret(user)
    form = CodeForm()
    if form.validate_on_submit():
        if accounts.confirm_enrolment(user, form.code.data, now=clock.now()):
            accounts.mark_signed_in(user, clock.now())
            sessions.start(user, two_factor_done=True)
            db.session.commit()
            flash("Your authenticator app is set up", "success")
            return _after_sign_in(user.id)
        _form_error(form, "code", CODE_ERROR)
    db.session.commit()  # keeps the new (encrypted) secret, so the QR code stays the same
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    uri = accounts.provisioning_uri(user, secret)
    return render_template(
        "auth/enrol.html", form=form, page_title="Set up your authenticator app",
        qr_svg=_qr_svg(uri), app_link=uri, secret_text=grouped,
    )


@bp.route("/account/set-up/<token>", methods=["GET", "POST"])
def set_up(token: str) -> Any:
    """The one-time link emailed to a new person: their own password, then their own app.

    Opening the link does not use it up (mail scanners open links); choosing a password does.
    """
    user = onboarding.user_for_setup_token(token, now=clock.now())
    if user is None:
        return render_template("auth/set_up_expired.html",
                               page_title="This link has expired or has been used"), 404
    form = SetUpForm()
    if form.validate_on_submit():
        try:
            user = onboarding.complete_setup(token, form.password.data, now=clock.now())
        except Refused as exc:
            show_problems(form, exc, default="password")
        else:
            if user.needs_two_factor:
                sessions.start(user, two_factor_done=False)
                db.session.commit()
                return redirect(url_for("auth.sign_in_enrol"))
            accounts.mark_signed_in(user, clock.now())
            sessions.start(user, two_factor_done=True)
            db.session.commit()
            flash("Your account is set up", "success")
            return redirect(url_for("auth.home"))
    return render_template("auth/set_up.html", form=form, token=token, user=user,
                           page_title="Set up your account")


@bp.post("/sign-out")
def sign_out() -> Response:
    form = PlainForm()
    if not form.validate_on_submit():
        abort(400)
    sessions.end()
    db.session.commit()
    flash("You've signed out", "success")
    return redirect(url_for("auth.sign_in"))


@bp.errorhandler(CSRFError)
def stale_form(error: CSRFError) -> Any:
    """Sign out pressed on a page left open after signing out elsewhere (its token died with
    the session): there is nothing left to end, so say so rather than show an error. Signed in,
    a stale or missing token is still refused."""
    if request.endpoint == "auth.sign_out" and not current_user.is_authenticated:
        flash("You've signed out", "success")
        return redirect(url_for("auth.sign_in"))
    return drafts.page_expired(error)


@bp.post("/session/keepalive")
def keepalive() -> Any:
    form = PlainForm()
    if not form.validate_on_submit():
        abort(400)
    if not current_user.is_authenticated:
        if request.accept_mimetypes.best == "application/json":
            return jsonify({"signed_in": False}), 401
        return redirect(url_for("auth.sign_in"))
    sessions.touch()
    db.session.commit()
    deadline = sessions.idle_deadline()
    if request.accept_mimetypes.best == "application/json":
        remaining = int((deadline - clock.now()).total_seconds()) if deadline else 0
        return jsonify({"signed_in": True, "idle_remaining": remaining,
                        "idle_deadline": deadline.isoformat() if deadline else None})
    return redirect(safe_next(request.form.get("next")) or url_for("auth.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data,
                                     now=clock.now())
        except Refused as exc:
            db.session.commit()  # a wrong current password counts as a failed attempt
            show_problems(form, exc, default="current_password")
        else:
            # Every other session has ended; this browser gets a new one.
            sessions.start(user, two_factor_done=True)
            db.session.commit()
            flash("Your password has been changed. You've been signed out everywhere else.",
                  "success")
            return redirect(url_for("auth.home"))
    return render_template("auth/change_password.html", form=form, page_title="Change password")


@bp.get("/home")
@login_required  # type: ignore[untyped-decorator]
def home() -> str:
    user = current_user
    org = user.school or user.local_authority
    links: list[dict[str, str]] = []
    to_confirm: list[Any] = []
    if user.role == "admin":
        links.append({"text": "Administration", "href": url_for("admin.overview")})
        # Where a second administrator finds what waits for them (a walk: only the
        # administration's page said so, and nothing led there).
        to_confirm = onboarding.awaiting_second_admin(user)
    links.append({"text": "Change your password", "href": url_for("auth.change_password")})
    # Pages that other parts of the portal add: shown once their endpoint exists.
    future = {
        "staff": ("concerns.new", "Raise a concern"),
        "dsl": ("incidents.dashboard", "Your dashboard"),
        "la_adviser": ("referrals.inbox", "Your inbox"),
    }
    waiting = onboarding.status_text(user) if not user.approved else None
    acting = access.acting_role(user)  # staff's while a change to DSL awaits approval
    if acting in future:
        endpoint, text = future[acting]
        if endpoint in current_app.view_functions:
            links.insert(0, {"text": text, "href": url_for(endpoint)})
    return render_template(
        "auth/home.html", page_title="Home", role_label=ROLE_LABELS.get(user.role, user.role),
        org_name=org.name if org else "Whole portal", links=links, waiting=waiting,
        still_staff=bool(waiting) and acting == "staff", to_confirm=to_confirm,
    )
