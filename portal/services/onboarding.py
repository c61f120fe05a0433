"""Who may give an account access to children's records, and how (issue 11, item 2).

An administrator runs the portal but must never be able to read a child's record, not even by
making an account for themselves. So:

- An account made on the admin pages gets no password from the administrator: the person is
  emailed a one-time set-up link (a random token, only its SHA-256 stored, valid for
  SETUP_LINK_HOURS) to choose their own password and set up their own authenticator app. The
  administrator sees only that the link was sent. A new link replaces the old one.
- A new DSL of a school that already has (approved, active) DSLs is `awaiting_dsl`: it can sign
  in but reads nothing until one of those DSLs approves it (or declines it, with reasons).
- A school's first DSL is `awaiting_admin`: one administrator proposes it, a different one
  confirms; only then is the set-up link sent (or, for a role change, the role given).
- A role change to DSL follows the same two rules. Every DSL of the school is told of each new
  account and each role change (email without any detail of children, and their dashboard).

Operations take plain inputs and the time, write the audit entry and flush; the request commits,
then sends the messages these functions return (`Outgoing`), so nothing is sent for a change
that was rolled back.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Final

from sqlalchemy import select

from ..models import ROLE_LABELS, School, User, db
from ..passwords import password_problem
from . import accounts
from .accounts import AccountError

SETUP_LINK_HOURS: Final = 72
MAX_REASONS: Final = 2000

ACCOUNT_SETUP_LINK_SENT: Final = "account.setup_link_sent"
ACCOUNT_SETUP_COMPLETED: Final = "account.setup_completed"
ACCOUNT_DSL_PROPOSED: Final = "account.dsl_proposed"
ACCOUNT_DSL_CONFIRMED: Final = "account.dsl_confirmed"
ACCOUNT_DSL_APPROVED: Final = "account.dsl_approved"
ACCOUNT_DSL_DECLINED: Final = "account.dsl_declined"
ACCOUNT_ROLE_CHANGED: Final = "admin.role_changed"
ACCOUNT_DSLS_TOLD: Final = "account.dsls_told"


@dataclass
class Outgoing:
    """What to email once the request has committed."""

    setup_links: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (user id, token)
    # (school id, changed account's id, kind: "new_account" | "role_change" | "approved"...)
    school_notices: list[tuple[uuid.UUID, uuid.UUID, str]] = field(default_factory=list)


def _audit(action: str, user: User, actor_id: uuid.UUID | None, **detail: str | int) -> None:
    from portal import audit

    audit.record(action, org_id=user.org_id, actor_id=actor_id, object_type="user",
                 object_id=str(user.id), detail=dict(detail) or None)


# --------------------------------------------------------------------------------------------
# The school's DSLs


def school_dsls(school_id: uuid.UUID, *, excluding: uuid.UUID | None = None) -> list[User]:
    """The school's DSLs who hold the role fully: active and approved."""
    query = select(User).where(User.school_id == school_id, User.role == "dsl",
                               User.active.is_(True), User.approval == "approved")
    if excluding is not None:
        query = query.where(User.id != excluding)
    return list(db.session.scalars(query.order_by(User.email)))


def awaiting_approval(school_id: uuid.UUID) -> list[User]:
    """Accounts of the school waiting for one of its DSLs (the dashboard's list)."""
    return list(db.session.scalars(
        select(User).where(User.school_id == school_id, User.approval == "awaiting_dsl",
                           User.active.is_(True)).order_by(User.created_at)))


def _dsl_gate(user: User, actor_id: uuid.UUID | None) -> str:
    """The approval a (new or changed) DSL starts with."""
    assert user.school_id is not None
    if school_dsls(user.school_id, excluding=user.id):
        return "awaiting_dsl"
    user.proposed_by_id = actor_id
    return "awaiting_admin"


# --------------------------------------------------------------------------------------------
# Set-up links


