"""Raise a concern (with a draft that saves as you go), your own concerns, one concern's page.

Nothing typed is lost (RULES.md R1). Two posts would otherwise throw a member of staff's words
away, and both are caught here for the concern endpoints (`RESCUE_ENDPOINTS`):

* the session has expired (idle or absolute limit): `_expired_session_post` runs before the
  view, finds the session row named by the still validly signed cookie and, unless that session
  was revoked (sign-out, password change, disabled account...), saves the post into the user's
  draft (`services.concerns.rescue_into_draft`), then sends them to sign in;
* the page's CSRF token has expired or no longer matches (`_page_expired`, the CSRFError
  handler of this blueprint only): with a live session the post is saved into the draft the
  same way and the form is shown again to be checked and sent.

A rescue needs proof the post came from the portal's own page: a valid CSRF token, or the
page's rescue key (`rescue_key`, a hidden field: an HMAC under the app's secret of the session
token in the cookie, so it does not expire with the page but works only with that session's
cookie, and a cross-site page can neither read nor compute it). A post with neither saves
nothing. Even then a rescue only ADDS (`save_draft(merge=True)`): saved text is never replaced
or emptied, no child or box is ticked; it never submits a concern or alerts anyone. Sending
still needs a valid token and a live session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any, Final
from zoneinfo import ZoneInfo

from flask import (
    current_app,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf

from .. import notify
from ..access import can_raise_concern, can_record_incident, get_concern_or_404, require
from ..auth import sessions
from ..models import Concern, User, db
from ..services import concerns as service
from ..services import floods
from . import bp
from .forms import (
    DSL_SEARCH_HINT,
    NO_CHILD,
    ConcernForm,
    child_label,
    form_from,
    london_today,
    new_child_value,
    posted_fields,
)

LONDON: Final = ZoneInfo("Europe/London")
RESCUE_ENDPOINTS: Final = frozenset({"concerns.new", "concerns.draft"})
SIGNED_OUT_SAVED: Final = (
    "You were signed out, but what you typed has been saved. Sign in to carry on."
)
PAGE_EXPIRED_SAVED: Final = (
    "Your page had expired. We've kept what you typed — check it and submit again."
)
NO_MATCH: Final = ("No child found with that name. Check the spelling, or add them as a child "
                   "who is not on the list")
# Staff find a child by full name only (docs/security.md): one word is not a search, and saying
# "no child found" would send them to add the child again.
ONE_WORD: Final = "Enter the child's first name and family name, for example Maisie Thornbury"
TOO_LONG: Final = "What you typed is too long to save. Split it up and try again."
FLOODED: Final = {
    "account": ("You have sent a lot of concerns in a short time, so this one has not been sent "
                "yet. What you typed has been saved. If a child is at risk, speak to your "
                "safeguarding lead in person now. Otherwise try again in a few minutes."),
    "school": ("Your school has sent an unusual number of concerns in the last hour, so this "
               "one has not been sent yet. What you typed has been saved. If a child is at "
               "risk, speak to your safeguarding lead in person now. Otherwise try again later."),
}


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _clock(when: dt.datetime) -> str:
    return when.astimezone(LONDON).strftime("%H:%M")


def _day(when: dt.datetime | dt.date) -> str:
    if isinstance(when, dt.datetime):
        when = when.astimezone(LONDON).date()
    return f"{when.day} {when:%B %Y}"


def _when(when: dt.datetime) -> str:
    return f"{_day(when)} at {_clock(when)}"


# ---------------------------------------------------------------------------------------------
# Nothing typed is lost


def _cookie_token() -> str | None:
    """The session token in the signed cookie, read afresh: `sessions.current_row()` drops it
    from the live session as soon as it finds the session expired."""
    raw = current_app.session_interface.open_session(current_app, request)
    token = raw.get(sessions.SESSION_KEY) if raw is not None else None
    return token if isinstance(token, str) and token else None


def rescue_key(token: str | None) -> str:
    """The page's rescue key for the session named by `token` ("" without one)."""
    if not token:
        return ""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"portal.concern-draft-rescue.v1\0" + token.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def _rescue_key_ok(token: str | None) -> bool:
    posted = request.form.get("rescue_key", "")
    expected = rescue_key(token)
    return bool(expected) and hmac.compare_digest(posted.encode("utf-8", "replace"),
                                                  expected.encode("ascii"))


def _refused() -> Any:
    """A post to the concern form with neither a valid token nor the rescue key: nothing kept."""
    if _wants_json():
        return jsonify({"saved": False, "signed_in": current_user.is_authenticated,
                        "message": "This page could not be checked. Reload it and try again.",
                        "sign_in_url": url_for("auth.sign_in")}), 400
    return render_template("errors/400.html"), 400


