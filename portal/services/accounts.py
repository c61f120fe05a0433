"""Accounts: sign-in checks, second factor, server-side sessions, passwords, organisations.

Each operation takes plain inputs (and the time, so tests can move it), writes models, writes its
audit entry and flushes. The request commits once. Nothing here reads Flask's request; secrets
(passwords, TOTP secrets, session tokens) never reach a log line or an audit detail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import pyotp
from sqlalchemy import func, select, update

from .. import registry
from ..crypto import KeyNotFound, KeyShredded
from ..models import (
    DEPLOYMENT_ORG,
    ROLES,
    AuthSession,
    LocalAuthority,
    School,
    User,
    db,
    keyring,
)
from ..passwords import Passwords, password_problem
from ..refusal import Refused
from ..rules.clock_words import time_of_day
from ..rules.directory import WEEKDAYS, Directory, DirectoryError
from .school_hours import DAY_NAMES

TOTP_ISSUER = "Safeguarding portal"
TOTP_INTERVAL = 30


# --------------------------------------------------------------------------------------------
# Helpers


def passwords() -> Passwords:
    """The app's password hasher (`portal.registry`)."""
    return registry.passwords()


def settings() -> Any:
    """The app's settings (`portal.registry`)."""
    return registry.settings()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def _dummy_hash() -> str:
    """A hash made with the current cost settings, verified for unknown emails (even timing).

    Made when the app starts (`extensions.init_app`), so no request pays for making it."""
    return registry.dummy_hash()


def _verify_dummy(password: str) -> None:
    """The same Argon2 work as a real check, for a refusal that must not be faster."""
    passwords().verify(_dummy_hash(), password)


def _audit(action: str, *, org_id: str, actor_id: Any = None, object_type: str | None = None,
           object_id: Any = None, detail: dict[str, Any] | None = None) -> None:
    from portal import audit  # written by another part of the project; imported late

    audit.record(
        action,
        org_id=org_id,
        actor_id=actor_id,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        detail=detail,
    )


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


# --------------------------------------------------------------------------------------------
# Throttling and back-off
#
# The rules are here; the slots are taken, each committed at once, by the throttle of the auth
# package (`portal/auth/throttle.py`, reached through `portal.registry.throttle()`), which says
# how they work. A service never commits.


class Throttle(Protocol):
    """Takes attempt slots and used code steps, each in its own committed transaction."""

    def reserve_attempt(self, user_id: uuid.UUID, now: dt.datetime, *,
                        tries: int = 5) -> Slot | None: ...

    def unknown_address_attempt(self, email: str, now: dt.datetime) -> dt.timedelta | None: ...

    def claim_step(self, user_id: uuid.UUID, step: int) -> bool: ...


