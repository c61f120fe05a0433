"""Builders for test data. Invented names only. Call inside an app context."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
from flask import current_app

from portal.models import Child, LocalAuthority, School, User, db, keyring
from portal.rules.directory import load_directory_data
from portal.services.children import add_child

PASSWORD = "correct horse battery staple"


def authority(code: str = "derbyshire") -> LocalAuthority:
    """The authority with `code`, created from the packaged directory if missing."""
    existing = db.session.scalar(db.select(LocalAuthority).where(LocalAuthority.code == code))
    if existing:
        return existing
    entry = next(a for a in load_directory_data()["authorities"] if a["code"] == code)
    la = LocalAuthority(code=code, name=entry["name"], directory=entry)
    db.session.add(la)
    db.session.flush()
    keyring().ensure_org(str(la.id))
    return la


def school(
    name: str = "Oakfield Academy", la_code: str = "derbyshire", urn: str | None = None
) -> School:
    la = authority(la_code)
    s = School(
        name=name,
        urn=urn or str(100000 + len(db.session.scalars(db.select(School)).all())),
        local_authority_id=la.id,
    )
    db.session.add(s)
    db.session.flush()
    keyring().ensure_org(str(s.id))
    return s


def user(
    role: str = "staff",
    *,
    email: str | None = None,
    org: School | LocalAuthority | None = None,
    password: str = PASSWORD,
    enrolled: bool = True,
    **extra: Any,
) -> User:
    """A user; dsl/la_adviser/admin get an enrolled TOTP secret (see `totp_now`)."""
    passwords = current_app.extensions["passwords"]
    u = User(
        email=email or f"{role}-{db.session.query(User).count()}@example.test",
        # A name, as people have: never the role's code ("Test la_adviser" is read as a raw code).
        display_name=extra.pop("display_name", f"Test {role.replace('_', ' ')}"),
        role=role,
        password_hash=passwords.hash(password),
        **extra,
    )
    if isinstance(org, School):
        u.school_id = org.id
    elif isinstance(org, LocalAuthority):
        u.local_authority_id = org.id
    db.session.add(u)
    db.session.flush()
    if role in ("dsl", "la_adviser", "admin"):
        keyring().ensure_org(u.org_id)
        u.totp_secret = pyotp.random_base32()
        u.totp_enrolled = enrolled
    db.session.flush()
    return u


def totp_now(u: User, at: dt.datetime | None = None) -> str:
    secret = u.totp_secret
    assert secret
    return pyotp.TOTP(secret).at(at or dt.datetime.now(dt.UTC))


def child(
    s: School,
    given: str = "Amira",
    family: str = "Testcase",
    dob: dt.date = dt.date(2012, 5, 1),
    la_code: str = "derbyshire",
    **extra: Any,
) -> Child:
    return add_child(
        s, given_name=given, family_name=family, dob=dob, local_authority_code=la_code, **extra
    )