def _rescue_signed_out(via: str, *, csrf_ok: bool) -> Any:
    """Save a signed-out post into its user's draft if its session only ran out; then sign in.

    Only with a valid CSRF token (`csrf_ok`) or the page's rescue key for that session.
    """
    rescued = None
    token = _cookie_token()
    if token is not None and (csrf_ok or _rescue_key_ok(token)):
        try:
            rescued = service.rescue_into_draft(token, posted_fields(request.form),
                                                now=sessions.now(), via=via)
            db.session.commit()
        except service.ConcernRefused:
            db.session.rollback()
            rescued = None
    message = SIGNED_OUT_SAVED if rescued is not None else "Sign in to see this page"
    if _wants_json():
        return jsonify({"saved": rescued is not None, "signed_in": False, "message": message,
                        "sign_in_url": url_for("auth.sign_in")}), 401
    flash(message, "info")
    if rescued is not None:
        sessions.return_after_sign_in(url_for("concerns.new"))
    return redirect(url_for("auth.sign_in"))


@bp.before_request
def _expired_session_post() -> Any:
    if request.method != "POST" or request.endpoint not in RESCUE_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        return None
    # The application's CSRF check ran before this one and passed (else `_page_expired`).
    return _rescue_signed_out("signed_out", csrf_ok=True)


@bp.errorhandler(CSRFError)
def _page_expired(error: CSRFError) -> Any:
    if request.method != "POST" or request.endpoint not in RESCUE_ENDPOINTS:
        return render_template("errors/400.html"), 400
    if not current_user.is_authenticated:
        return _rescue_signed_out("signed_out", csrf_ok=False)
    user = _user()
    if not can_raise_concern(user):
        return render_template("errors/404.html"), 404
    if not _rescue_key_ok(_cookie_token()):
        return _refused()
    try:
        draft = service.save_draft(user, posted_fields(request.form), now=sessions.now(),
                                   merge=True)
        service.record_page_expired(user, draft)
        db.session.commit()
    except service.ConcernRefused:
        db.session.rollback()
        return _too_long()
    if _wants_json():
        # A fresh token for the page, so the next save and the final send go through.
        return jsonify({"saved": True, "signed_in": True, "message": PAGE_EXPIRED_SAVED,
                        "saved_at": _clock(draft.updated_at), "csrf_token": generate_csrf()})
    flash(PAGE_EXPIRED_SAVED, "info")
    return redirect(url_for("concerns.new"))


def _too_long() -> Any:
    if _wants_json():
        return jsonify({"saved": False, "signed_in": True, "message": TOO_LONG}), 413
    return render_template("errors/400.html"), 400


# ---------------------------------------------------------------------------------------------
# Raise a concern


def _error_list(form: ConcernForm) -> list[dict[str, str]]:
    """The error summary, linking date errors to the day input (GOV.UK pattern)."""
    items = []
    for field in form:
        if field.errors:
            target = f"{field.id}-day" if field.type == "DateParts" else field.id
            items.append({"text": field.errors[0], "href": f"#{target}"})
    return items


def _settings() -> Any:
    return current_app.config["PORTAL_SETTINGS"]


def _flooded(user: User, form: ConcernForm, fields: service.DraftFields,
             refusal: floods.Refusal, now: dt.datetime) -> Any:
    """Refuse a concern over the flood limits, in words, keeping every word typed: the draft is
    saved, the refusal audited, and the school's DSLs alerted the first time (docs/security.md).
    """
    settings = _settings()
    draft = service.save_draft(user, fields, now=now)
    alert = floods.record_refusal(user, refusal, settings, now=now)
    batch = (notify.queue_flood(user.school_id, refusal.scope, refusal.limit, refusal.minutes)
             if alert and user.school_id is not None else None)
    db.session.commit()
    if batch is not None:
        notify.deliver_now([batch])
    message = FLOODED[refusal.scope]
    return _render(form, saved_at=draft.updated_at,
                   extra_errors=[{"text": message, "href": "#what_happened"}]), 429


def _render(form: ConcernForm, *, saved_at: dt.datetime | None = None,
            matches: int | None = None, loaded: bool = False,
            extra_errors: list[dict[str, str]] | None = None) -> str:
    if can_record_incident(_user()):  # DSLs may also find a family by its name
        form.child_search.description = DSL_SEARCH_HINT
    return render_template(
        "concerns/new.html", form=form, page_title="Raise a concern",
        error_list=[*(extra_errors or []), *_error_list(form)],
        saved_at=_clock(saved_at) if saved_at else None,
        loaded_at=_when(saved_at) if (saved_at and loaded) else None,
        matches=matches, rescue_key=rescue_key(_cookie_token()),
    )


