"""Who may give an account access to children's records, and how (issue 11, item 2).

An administrator runs the portal but must never be able to read a child's record, not even by
making an account for themselves. So:

- An account made on the admin pages gets no password from the administrator: the person is
  emailed a one-time set-up link (a random token, only its SHA-256 stored, valid for
  SETUP_LINK_HOURS) to choose their own password and set up their own authenticator app. The
  administrator sees only that the link was sent. A new link replaces the old one.
- A new DSL of a school that already has (approved, active) DSLs is `awaiting_peer`: it can sign
  in but reads nothing until one of those DSLs approves it (or declines it, with reasons).
- A school's first DSL is `awaiting_admin`: one administrator proposes it, a different one
  confirms; only then is the set-up link sent (or, for a role change, the role given).
- A role change to DSL follows the same two rules. Every DSL of the school is told of each new
  account and each role change (email without any detail of children, and their dashboard).
- Local authority advisers read the referrals (children's names and what happened) sent to
  their authority, so a new adviser follows the same rules, with the authority's advisers in the
  place of the school's DSLs.

Operations take plain inputs and the time, write the audit entry and flush; the request commits,
then sends the messages these functions return (`Outgoing`), so nothing is sent for a change
that was rolled back.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from sqlalchemy import ColumnElement, and_, bindparam, false, select

from ..kept import kept
from ..models import ROLE_LABELS, User, db
from ..passwords import password_problem
from ..refusal import Refused
from . import accounts

SETUP_LINK_HOURS: Final = 72
MAX_REASONS: Final = 2000

ACCOUNT_SETUP_LINK_SENT: Final = "account.setup_link_sent"
ACCOUNT_SETUP_COMPLETED: Final = "account.setup_completed"
ACCOUNT_PROPOSED: Final = "account.proposed"
ACCOUNT_CONFIRMED: Final = "account.confirmed"
ACCOUNT_APPROVED: Final = "account.approved"
ACCOUNT_DECLINED: Final = "account.declined"
ACCOUNT_ROLE_CHANGED: Final = "admin.role_changed"

# Roles that read children's records, and so need their organisation's approval.
RECORD_ROLES: Final = frozenset({"dsl", "la_adviser"})


@dataclass
class Outgoing:
    """What to email once the request has committed."""

    setup_links: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (user id, token)
    # (changed account's id, kind: "new_account" | "role_change" | "approved"...): told to the
    # account's peers (the school's DSLs, or the authority's advisers)
    notices: list[tuple[uuid.UUID, str]] = field(default_factory=list)


def _audit(action: str, user: User, actor_id: uuid.UUID | None, **detail: str | int) -> None:
    from portal import audit

    audit.record(action, org_id=user.org_id, actor_id=actor_id, object_type="user",
                 object_id=str(user.id), detail=dict(detail) or None)


# --------------------------------------------------------------------------------------------
# Peers: the school's DSLs, the authority's advisers


def _org_clause(user: User) -> Any:
    if user.school_id is not None:
        return User.school_id == user.school_id
    if user.local_authority_id is not None:
        return User.local_authority_id == user.local_authority_id
    return false()


def deciders_for(user: User) -> list[User]:
    """Who decides on `user` and is told of changes to it: the active, approved DSLs of its
    school (any school account), or advisers of its authority; never `user` itself."""
    role = "dsl" if user.school_id is not None else "la_adviser"
    query = select(User).where(_org_clause(user), User.role == role, User.active.is_(True),
                               User.approval == "approved", User.id != user.id)
    return list(db.session.scalars(query.order_by(User.email)))


def awaiting_approval(peer: User) -> list[User]:
    """Accounts waiting for `peer` (or another of its role and organisation) to decide."""
    waiting = awaiting_clause(peer)
    if waiting is None:
        return []
    return list(db.session.scalars(select(User).where(waiting).order_by(User.created_at)))


def awaiting_clause(peer: User) -> ColumnElement[bool] | None:
    """SQL: the accounts `awaiting_approval` lists for `peer`; None if it lists none."""
    if _awaits_none(peer):
        return None
    return _awaiting(_org_clause(peer), peer.role, peer.id)


def _awaits_none(peer: Any) -> bool:
    return peer.role not in RECORD_ROLES or (peer.school_id is None
                                             and peer.local_authority_id is None)


def awaiting_bound(peer: Any) -> tuple[ColumnElement[bool] | None, dict[str, Any]]:
    """`awaiting_clause` built once per thread (per kind of organisation), with the values to
    bind it to at execution (`peer_org`, `peer_role`, `peer_id`): for a statement a page
    builds once (issue 15). None (and no values) if it lists none."""
    if _awaits_none(peer):
        return None, {}
    by_school = peer.school_id is not None
    return _awaiting_bound(by_school), {
        "peer_org": peer.school_id if by_school else peer.local_authority_id,
        "peer_role": peer.role, "peer_id": peer.id}


@kept
def _awaiting_bound(by_school: bool) -> ColumnElement[bool]:
    org = User.school_id if by_school else User.local_authority_id
    return _awaiting(org == bindparam("peer_org"), bindparam("peer_role"),
                     bindparam("peer_id"))


def _awaiting(org: Any, role: Any, peer_id: Any) -> ColumnElement[bool]:
    """The rule, once: the accounts of `org` with `role` waiting for a peer's approval, active,
    other than the peer's own."""
    return and_(org, User.role == role, User.approval == "awaiting_peer",
                User.active.is_(True), User.id != peer_id)


