"""Approve or decline an account waiting for the school's DSLs; the dashboard's account panel.

Only an approved, active DSL of the account's own school may decide; anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import access, notify
from ..auth import sessions
from ..auth.forms import PlainForm
from ..models import ROLE_LABELS, AuditEvent, User, db
from ..services import accounts, onboarding
from . import bp
from .forms import DeclineForm

require_dsl = access.require("record_incident")

NOTICE_ACTIONS = {
    "admin.user_created": "Account added by an administrator",
    "admin.role_changed": "Role changed by an administrator",
    "account.dsl_confirmed": "First safeguarding lead confirmed by a second administrator",
    "account.dsl_approved": "Approved by a safeguarding lead",
    "account.dsl_declined": "Declined by a safeguarding lead",
    "admin.user_disabled": "Account disabled by an administrator",
    "admin.user_enabled": "Account enabled by an administrator",
    "admin.totp_reset": "Authenticator app reset by an administrator",
}
NOTICE_DAYS = 30


@dataclass(frozen=True)
class Notice:
    at: dt.datetime
    what: str
    who: str


def _pending_or_404(user_id: uuid.UUID) -> User:
    me = current_user._get_current_object()
    user = db.session.get(User, user_id)
    if user is None or user.school_id != me.school_id or user.approval != "awaiting_dsl":
        abort(404)
    return user


def dashboard_panel(me: Any, now: dt.datetime) -> dict[str, Any]:
    """What the dashboard shows of the school's accounts (called by the DSL dashboard)."""
    if me.school_id is None:
        return {"pending": [], "notices": []}
    pending = [u for u in onboarding.awaiting_approval(me.school_id) if u.id != me.id]
    since = now - dt.timedelta(days=NOTICE_DAYS)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.org_id == str(me.school_id),
                                 AuditEvent.action.in_(NOTICE_ACTIONS),
                                 AuditEvent.object_type == "user", AuditEvent.at >= since)
        .order_by(AuditEvent.at.desc()).limit(50)).all()
    ids = {uuid.UUID(e.object_id) for e in events if e.object_id}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} \
        if ids else {}
    notices = []
    for e in events:
        u = people.get(uuid.UUID(e.object_id)) if e.object_id else None
        if u is None:
            continue
        what = NOTICE_ACTIONS[e.action]
        if e.action == "admin.role_changed":
            new_role = (e.detail or {}).get("new_role")
            what += f": now {ROLE_LABELS.get(str(new_role), str(new_role)).lower()}"
        notices.append(Notice(at=e.at, what=what, who=onboarding.describe(u)))
    return {"pending": pending, "notices": notices, "days": NOTICE_DAYS}


@bp.get("/<uuid:user_id>")
@require_dsl
def pending(user_id: uuid.UUID) -> str:
    user = _pending_or_404(user_id)
    return render_template("team/pending.html", user=user, form=PlainForm(),
                           decline_form=DeclineForm(), role_labels=ROLE_LABELS,
                           page_title=f"Approve {user.display_name}?")


@bp.post("/<uuid:user_id>/approve")
@require_dsl
def approve(user_id: uuid.UUID) -> Response:
    if not PlainForm().validate_on_submit():
        abort(400)
    user = _pending_or_404(user_id)
    out = onboarding.Outgoing()
    try:
        onboarding.approve(user, dsl=current_user._get_current_object(), now=sessions.now(),
                           out=out)
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(exc.message)
        return redirect(url_for("team.pending", user_id=user_id))
    db.session.commit()
    notify.send_account_mail(out)
    flash(f"{user.display_name} is approved", "success")
    return redirect(url_for("incidents.dashboard"))


@bp.post("/<uuid:user_id>/decline")
@require_dsl
def decline(user_id: uuid.UUID) -> Any:
    user = _pending_or_404(user_id)
    form = DeclineForm()
    if form.validate_on_submit():
        out = onboarding.Outgoing()
        try:
            onboarding.decline(user, dsl=current_user._get_current_object(),
                               reasons=form.reasons.data, now=sessions.now(), out=out)
        except accounts.AccountError as exc:
            db.session.rollback()
            form.reasons.errors = [*list(form.reasons.errors), exc.message]
        else:
            db.session.commit()
            notify.send_account_mail(out)
            flash(f"{user.display_name}'s account is declined", "success")
            return redirect(url_for("incidents.dashboard"))
    return render_template("team/pending.html", user=user, form=PlainForm(),
                           decline_form=form, role_labels=ROLE_LABELS,
                           page_title=f"Approve {user.display_name}?"), 400