@bp.route("/concerns/new", methods=["GET", "POST"])
@require("raise_concern")
def new() -> Any:
    user = _user()
    now = sessions.now()
    if request.method == "GET":
        fields, saved_at = service.draft_fields(user)
        form = form_from(fields)
        form.set_children(service.children_in_school(user, form.child_ids.data or []))
        return _render(form, saved_at=saved_at, loaded=bool(fields))

    try:
        fields = posted_fields(request.form)
        service.clean_fields(fields)
    except service.ConcernRefused:
        return _too_long()
    form = form_from(fields)
    known = service.children_in_school(user, form.child_ids.data or [])
    form.set_children(known)
    action = next((name for name in ("submit", "find", "add_child", "save")
                   if name in request.form), "save")  # no button named: never send

    if action == "submit":
        data = form.check_submit([child.id for child in known], london_today(now))
        refusal = (floods.check_concern_rate(user, _settings(), now=now)
                   if data is not None else None)
        if refusal is not None:
            return _flooded(user, form, fields, refusal, now)
        if data is not None:
            concern = service.raise_concern(user, data, now=now)
            queued = notify.queue_concern_alert(concern, now=now)  # in the same transaction
            db.session.commit()
            result = notify.deliver_now(queued)  # the nudge; never raises for mail
            flash("sent", "concern_sent")
            flash("sent" if result.ok else "failed", "concern_alert")
            return redirect(url_for("concerns.view", concern_id=concern.id))
        draft = service.save_draft(user, fields, now=now)
        db.session.commit()
        return _render(form, saved_at=draft.updated_at)

    if action == "find":
        text = form.check_search()
        found = service.find_children(user, text) if text else []
        if text and not found:
            one_word = len(text.split()) == 1 and not can_record_incident(user)
            form.error(form.child_search, ONE_WORD if one_word else NO_MATCH)
        form.set_children(known, found)
        draft = service.save_draft(user, fields, now=now)
        db.session.commit()
        return _render(form, saved_at=draft.updated_at, matches=len(found) if text else None)

    if action == "add_child":
        child = form.check_new_child(london_today(now))
        if child is not None:
            fields["new_children"] = [*list(fields.get("new_children") or []),
                                      new_child_value(child)]
            for name in ("new_given", "new_family", "new_dob", "new_dob_unknown"):
                fields.pop(name, None)
            form = form_from(fields)
            form.set_children(known)
        draft = service.save_draft(user, fields, now=now)
        db.session.commit()
        return _render(form, saved_at=draft.updated_at)

    draft = service.save_draft(user, fields, now=now)
    db.session.commit()
    flash(f"Saved at {_clock(draft.updated_at)}. It has not been sent: a safeguarding lead "
          "will only see it when you select 'Send to the safeguarding lead'.", "success")
    return redirect(url_for("concerns.new"))


@bp.post("/concerns/draft")
@require("raise_concern")
def draft() -> Any:
    """Autosave (fetch from static/js/autosave.js), or a plain post that saves and returns."""
    user = _user()
    try:
        saved = service.save_draft(user, posted_fields(request.form), now=sessions.now())
        db.session.commit()
    except service.ConcernRefused:
        db.session.rollback()
        return _too_long()
    if _wants_json():
        return jsonify({"saved": True, "signed_in": True, "saved_at": _clock(saved.updated_at),
                        "csrf_token": generate_csrf()})
    flash(f"Saved at {_clock(saved.updated_at)}. It has not been sent yet.", "success")
    return redirect(url_for("concerns.new"))


# ---------------------------------------------------------------------------------------------
# Reading


def _state(concern: Concern) -> str:
    if concern.state == "picked_up" and concern.picked_up_at is not None:
        return f"Picked up by a safeguarding lead on {_when(concern.picked_up_at)}"
    if concern.state == "picked_up":
        return "Picked up by a safeguarding lead"
    return "Sent: waiting for a safeguarding lead"


@bp.get("/concerns/mine")
@require("raise_concern")
def mine() -> str:
    rows = [
        {
            "id": concern.id,
            "sent": _when(concern.submitted_at),
            "occurred": _day(concern.occurred_on) if concern.occurred_on else "Not given",
            "children": ", ".join(link.child.redacted_label for link in concern.children),
            "state": _state(concern),
            "picked_up": concern.state == "picked_up",
            "urgent": concern.urgent,
        }
        for concern in service.concerns_raised_by(_user())
    ]
    return render_template("concerns/mine.html", rows=rows, page_title="Your concerns")


@bp.get("/concerns/<uuid:concern_id>")
@require("raise_concern")
def view(concern_id: Any) -> str:
    user = _user()
    concern = get_concern_or_404(user, concern_id)
    service.record_view(user, concern)
    db.session.commit()
    just_sent = bool(get_flashed_messages(category_filter=["concern_sent"]))
    alert = get_flashed_messages(category_filter=["concern_alert"])
    return render_template(
        "concerns/view.html", page_title="Concern", concern=concern,
        children=[child_label(link.child) for link in concern.children],
        sent=_when(concern.submitted_at),
        occurred=_day(concern.occurred_on) if concern.occurred_on else "Not given",
        state=_state(concern), own=concern.raised_by_id == user.id,
        just_sent=just_sent, alert=alert[0] if alert else None,
    )


__all__ = ["NO_CHILD", "PAGE_EXPIRED_SAVED", "SIGNED_OUT_SAVED", "bp"]