def is_locked(user: User, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def backoff_seconds(failures: int) -> int:
    """How long the account waits after its `failures`-th consecutive failure (0: no wait)."""
    s = settings()
    over = failures - s.login_max_failures
    if over < 0:
        return 0
    return int(min(s.login_lockout_seconds * (2 ** min(over, 30)), s.login_lockout_max_seconds))


@dataclass(frozen=True)
class Slot:
    """An attempt slot taken by `reserve_attempt`: the count it made, and what was there."""

    failures: int
    previous_locked_until: dt.datetime | None


def reserve_attempt(user_id: uuid.UUID, now: dt.datetime, *, tries: int = 5) -> Slot | None:
    """Takes one attempt slot for the account, committed (by the throttle), or None if it is
    backing off."""
    return registry.throttle().reserve_attempt(user_id, now, tries=tries)


def locked_for(locked_until: dt.datetime | None, now: dt.datetime) -> dt.timedelta | None:
    """How much longer a back-off lasts (None: not backing off)."""
    if locked_until is None or locked_until <= now:
        return None
    return locked_until - now


# How long a row for an address with no account is kept once nothing has happened to it: its
# count matters only while it backs off or could still add up to a back-off.
UNKNOWN_ADDRESS_KEEP = dt.timedelta(days=2)
ADDRESS_INDEX = "sign-in-address"


def address_index(email: str) -> str:
    """The blind index an address with no account is counted under."""
    ring = keyring()
    try:
        return ring.blind_index(DEPLOYMENT_ORG, ADDRESS_INDEX, normalise_email(email) or "-")
    except KeyShredded:
        raise
    except KeyNotFound:  # a fresh deployment whose first sign-in is this one
        ring.ensure_org(DEPLOYMENT_ORG)
        return ring.blind_index(DEPLOYMENT_ORG, ADDRESS_INDEX, normalise_email(email) or "-")


def give_back(user_id: uuid.UUID, slot: Slot) -> None:
    """A right password before a code: the slot it took is not a failure (if no one moved on)."""
    db.session.execute(
        update(User)
        .where(User.id == user_id, User.failed_logins == slot.failures)
        .values(failed_logins=slot.failures - 1, locked_until=slot.previous_locked_until)
        .execution_options(synchronize_session=False)
    )


def _audit_failure(user: User, slot: Slot | None, *, step: str, reason: str) -> None:
    action = "auth.totp_failed" if step.startswith("totp") else "auth.sign_in_failed"
    detail: dict[str, Any] = {"step": step, "reason": reason}
    if slot is not None:
        detail["failures"] = slot.failures
    _audit(action, org_id=user.org_id, object_type="user", object_id=user.id, detail=detail)
    if slot is not None and backoff_seconds(slot.failures):
        _audit("auth.locked", org_id=user.org_id, object_type="user", object_id=user.id,
               detail={"seconds": backoff_seconds(slot.failures)})
    db.session.flush()


def clear_failures(user: User) -> None:
    user.failed_logins = 0
    user.failed_window_start = None
    user.locked_until = None


# --------------------------------------------------------------------------------------------
# The password step

Outcome = Literal["ok", "refused"]


@dataclass(frozen=True)
class PasswordCheck:
    outcome: Outcome
    user: User | None = None
    # Refused because the address backs off after too many failures (with or without an
    # account behind it): for how much longer. Says nothing about whether the password was right.
    locked_for: dt.timedelta | None = None


def check_password(email: str, password: str, *, now: dt.datetime,
                   trusted: frozenset[str] = frozenset()) -> PasswordCheck:
    """The password step. Unknown email, wrong password and a locked account look the same,
    and cost the same: exactly one Argon2 verification on every path.

    `trusted`: ids of accounts this browser has signed in to before (a device cookie, limited
    per device by the caller): for those the account's back-off does not apply."""
    hasher = passwords()
    user = find_user_by_email(email)
    if user is None:
        # Counted like an account's failures (same count, same back-off), so "Too many
        # attempts" does not tell whether the address has an account.
        wait = registry.throttle().unknown_address_attempt(email, now)
        _verify_dummy(password)
        _audit("auth.sign_in_failed", org_id=DEPLOYMENT_ORG,
               detail={"step": "password", "reason": "unknown_account"})
        return PasswordCheck("refused", locked_for=wait)
    user_id = user.id
    device = str(user_id) in trusted
    # Commits: other requests see the slot at once. A trusted device takes none.
    slot = Slot(0, None) if device else reserve_attempt(user_id, now)
    user = db.session.get(User, user_id)
    assert user is not None
    if slot is None:
        # Backing off: the password is not checked, but the same work is done.
        _verify_dummy(password)
        _audit_failure(user, None, step="password", reason="locked")
        return PasswordCheck("refused", user, locked_for=locked_for(user.locked_until, now))
    if not hasher.verify(user.password_hash, password):
        _audit_failure(user, None if device else slot, step="password",
                       reason="wrong_password_device" if device else "wrong_password")
        # This failure may have started a back-off (never for a trusted device's).
        wait = None if device else locked_for(user.locked_until, now)
        return PasswordCheck("refused", user, locked_for=wait)
    if not user.active:
        _audit("auth.sign_in_failed", org_id=user.org_id, object_type="user",
               object_id=user.id, detail={"step": "password", "reason": "inactive"})
        db.session.flush()
        return PasswordCheck("refused", user)
    if hasher.needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    if user.needs_two_factor:
        if not device:
            give_back(user_id, slot)
            db.session.refresh(user)
    else:
        clear_failures(user)
    db.session.flush()
    return PasswordCheck("ok", user)


def mark_signed_in(user: User, now: dt.datetime) -> None:
    clear_failures(user)
    user.last_login_at = now
    _audit("auth.sign_in", org_id=user.org_id, actor_id=user.id, object_type="user",
           object_id=user.id)
    db.session.flush()


# --------------------------------------------------------------------------------------------
# TOTP


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, interval=TOTP_INTERVAL)