def _gate(user: User, actor_id: uuid.UUID | None) -> str:
    """The approval a new (or changed) DSL or adviser starts with."""
    if deciders_for(user):
        return "awaiting_peer"
    user.proposed_by_id = actor_id
    return "awaiting_admin"


# --------------------------------------------------------------------------------------------
# Set-up links


def issue_setup_link(user: User, *, now: dt.datetime, actor_id: uuid.UUID | None,
                     out: Outgoing) -> None:
    """A new link (the previous one stops working); its token goes only into `out`."""
    if not user.setup_pending:
        raise Refused("This person has already set up their account")
    if not user.active:
        raise Refused("Enable the account before sending a set-up link")
    if user.approval == "awaiting_admin":
        raise Refused("A second administrator must confirm this account first")
    if user.approval == "declined":
        raise Refused("This account was declined by the school's safeguarding leads")
    token = secrets.token_urlsafe(32)
    user.setup_token_hash = accounts.token_hash(token)
    user.setup_expires_at = now + dt.timedelta(hours=SETUP_LINK_HOURS)
    out.setup_links.append((user.id, token))
    _audit(ACCOUNT_SETUP_LINK_SENT, user, actor_id, hours=SETUP_LINK_HOURS)
    db.session.flush()


def user_for_setup_token(token: str, *, now: dt.datetime, lock: bool = False) -> User | None:
    """The account a set-up link is for, if the link is still good. `lock`: on PostgreSQL the
    row is locked, so two requests with the same link cannot both use it."""
    if not token or len(token) > 200:
        return None
    query = select(User).where(User.setup_token_hash == accounts.token_hash(token))
    if lock and db.engine.dialect.name == "postgresql":
        # populate_existing: the row as it is once the lock is ours, not as first loaded.
        query = query.with_for_update().execution_options(populate_existing=True)
    user = db.session.scalar(query)
    if (user is None or not user.setup_pending or not user.active
            or user.setup_expires_at is None or user.setup_expires_at <= now
            or user.approval in ("awaiting_admin", "declined")):
        return None
    return user


def complete_setup(token: str, password: str, *, now: dt.datetime) -> User:
    """Sets the person's own password and uses up the link. Their authenticator app is set up
    next, at the sign-in that follows (their own secret, never one an administrator saw)."""
    user = user_for_setup_token(token, now=now, lock=True)
    if user is None:
        raise Refused("This link has expired or has already been used", field="password")
    problem = password_problem(password)
    if problem:
        raise Refused(problem, field="password")
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
        raise Refused("Administrators cannot set a password: the person sets their own "
                      "through the link they are emailed", field="email")
    # A random password nobody is told: the account cannot be signed in to until set up.
    user, _ = accounts.create_user(replace(new, password=secrets.token_urlsafe(32)),
                                   actor_id=actor_id)
    user.setup_pending = True
    if user.role in RECORD_ROLES:
        user.approval = _gate(user, actor_id)
        if user.approval == "awaiting_admin":
            _audit(ACCOUNT_PROPOSED, user, actor_id, kind="new_account")
    if user.approval != "awaiting_admin":
        issue_setup_link(user, now=now, actor_id=actor_id, out=out)
    out.notices.append((user.id, "new_account"))
    db.session.flush()
    return user


def confirm_first(user: User, *, actor_id: uuid.UUID, now: dt.datetime,
                  out: Outgoing) -> None:
    """The second administrator's confirmation of a school's first DSL (or an authority's
    first adviser)."""
    if user.approval != "awaiting_admin":
        raise Refused("This account is not waiting for an administrator to confirm it")
    if user.proposed_by_id is None or user.proposed_by_id == actor_id:
        raise Refused("A different administrator must confirm this: you proposed it")
    # If the organisation has gained a DSL (adviser) meanwhile, they decide instead.
    user.approval = "awaiting_peer" if deciders_for(user) else "approved"
    if user.approval == "approved":
        user.previous_role = None
    _audit(ACCOUNT_CONFIRMED, user, actor_id, approval=user.approval)
    if user.setup_pending:
        issue_setup_link(user, now=now, actor_id=actor_id, out=out)
    out.notices.append((user.id, "confirmed"))
    db.session.flush()


