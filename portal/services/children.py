"""Adding a child to a school's records, and finding children by name without decrypting.

Names are searchable only through HMAC blind indexes (exact match of the normalised name), under
the labels below; every caller goes through here so the labels never drift apart.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Select, select

from ..models import Child, School, db, keyring

NAME_INDEX = "child-name"
FAMILY_NAME_INDEX = "child-family-name"


def add_child(
    school: School,
    *,
    given_name: str,
    family_name: str,
    dob: dt.date | None,
    send: bool = False,
    local_authority_code: str | None = None,
    created_by_id: uuid.UUID | None = None,
    on_roll: bool = True,
    family_group: uuid.UUID | None = None,
) -> Child:
    """A new child with the school's next reference number (flushes; the caller commits).

    `dob` may be None when nobody knows it yet (a child added off roll from a concern).
    """
    number = school.next_child_number
    school.next_child_number = number + 1
    child = Child(
        school_id=school.id,
        reference=f"C{number:04d}",
        local_authority_code=local_authority_code or school.local_authority.code,
        created_by_id=created_by_id,
        on_roll=on_roll,
        family_group=family_group,
    )
    set_names(child, given_name=given_name, family_name=family_name)
    child.dob = dob
    child.send = send
    db.session.add(child)
    db.session.flush()
    return child


def set_names(child: Child, *, given_name: str, family_name: str,
              preferred_name: str | None = None) -> None:
    """Set a child's names and the blind indexes that find them (the one place both change, so
    an index never describes an old name). `preferred_name` None leaves it unchanged."""
    ring = keyring()
    org = str(child.school_id)
    child.name_index = ring.blind_index(org, NAME_INDEX, f"{given_name} {family_name}")
    child.family_name_index = ring.blind_index(org, FAMILY_NAME_INDEX, family_name)
    child.given_name = given_name
    child.family_name = family_name
    if preferred_name is not None:
        child.preferred_name = preferred_name or None


def name_search(school_id: uuid.UUID, text: str, *, family_name: bool = True) -> Select[Child]:
    """Children of the school whose full name (or, with `family_name`, family name) is exactly
    `text` (normalised).

    Who may search how (docs/security.md 3.4): staff find a child only by the full name (the
    child they are worried about, whose name they know); DSLs also by the family name alone,
    which lists every child of that family in the school.
    """
    ring = keyring()
    org = str(school_id)
    match = Child.name_index == ring.blind_index(org, NAME_INDEX, text)
    if family_name:
        match = match | (Child.family_name_index == ring.blind_index(org, FAMILY_NAME_INDEX, text))
    return select(Child).where(Child.school_id == school_id, match)