def _matching_step(secret: str, code: str, now: dt.datetime, last_step: int) -> int | None:
    """The step (now, one before or one after) whose code is `code`, if after `last_step`."""
    code = re.sub(r"\s+", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = _totp(secret)
    current = int(now.timestamp()) // TOTP_INTERVAL
    found: int | None = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and step > last_step:
            found = step
    return found


def verify_totp(user: User, code: str, *, now: dt.datetime, trusted: bool = False) -> bool:
    """Checks a second-factor code. Each check takes an attempt slot first (failures count
    towards the back-off), and a code is accepted only by moving `totp_last_step` forward with
    a conditional UPDATE, so one code is accepted once however many sessions send it at once."""
    user_id = user.id
    if user.totp_secret is None or not user.totp_enrolled:
        return False
    # A trusted device (see check_password) takes no slot; its caller limits it per device.
    slot = Slot(0, None) if trusted else reserve_attempt(user_id, now)
    db.session.refresh(user)
    secret = user.totp_secret
    if slot is None:
        _audit_failure(user, None, step="totp", reason="locked")
        return False
    if secret is None or not user.totp_enrolled:
        return False
    step = _matching_step(secret, code, now, user.totp_last_step or 0)
    if step is None or not _claim_step(user_id, step):
        _audit_failure(user, None if trusted else slot, step="totp",
                       reason="wrong_code_device" if trusted else "wrong_code")
        return False
    db.session.refresh(user)
    return True


def _claim_step(user_id: uuid.UUID, step: int) -> bool:
    """Moves the last used step forward to `step` (committed by the throttle: a second request
    for the same step then finds it used); False if it is already there or beyond."""
    return registry.throttle().claim_step(user_id, step)


def enrolment_secret(user: User) -> str:
    """The secret being enrolled: made (and stored encrypted) on the first call."""
    if user.totp_enrolled:
        raise Refused("This account already has an authenticator app")
    secret = user.totp_secret
    if secret is None:
        keyring().ensure_org(user.org_id)
        secret = pyotp.random_base32()
        user.totp_secret = secret
        db.session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    return _totp(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def confirm_enrolment(user: User, code: str, *, now: dt.datetime) -> bool:
    user_id = user.id
    if user.totp_secret is None or user.totp_enrolled:
        return False
    slot = reserve_attempt(user_id, now)
    db.session.refresh(user)
    if slot is None:
        _audit_failure(user, None, step="totp_enrolment", reason="locked")
        return False
    secret = user.totp_secret
    if secret is None or user.totp_enrolled:
        return False
    step = _matching_step(secret, code, now, user.totp_last_step or 0)
    if step is None or not _claim_step(user_id, step):
        _audit_failure(user, slot, step="totp_enrolment", reason="wrong_code")
        return False
    db.session.refresh(user)
    user.totp_enrolled = True
    _audit("auth.totp_enrolled", org_id=user.org_id, actor_id=user.id, object_type="user",
           object_id=user.id)
    db.session.flush()
    return True


# --------------------------------------------------------------------------------------------
# Server-side sessions


def issue_session(user: User, *, two_factor_done: bool, now: dt.datetime) -> str:
    """A new session row; returns the token for the cookie (only its SHA-256 is stored)."""
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(
        token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
        two_factor_done=two_factor_done,
    ))
    db.session.flush()
    return token


def revoke_session(row: AuthSession, reason: str, *, now: dt.datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
        row.revoked_reason = reason
        db.session.flush()


def revoke_all_sessions(user_id: uuid.UUID, reason: str, *, now: dt.datetime) -> int:
    result = db.session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def session_state(
    row: AuthSession | None, *, now: dt.datetime
) -> Literal["ok", "missing", "revoked", "idle", "expired", "inactive"]:
    """Whether a session row may still be used (ignoring the second factor)."""
    if row is None:
        return "missing"
    s = settings()
    if row.revoked_at is not None:
        return "revoked"
    if now - row.last_seen_at > dt.timedelta(minutes=s.session_idle_minutes):
        return "idle"
    if now - row.created_at > dt.timedelta(hours=s.session_absolute_hours):
        return "expired"
    if row.user is None or not row.user.active:
        return "inactive"
    return "ok"


def sign_out(row: AuthSession, *, now: dt.datetime) -> None:
    revoke_session(row, "signed_out", now=now)
    _audit("auth.sign_out", org_id=row.user.org_id, actor_id=row.user_id, object_type="user",
           object_id=row.user_id)


# --------------------------------------------------------------------------------------------
# Passwords


def change_password(user: User, current: str, new: str, *, now: dt.datetime) -> None:
    """Checks the current password, sets the new one and revokes every session of the user."""
    hasher = passwords()
    user_id = user.id
    slot = reserve_attempt(user_id, now)
    db.session.refresh(user)
    if slot is None:
        _verify_dummy(current)
        _audit_failure(user, None, step="password_change", reason="locked")
        raise Refused("Your current password is incorrect", field="current_password")
    if not hasher.verify(user.password_hash, current):
        _audit_failure(user, slot, step="password_change", reason="wrong_password")
        raise Refused("Your current password is incorrect", field="current_password")
    clear_failures(user)
    problem = password_problem(new)
    if problem:
        raise Refused(problem, field="new_password")
    if hasher.verify(user.password_hash, new):
        raise Refused("Enter a new password that is different from your current one",
                      field="new_password")
    user.password_hash = hasher.hash(new)
    user.password_changed_at = now
    revoke_all_sessions(user.id, "password_changed", now=now)
    _audit("auth.password_changed", org_id=user.org_id, actor_id=user.id, object_type="user",
           object_id=user.id)
    db.session.flush()


# --------------------------------------------------------------------------------------------
# Organisations


CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,38}[a-z0-9]")
URN_RE = re.compile(r"\d{6}")
HHMM_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")
WEEKDAY_NAMES = dict(zip(WEEKDAYS, DAY_NAMES, strict=True))  # "mon" -> "Monday"


def parse_hours(text: str, day: str = "") -> list[list[str]]:
    """'08:00-12:30, 13:30-17:00' -> [["08:00", "12:30"], ["13:30", "17:00"]]; '' -> [].

    Spans may touch (one closing at 12:30, the next opening at 12:30) but never overlap or
    repeat: the refusal names the two spans in words. Every refusal names `day` ("On Monday,
    ..."), when given: a page has seven days of hours."""
    spans: list[list[str]] = []
    on = f"On {day}, " if day else ""
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        pieces = [x.strip() for x in re.split(r"\s*(?:-|\u2013|to)\s*", part)]
        if len(pieces) != 2 or not all(HHMM_RE.fullmatch(x) for x in pieces):
            raise Refused(_sentence(on, "enter opening hours as HH:MM-HH:MM, "
                                        "for example 08:00-18:00"))
        if pieces[0] >= pieces[1]:
            raise Refused(_sentence(on, "the opening time must be before the closing time"))
        spans.append(pieces)
    for index, span in enumerate(spans):
        for other in spans[:index]:
            if span == other:
                raise Refused(f"{on}{_span_words(span)} is entered twice: enter it once")
            if span[0] < other[1] and other[0] < span[1]:
                raise Refused(f"{on}{_span_words(other)} and {_span_words(span)} overlap: "
                              "enter times that do not overlap, like 08:30-12:30, 13:30-17:00")
    return spans


def _sentence(on: str, rest: str) -> str:
    """"On Monday, " + "enter ..." -> "On Monday, enter ..."; no day -> "Enter ..."."""
    return f"{on}{rest}" if on else rest[:1].upper() + rest[1:]


def _span_words(span: list[str]) -> str:
    """["08:00", "12:30"] -> "8:00am to 12:30pm" (24:00 is midnight)."""
    def clock(hhmm: str) -> str:
        if hhmm == "24:00":
            return "midnight"
        return time_of_day(dt.time(int(hhmm[:2]), int(hhmm[3:])))

    return f"{clock(span[0])} to {clock(span[1])}"


def hours_text(entry: dict[str, Any], day: str) -> str:
    weekly = (entry.get("hours") or {}).get("weekly") or {}
    raw = weekly.get(day)
    if not raw:
        return ""
    pairs = [raw] if isinstance(raw[0], str) else raw
    return ", ".join(f"{s}-{e}" for s, e in pairs)


def _validate_entry(entry: dict[str, Any]) -> None:
    try:
        Directory.from_dict({"authorities": [entry]})
    except DirectoryError as exc:
        raise Refused("The directory entry is not valid") from exc


def create_authority(
    *, code: str, name: str, directory_entry: dict[str, Any] | None, actor_id: uuid.UUID | None
) -> LocalAuthority:
    code = code.strip().lower()
    if not CODE_RE.fullmatch(code):
        raise Refused(
            "Code must be 3 to 40 lowercase letters, numbers or hyphens", field="code")
    if db.session.scalar(select(LocalAuthority).where(LocalAuthority.code == code)):
        raise Refused("A local authority with this code already exists", field="code")
    name = name.strip()
    if directory_entry is None:
        entry: dict[str, Any] = {
            "code": code, "name": name, "line": "",
            "phone": {"number": None, "confirmed": False, "source": "Not entered yet"},
            "hours": {"confirmed": False, "weekly": {}, "source": "Not entered yet"},
            "out_of_hours": {}, "timescales": {},
        }
    else:
        entry = dict(directory_entry)
        name = name or str(entry.get("name", ""))
    if not name:
        raise Refused("Enter the local authority's name", field="name")
    entry["code"], entry["name"] = code, name
    _validate_entry(entry)
    la = LocalAuthority(code=code, name=name, directory=entry)
    _add_org(la, "local_authority", {"code": code}, actor_id)
    return la


def _add_org(org: LocalAuthority | School, kind: str, detail: dict[str, Any],
             actor_id: uuid.UUID | None) -> None:
    """A new organisation: stored, given its keys, audited."""
    db.session.add(org)
    db.session.flush()
    keyring().ensure_org(str(org.id))
    _audit("admin.org_created", org_id=str(org.id), actor_id=actor_id, object_type=kind,
           object_id=org.id, detail=detail)


def confirmed_after_edit(*, ticked: bool, before: Any, after: Any, was_confirmed: bool) -> bool:
    """Whether a directory value (a phone number, the weekly hours) counts as confirmed by the
    authority after an edit. The box loads ticked when the old value was confirmed, so a tick
    sent with a changed value may only be left over: the new value needs confirming. A tick
    added to a value that was not confirmed is the administrator's own; nothing is confirmed
    that is empty."""
    if not after:
        return False
    if after != before and was_confirmed:
        return False
    return ticked


def _phone_digits(number: Any) -> str:
    """A phone number as compared: "01632 960 123" and "01632-960123" are the same number."""
    return re.sub(r"[^0-9+]", "", str(number or ""))


def update_authority_line(
    la: LocalAuthority, *, line: str, phone: str, phone_confirmed: bool,
    hours: dict[str, str], hours_confirmed: bool, actor_id: uuid.UUID | None,
) -> list[str]:
    """Edits the line name, phone and weekly hours of an authority's directory entry. Returns
    what changed and now needs the authority to confirm it ("phone number", "opening hours")."""
    entry = dict(la.directory or {})
    entry["line"] = line.strip()
    old_phone = entry.get("phone") or {}
    number = phone.strip() or None
    phone_ok = confirmed_after_edit(
        ticked=phone_confirmed, before=_phone_digits(old_phone.get("number")),
        after=_phone_digits(number), was_confirmed=bool(old_phone.get("confirmed")))
    entry["phone"] = {
        **old_phone,
        "number": number,
        "confirmed": phone_ok,
        "source": "Entered by an administrator",
    }
    weekly: dict[str, Any] = {}
    for day in WEEKDAYS:
        try:
            spans = parse_hours(hours.get(day, ""), WEEKDAY_NAMES[day])
        except Refused as exc:
            raise Refused(exc.message, field=f"hours_{day}") from exc
        if spans:
            weekly[day] = spans[0] if len(spans) == 1 else spans
    old_hours = entry.get("hours") or {}
    hours_ok = confirmed_after_edit(
        ticked=hours_confirmed, before=old_hours.get("weekly") or {}, after=weekly,
        was_confirmed=bool(old_hours.get("confirmed")))
    entry["hours"] = {
        **old_hours,
        "weekly": weekly,
        "confirmed": hours_ok,
        "source": "Entered by an administrator",
    }
    _validate_entry(entry)
    la.directory = entry  # a new dict, so the JSON column sees the change
    _audit("admin.directory_updated", org_id=str(la.id), actor_id=actor_id,
           object_type="local_authority", object_id=la.id)
    db.session.flush()
    unconfirmed: list[str] = []
    if number and not phone_ok and _phone_digits(number) != _phone_digits(
            old_phone.get("number")):
        unconfirmed.append("phone number")
    if weekly and not hours_ok and weekly != (old_hours.get("weekly") or {}):
        unconfirmed.append("opening hours")
    return unconfirmed


def create_school(*, name: str, urn: str, authority_id: uuid.UUID,
                  actor_id: uuid.UUID | None) -> School:
    name, urn, la = _school_checks(name, urn, authority_id, None)
    school = School(name=name, urn=urn, local_authority_id=la.id)
    _add_org(school, "school", {"urn": urn}, actor_id)
    return school


def update_school(school: School, *, name: str, urn: str, authority_id: uuid.UUID,
                  actor_id: uuid.UUID | None) -> list[str]:
    """An administrator corrects a school's name, URN or local authority (a school renamed, a
    typing slip when it was added). The same checks as adding one; audited with what changed
    (the fields, not the values). Returns what changed."""
    name, urn, la = _school_checks(name, urn, authority_id, school.id)
    changed = [what for what, before, after in (
        ("name", school.name, name), ("URN", school.urn, urn),
        ("local authority", school.local_authority_id, la.id)) if before != after]
    school.name, school.urn, school.local_authority_id = name, urn, la.id
    if changed:
        _audit("admin.org_updated", org_id=str(school.id), actor_id=actor_id,
               object_type="school", object_id=school.id,
               detail={"changed": [c.replace(" ", "_") for c in changed]})
    return changed


def _school_checks(name: str, urn: str, authority_id: uuid.UUID, school_id: uuid.UUID | None
                   ) -> tuple[str, str, LocalAuthority]:
    """A school's name (not only spaces: a walk saved one), URN (6 digits, no other school's)
    and local authority, or refused."""
    name = " ".join((name or "").split())
    if not name:
        raise Refused("Enter the school's name", field="name")
    urn = urn.strip()
    if not URN_RE.fullmatch(urn):
        raise Refused("URN must be 6 digits", field="urn")
    other = db.session.scalar(select(School).where(School.urn == urn))
    if other is not None and other.id != school_id:
        raise Refused(f"{other.name} already has this URN", field="urn")
    la = db.session.get(LocalAuthority, authority_id)
    if la is None:
        raise Refused("Select the school's local authority", field="authority")
    return name, urn, la


# --------------------------------------------------------------------------------------------
# Users


@dataclass(frozen=True)
class NewUser:
    email: str
    display_name: str
    role: str
    school_id: uuid.UUID | None = None
    local_authority_id: uuid.UUID | None = None
    password: str | None = None  # None: one is generated and returned once


def generate_password() -> str:
    """A random password of 4 groups of 5 (easy to read out, ~100 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def create_user(new: NewUser, *, actor_id: uuid.UUID | None) -> tuple[User, str | None]:
    """Creates an account; returns it and the generated password (None if one was given).

    For `flask create-user` and the tests. The admin pages use `onboarding.create_account`,
    which never takes a password from an administrator and emails a set-up link instead.
    """
    email = normalise_email(new.email)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise Refused("Enter an email address in the correct format, like name@example.com",
                      field="email")
    if find_user_by_email(email):
        raise Refused("An account with this email address already exists", field="email")
    if new.role not in ROLES:
        raise Refused("Select a role", field="role")
    if not new.display_name.strip():
        raise Refused("Enter the person's name", field="display_name")
    school_id = local_authority_id = None
    if new.role in ("staff", "dsl"):
        if new.school_id is None or db.session.get(School, new.school_id) is None:
            raise Refused("Select the school", field="school")
        school_id = new.school_id
    elif new.role == "la_adviser":
        if new.local_authority_id is None or \
                db.session.get(LocalAuthority, new.local_authority_id) is None:
            raise Refused("Select the local authority", field="authority")
        local_authority_id = new.local_authority_id
    generated = None
    password = new.password
    if not password:
        password = generated = generate_password()
    else:
        problem = password_problem(password)
        if problem:
            raise Refused(problem, field="password")
    user = User(
        email=email, display_name=new.display_name.strip(), role=new.role,
        school_id=school_id, local_authority_id=local_authority_id,
        password_hash=passwords().hash(password), active=True,
        totp_enrolled=False, totp_last_step=0, failed_logins=0,
    )
    db.session.add(user)
    db.session.flush()
    keyring().ensure_org(user.org_id)
    _audit("admin.user_created", org_id=user.org_id, actor_id=actor_id, object_type="user",
           object_id=user.id, detail={"role": user.role})
    return user, generated


def set_active(user: User, active: bool, *, actor_id: uuid.UUID | None, now: dt.datetime) -> None:
    if actor_id is not None and user.id == actor_id and not active:
        raise Refused("You cannot disable your own account")
    user.active = active
    if not active:
        revoke_all_sessions(user.id, "account_disabled", now=now)
    _audit("admin.user_disabled" if not active else "admin.user_enabled", org_id=user.org_id,
           actor_id=actor_id, object_type="user", object_id=user.id)
    db.session.flush()


def reset_totp(user: User, *, actor_id: uuid.UUID | None, now: dt.datetime) -> None:
    """Forgets the authenticator: the next sign-in enrols a new one. Ends the user's sessions."""
    user.totp_secret = None
    user.totp_enrolled = False
    user.totp_last_step = 0
    revoke_all_sessions(user.id, "totp_reset", now=now)
    _audit("admin.totp_reset", org_id=user.org_id, actor_id=actor_id, object_type="user",
           object_id=user.id)
    db.session.flush()