def issue_setup_link(user: User, *, now: dt.datetime, actor_id: uuid.UUID | None,
                     out: Outgoing) -> None:
    """A new link (the previous one stops working); its token goes only into `out`."""
    if not user.setup_pending:
        raise AccountError("This person has already set up their account")
    if not user.active:
        raise AccountError("Enable the account before sending a set-up link")
    if user.approval == "awaiting_admin":
        raise AccountError("A second administrator must confirm this account first")
    if user.approval == "declined":
        raise AccountError("This account was declined by the school's safeguarding leads")
    token = secrets.token_urlsafe(32)
    user.setup_token_hash = accounts.token_hash(token)
    user.setup_expires_at = now + dt.timedelta(hours=SETUP_LINK_HOURS)
    out.setup_links.append((user.id, token))
    _audit(ACCOUNT_SETUP_LINK_SENT, user, actor_id, hours=SETUP_LINK_HOURS)
    db.session.flush()


def user_for_setup_token(token: str, *, now: dt.datetime) -> User | None:
    """The account a set-up link is for, if the link is still good."""
    if not token or len(token) > 200:
        return None
    user = db.session.scalar(
        select(User).where(User.setup_token_hash == accounts.token_hash(token)))
    if (user is None or not user.setup_pending or not user.active
            or user.setup_expires_at is None or user.setup_expires_at <= now
            or user.approval in ("awaiting_admin", "declined")):
        return None
    return user


def complete_setup(token: str, password: str, *, now: dt.datetime) -> User:
    """Sets the person's own password and uses up the link. Their authenticator app is set up
    next, at the sign-in that follows (their own secret, never one an administrator saw)."""
    user = user_for_setup_token(token, now=now)
    if user is None:
        raise AccountError("This link has expired or has already been used", "password")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem, "password")
    user.password_hash = accounts.passwords().hash(password)
    user.password_changed_at = now
    user.setup_pending = False
    user.setup_token_hash = None
    user.setup_expires_at = None
    user.totp_secret = None
    user.totp_enrolled = False
    user.totp_last_step = 0
    accounts.clear_failures(user)
    accounts.revoke_all_sessions(user.id, "setup_completed", now=now)
    _audit(ACCOUNT_SETUP_COMPLETED, user, user.id)
    db.session.flush()
    return user


# --------------------------------------------------------------------------------------------
# New accounts (the admin pages)


def create_account(new: accounts.NewUser, *, actor_id: uuid.UUID, now: dt.datetime,
                   out: Outgoing) -> User:
    """An account made by an administrator: no password of theirs, a set-up link instead."""
    if new.password:
        raise AccountError("Administrators cannot set a password: the person sets their own "
                           "through the link they are emailed", "email")
    # A random password nobody is told: the account cannot be signed in to until set up.
    user, _ = accounts.create_user(replace(new, password=secrets.token_urlsafe(32)),
                                   actor_id=actor_id)
    user.setup_pending = True
    if user.role == "dsl":
        user.approval = _dsl_gate(user, actor_id)
        if user.approval == "awaiting_admin":
            _audit(ACCOUNT_DSL_PROPOSED, user, actor_id, kind="new_account")
    if user.approval != "awaiting_admin":
        issue_setup_link(user, now=now, actor_id=actor_id, out=out)
    if user.school_id is not None:
        out.school_notices.append((user.school_id, user.id, "new_account"))
    db.session.flush()
    return user


def confirm_first_dsl(user: User, *, actor_id: uuid.UUID, now: dt.datetime,
                      out: Outgoing) -> None:
    """The second administrator's confirmation of a school's first DSL."""
    if user.approval != "awaiting_admin":
        raise AccountError("This account is not waiting for an administrator to confirm it")
    if user.proposed_by_id is None or user.proposed_by_id == actor_id:
        raise AccountError("A different administrator must confirm this: you proposed it")
    assert user.school_id is not None
    # If the school has gained a DSL meanwhile, that DSL decides instead.
    user.approval = "awaiting_dsl" if school_dsls(user.school_id, excluding=user.id) \
        else "approved"
    if user.approval == "approved":
        user.previous_role = None
    _audit(ACCOUNT_DSL_CONFIRMED, user, actor_id, approval=user.approval)
    if user.setup_pending:
        issue_setup_link(user, now=now, actor_id=actor_id, out=out)
    out.school_notices.append((user.school_id, user.id, "confirmed"))
    db.session.flush()


