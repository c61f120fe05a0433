"""Approve or decline an account waiting for the school's DSLs (the authority's advisers), and
the account panel of the DSL's dashboard and the adviser's inbox.

Only an approved, active DSL of the account's own school (adviser of its own authority) may
decide; anyone else gets 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, Uuid, bindparam, cast, false, func, select, union_all
from werkzeug.wrappers import Response

from .. import access, clock, notify
from ..auth.forms import PlainForm
from ..form_problems import show_problems
from ..kept import kept
from ..models import ROLE_LABELS, AuditEvent, User, db
from ..refusal import Refused
from ..services import onboarding
from . import bp
from .forms import DeclineForm

require_peer = access.require(
    lambda u: access.can_record_incident(u) or access.can_work_referrals(u))

NOTICE_ACTIONS = {
    "admin.user_created": "Account added by an administrator",
    "admin.role_changed": "Role changed by an administrator",
    "account.confirmed": "Confirmed by a second administrator",
    "account.approved": "Approved by a colleague",
    "account.declined": "Declined by a colleague",
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
    for user in onboarding.awaiting_approval(me):
        if user.id == user_id:
            return user
    abort(404)


def _home() -> str:
    return url_for("incidents.dashboard" if current_user.role == "dsl" else "referrals.inbox")


def _user_id_of(object_id: Any, dialect: str) -> Any:
    """SQL: an audit event's `object_id` (a user's id as text) as a `users.id` value."""
    if dialect == "postgresql":
        return cast(object_id, Uuid)
    return func.replace(object_id, "-", "")  # SQLite keeps a UUID as its 32 hex digits


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the panel shows it: plain values of its row (no ORM object)."""

    id: uuid.UUID
    display_name: str
    email: str
    role: str
    previous_role: str | None


@kept
def _panel_statement(dialect: str, waiting: ColumnElement[bool] | None) -> Select[Any]:
    """The panel's one statement, built once per thread (per database and kind of
    organisation; issue 15), its values bound at execution (`org_id`, `since` and those of
    `onboarding.awaiting_bound`): the notices (the latest 50 events about accounts), each with
    the account it names, and the accounts waiting for approval. Of each event only the four
    columns a notice shows, of each account those the panel shows."""
    events = (select(AuditEvent.at, AuditEvent.action, AuditEvent.object_id, AuditEvent.detail)
              .where(AuditEvent.org_id == bindparam("org_id"),
                     AuditEvent.action.in_(NOTICE_ACTIONS), AuditEvent.object_type == "user",
                     AuditEvent.at >= bindparam("since"))
              .order_by(AuditEvent.at.desc()).limit(50).subquery())
    named = _user_id_of(events.c.object_id, dialect)
    ids = select(named)
    if waiting is not None:
        ids = union_all(select(User.id).where(waiting), ids)  # type: ignore[assignment]
    return (select(User.id, User.display_name, User.email, User.role, User.previous_role,
                   (waiting if waiting is not None else false()).label("waiting"),
                   events.c.at, events.c.action, events.c.object_id, events.c.detail)
            .outerjoin(events, User.id == named)
            .where(User.id.in_(ids)).order_by(User.created_at, events.c.at.desc()))


def dashboard_panel(me: Any, now: dt.datetime) -> dict[str, Any]:
    """The organisation's accounts (the DSL's dashboard, the adviser's inbox): those waiting for
    approval, and the changes of the last NOTICE_DAYS days (from the audit trail)."""
    if me.school_id is None and me.local_authority_id is None:
        return {"pending": [], "notices": []}
    waiting, values = onboarding.awaiting_bound(me)
    found = db.session.execute(
        _panel_statement(db.engine.dialect.name, waiting),
        {**values, "org_id": me.org_id, "since": now - dt.timedelta(days=NOTICE_DAYS)}).all()
    pending = []
    people: dict[uuid.UUID, Account] = {}
    for row in found:
        if row.id not in people:
            account = people[row.id] = Account(row.id, row.display_name, row.email, row.role,
                                               row.previous_role)
            if row.waiting:
                pending.append(account)
    # An account with no event joined has no time (every event has one).
    events_found = sorted((e for e in found if e.at is not None),
                          key=lambda e: e.at, reverse=True)
    notices = []
    # Each account's role as it was at each event, newest first from today's: an account
    # added as staff and made a DSL since was listed "Account added" beside "(Designated
    # safeguarding lead)" (a walk).
    role_then: dict[uuid.UUID, str] = {}
    for e in events_found:
        u = people.get(uuid.UUID(e.object_id)) if e.object_id else None
        if u is None:
            continue
        detail = e.detail or {}
        role = role_then.setdefault(u.id, u.role)
        what = NOTICE_ACTIONS[e.action]
        if e.action == "admin.role_changed":
            new_role = detail.get("new_role")
            what += f": now {ROLE_LABELS.get(str(new_role), str(new_role)).lower()}"
            role = role_then[u.id] = str(detail.get("old_role") or role)  # who they were
        elif e.action == "admin.user_created":
            role = str(detail.get("role") or role)
        notices.append(Notice(at=e.at, what=what,
                              who=onboarding.describe(replace(u, role=role))))
    return {"pending": pending, "notices": notices, "days": NOTICE_DAYS}


@bp.get("/<uuid:user_id>")
@require_peer
def pending(user_id: uuid.UUID) -> str:
    user = _pending_or_404(user_id)
    return render_template("team/pending.html", user=user, form=PlainForm(),
                           decline_form=DeclineForm(), role_labels=ROLE_LABELS, home=_home(),
                           page_title=f"Approve {user.display_name}?")


@bp.post("/<uuid:user_id>/approve")
@require_peer
def approve(user_id: uuid.UUID) -> Response:
    if not PlainForm().validate_on_submit():
        abort(400)
    user = _pending_or_404(user_id)
    out = onboarding.Outgoing()
    try:
        onboarding.approve(user, peer=current_user._get_current_object(), now=clock.now(),
                           out=out)
    except Refused as exc:
        db.session.rollback()
        flash(exc.message)
        return redirect(url_for("team.pending", user_id=user_id))
    batches = notify.queue_account_mail(out)  # in the same transaction
    db.session.commit()
    notify.deliver_now(batches)
    flash(f"{user.display_name} is approved", "success")
    return redirect(_home())


@bp.post("/<uuid:user_id>/decline")
@require_peer
def decline(user_id: uuid.UUID) -> Any:
    user = _pending_or_404(user_id)
    form = DeclineForm()
    if form.validate_on_submit():
        out = onboarding.Outgoing()
        try:
            onboarding.decline(user, peer=current_user._get_current_object(),
                               reasons=form.reasons.data, now=clock.now(), out=out)
        except Refused as exc:
            show_problems(form, exc, default="reasons")
        else:
            batches = notify.queue_account_mail(out)  # in the same transaction
            db.session.commit()
            notify.deliver_now(batches)
            flash(f"{user.display_name}'s account is declined", "success")
            return redirect(_home())
    return render_template("team/pending.html", user=user, form=PlainForm(),
                           decline_form=form, role_labels=ROLE_LABELS, home=_home(),
                           page_title=f"Approve {user.display_name}?"), 400