def change_role(user: User, role: str, *, actor_id: uuid.UUID, now: dt.datetime,
                out: Outgoing) -> None:
    """Staff <-> DSL within the account's school. To DSL: the same rules as a new DSL."""
    if user.school_id is None or user.role not in ("staff", "dsl"):
        raise Refused("Only a school's staff and safeguarding leads can change role here")
    if role not in ("staff", "dsl"):
        raise Refused("Select a role", field="role")
    if role == user.role:
        raise Refused("The account already has this role", field="role")
    if user.id == actor_id:
        raise Refused("You cannot change your own role")
    old = user.role
    user.role = role
    if role == "dsl":
        user.previous_role = old
        user.approval = _gate(user, actor_id)
        if user.approval == "awaiting_admin":
            _audit(ACCOUNT_PROPOSED, user, actor_id, kind="role_change")
    else:
        user.previous_role = None
        user.proposed_by_id = None
        user.approval = "approved"
    # A session signed in for the old role (staff sign in without a code) must not carry on.
    accounts.revoke_all_sessions(user.id, "role_changed", now=now)
    _audit(ACCOUNT_ROLE_CHANGED, user, actor_id, old_role=old, new_role=role,
           approval=user.approval)
    out.notices.append((user.id, "role_change"))
    db.session.flush()


# --------------------------------------------------------------------------------------------
# The school's DSLs (the authority's advisers) decide


def _check_decider(user: User, peer: User) -> None:
    if peer.id == user.id:
        raise Refused("You cannot approve your own account")
    if all(d.id != peer.id for d in deciders_for(user)) or peer.role != user.role:
        raise Refused("Only a safeguarding lead of the school can decide this")
    if user.approval != "awaiting_peer" or not user.active:
        raise Refused("This account is not waiting for approval")


def approve(user: User, *, peer: User, now: dt.datetime, out: Outgoing) -> None:
    _check_decider(user, peer)
    user.approval = "approved"
    user.previous_role = None
    user.proposed_by_id = None
    _audit(ACCOUNT_APPROVED, user, peer.id)
    out.notices.append((user.id, "approved"))
    db.session.flush()


def decline(user: User, *, peer: User, reasons: str, now: dt.datetime, out: Outgoing) -> None:
    """A new account is disabled; a role change goes back to the role held before."""
    _check_decider(user, peer)
    reasons = reasons.replace("\x00", "").strip()
    if not reasons:
        raise Refused("Enter your reasons for declining", field="reasons")
    if len(reasons) > MAX_REASONS:
        raise Refused(f"Reasons must be {MAX_REASONS} characters or fewer", field="reasons")
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
    _audit(ACCOUNT_DECLINED, user, peer.id, kind=kind)
    out.notices.append((user.id, "declined"))
    db.session.flush()


def use_text(user: User) -> str:
    """Whether the account can be used now, in a word or three for the accounts list and page:
    "Active" only for one that can sign in and read what its role reads (a first DSL waiting
    for a second administrator was shown "Active", a walk found)."""
    if not user.active:
        return "Disabled"
    if user.approval == "declined":
        return "Cannot read records"
    if user.approval != "approved" or user.setup_pending:
        return "Not in use yet"
    return "Active"


def schools_with_a_lead() -> set[uuid.UUID]:
    """The schools with a safeguarding lead, in place or on the way (active, not declined:
    approved, or waiting for a peer or a second administrator); the others are offered their
    first on the administration's schools page."""
    return set(db.session.scalars(select(User.school_id).where(
        User.role == "dsl", User.active.is_(True), User.approval != "declined",
        User.school_id.is_not(None)).distinct()))


def awaiting_second_admin(admin: User) -> list[User]:
    """The accounts waiting for a second administrator that `admin` may confirm (any but those
    they proposed), by name: said on their home page and the administration's first page."""
    return list(db.session.scalars(
        select(User).where(User.approval == "awaiting_admin", User.proposed_by_id != admin.id)
        .order_by(User.display_name)))


def second_admins_for(user: User) -> list[User]:
    """The administrators who may confirm `user`, waiting for a second one: every active
    administrator but the one who proposed it."""
    return list(db.session.scalars(
        select(User).where(User.role == "admin", User.active.is_(True),
                           User.id != user.proposed_by_id)
        .order_by(User.display_name)))


def status_text(user: User) -> str:
    """How an administrator sees the account's state (never the link)."""
    if user.approval == "awaiting_admin":
        return "Waiting for a second administrator to confirm"
    if user.approval == "awaiting_peer":
        if user.role == "la_adviser":
            return "Waiting for an adviser of the local authority to approve"
        return "Waiting for a safeguarding lead of the school to approve"
    if user.approval == "declined":
        return ("Declined by the local authority's advisers" if user.role == "la_adviser"
                else "Declined by the school's safeguarding leads")
    if user.setup_pending:
        return "Set-up link sent; not set up yet"
    return "Set up"


NOTICE_TEXT: Final = {
    "new_account": "A new account was added",
    "role_change": "An account's role was changed",
    "confirmed": "A second administrator confirmed an account",
    "approved": "An account was approved",
    "declined": "An account was declined",
}


class Named(Protocol):
    """An account as `describe` reads it: a `User`, or a plain row of its columns."""

    @property
    def display_name(self) -> str: ...

    @property
    def role(self) -> str: ...


def describe(user: Named) -> str:
    return f"{user.display_name} ({ROLE_LABELS.get(user.role, user.role)})"