def change_role(user: User, role: str, *, actor_id: uuid.UUID, now: dt.datetime,
                out: Outgoing) -> None:
    """Staff <-> DSL within the account's school. To DSL: the same rules as a new DSL."""
    if user.school_id is None or user.role not in ("staff", "dsl"):
        raise AccountError("Only a school's staff and safeguarding leads can change role here")
    if role not in ("staff", "dsl"):
        raise AccountError("Select a role", "role")
    if role == user.role:
        raise AccountError("The account already has this role", "role")
    if user.id == actor_id:
        raise AccountError("You cannot change your own role")
    old = user.role
    user.role = role
    if role == "dsl":
        user.previous_role = old
        user.approval = _dsl_gate(user, actor_id)
        if user.approval == "awaiting_admin":
            _audit(ACCOUNT_DSL_PROPOSED, user, actor_id, kind="role_change")
    else:
        user.previous_role = None
        user.proposed_by_id = None
        user.approval = "approved"
    # A session signed in for the old role (staff sign in without a code) must not carry on.
    accounts.revoke_all_sessions(user.id, "role_changed", now=now)
    _audit(ACCOUNT_ROLE_CHANGED, user, actor_id, old_role=old, new_role=role,
           approval=user.approval)
    out.school_notices.append((user.school_id, user.id, "role_change"))
    db.session.flush()


# --------------------------------------------------------------------------------------------
# The school's DSLs decide


def _check_decider(user: User, dsl: User) -> None:
    if (dsl.role != "dsl" or not dsl.active or dsl.approval != "approved"
            or dsl.school_id is None or dsl.school_id != user.school_id):
        raise AccountError("Only a safeguarding lead of the school can decide this")
    if dsl.id == user.id:
        raise AccountError("You cannot approve your own account")
    if user.approval != "awaiting_dsl" or not user.active:
        raise AccountError("This account is not waiting for approval")


def approve(user: User, *, dsl: User, now: dt.datetime, out: Outgoing) -> None:
    _check_decider(user, dsl)
    user.approval = "approved"
    user.previous_role = None
    user.proposed_by_id = None
    _audit(ACCOUNT_DSL_APPROVED, user, dsl.id)
    assert user.school_id is not None
    out.school_notices.append((user.school_id, user.id, "approved"))
    db.session.flush()


def decline(user: User, *, dsl: User, reasons: str, now: dt.datetime, out: Outgoing) -> None:
    """A new account is disabled; a role change goes back to the role held before."""
    _check_decider(user, dsl)
    reasons = reasons.replace("\x00", "").strip()
    if not reasons:
        raise AccountError("Enter your reasons for declining", "reasons")
    if len(reasons) > MAX_REASONS:
        raise AccountError(f"Reasons must be {MAX_REASONS} characters or fewer", "reasons")
    user.declined_reasons = reasons
    kind = "role_change" if user.previous_role else "new_account"
    if user.previous_role:
        user.role = user.previous_role
        user.previous_role = None
        user.approval = "approved"
    else:
        user.approval = "declined"
        user.active = False
        user.setup_token_hash = None
        user.setup_expires_at = None
    user.proposed_by_id = None
    accounts.revoke_all_sessions(user.id, "declined", now=now)
    _audit(ACCOUNT_DSL_DECLINED, user, dsl.id, kind=kind)
    assert user.school_id is not None
    out.school_notices.append((user.school_id, user.id, "declined"))
    db.session.flush()


def status_text(user: User) -> str:
    """How an administrator sees the account's state (never the link)."""
    if user.approval == "awaiting_admin":
        return "Waiting for a second administrator to confirm"
    if user.approval == "awaiting_dsl":
        return "Waiting for a safeguarding lead of the school to approve"
    if user.approval == "declined":
        return "Declined by the school's safeguarding leads"
    if user.setup_pending:
        return "Set-up link sent; not set up yet"
    return "Set up"


NOTICE_TEXT: Final = {
    "new_account": "A new account was added",
    "role_change": "An account's role was changed",
    "confirmed": "A second administrator confirmed a new safeguarding lead",
    "approved": "A safeguarding lead approved an account",
    "declined": "A safeguarding lead declined an account",
}


def describe(user: User) -> str:
    return f"{user.display_name} ({ROLE_LABELS.get(user.role, user.role)})"


def school_of(user: User) -> School | None:
    return db.session.get(School, user.school_id) if user.school_id else None
