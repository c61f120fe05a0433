"""Repeat harm across schools (issue 17, part 3).

When a child recorded at one school as having harmed others is recorded again in a role that
harmed others at another school, the local authority a referral goes to is told, on the
adviser's view of the referral only: at which school, in which month, and whose door to knock
on (that school's DSL). Never the other school's record, never the name that school holds, and
the school that referred is never told anything (docs/security.md "Repeat harm across schools").

Matching is by keyed hash, never by decrypting another school's children:

* `mark_child` (`mark_children` for a batch) writes one `RepeatHarmMark` per incident the
  child harmed others in, per authority that may be told (the school's authority and the
  child's home authority, when the portal knows it), per identifier known: the UPN, and the
  folded name with the date of birth (`crypto.fold_for_match`: "Zoë" and "Zoe" are one name).
  Each hash is an HMAC under that AUTHORITY's blind-index key: equal only within one
  authority, useless without its key.
* It is called wherever the inputs change: a child's part in an incident (incidents.save_child),
  the school roll (UPN, names, date of birth), and a merge of two records.
* `involvement_for(referral)` hashes the referral's children who harmed others under the
  referral's authority's key and finds the marks of OTHER schools. A match on name and date of
  birth alone is not one when both children have a UPN and the UPNs differ (two children).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, insert, select

from ..crypto import CryptoError, fold_for_match, normalise_for_index
from ..keystore import shredded_orgs
from ..models import (
    Child,
    Incident,
    IncidentChild,
    LocalAuthority,
    Referral,
    RepeatHarmMark,
    School,
    User,
    db,
    keyring,
)
from ..rules.clock_words import month_words
from ..rules.vocabulary import HARMER_ROLES

# The blind-index purposes (each hashed apart, under the authority's index key).
UPN_PURPOSE: Final = "repeat-harm-upn"
NAME_DOB_PURPOSE: Final = "repeat-harm-name-dob"
UPN_KIND: Final = "upn"
NAME_DOB_KIND: Final = "name_dob"


@dataclass(frozen=True, slots=True)
class Involvement:
    """One earlier (or later) incident at another school in which the child harmed others."""

    child_ref: str  # the referring school's reference of its child (as the packet names them)
    school_id: uuid.UUID  # the other school (for the audit trail; never shown to the school)
    incident_id: uuid.UUID  # the other school's incident (an id only, for the audit trail)
    school_name: str
    occurred_on: dt.date
    contact: str  # that school's DSL: name, email and phone
    earlier: bool  # on or before the day of the referral's incident

    @property
    def sentence(self) -> str:
        """What the adviser reads."""
        lead = "Earlier involvement" if self.earlier else "Later involvement"
        return (f"{lead}: this child was recorded as having harmed others at {self.school_name}"
                f" in {month_words(self.occurred_on)}. Ask that school's DSL: {self.contact}.")


# ---------------------------------------------------------------------------------------------
# The hashes


def _upn_text(child: Child) -> str:
    return normalise_for_index("".join((child.upn or "").split()))


def _name_dob_text(child: Child) -> str:
    given, family = fold_for_match(child.given_name or ""), fold_for_match(child.family_name or "")
    if not (given and family and child.dob):
        return ""
    return f"{given} {family} {child.dob.isoformat()}"


def _hashes(authority_id: uuid.UUID, child: Child) -> dict[str, str]:
    """The child's hashes under the authority's index key, by kind ({} without its key)."""
    texts = {UPN_KIND: (UPN_PURPOSE, _upn_text(child)),
             NAME_DOB_KIND: (NAME_DOB_PURPOSE, _name_dob_text(child))}
    ring = keyring()
    out: dict[str, str] = {}
    try:
        for kind, (purpose, text) in texts.items():
            if text:
                out[kind] = ring.blind_indexer(str(authority_id), purpose)(text)
    except CryptoError:  # an authority without keys (or shredded) can be told nothing
        return {}
    return out


def _authorities(child: Child, school: School) -> list[uuid.UUID]:
    """The authorities that may be told: the school's, and the child's home authority."""
    found = [school.local_authority_id]
    if child.local_authority_code:
        home = db.session.scalar(select(LocalAuthority.id).where(
            LocalAuthority.code == child.local_authority_code))
        if home is not None and home not in found:
            found.append(home)
    return found


# ---------------------------------------------------------------------------------------------
# Writing the marks


def mark_child(child: Child) -> None:
    """Rewrite the child's marks from their parts in incidents and their UPN, names and date of
    birth (flushes; the caller commits). A merged record has none: its child has them."""
    mark_children([child])


def mark_children(children: Sequence[Child]) -> None:
    """`mark_child` for many children of one school at once (a batch of the school roll): two
    statements for the lot, and hashes only for the children who harmed others."""
    if not children:
        return
    db.session.flush()
    ids = [c.id for c in children]
    db.session.execute(delete(RepeatHarmMark).where(RepeatHarmMark.child_id.in_(ids)))
    parts = db.session.execute(
        select(IncidentChild.child_id, IncidentChild.incident_id, IncidentChild.role,
               Incident.occurred_on, Incident.opened_at)
        .join(Incident, Incident.id == IncidentChild.incident_id)
        .where(IncidentChild.child_id.in_(ids), IncidentChild.role.in_(HARMER_ROLES))
    ).all()
    by_child: dict[uuid.UUID, list[Any]] = {}
    for child_id, *part in parts:
        by_child.setdefault(child_id, []).append(part)
    rows: list[dict[str, Any]] = []
    for child in children:
        if child.merged_into_id is not None or child.id not in by_child:
            continue
        school = db.session.get(School, child.school_id)
        assert school is not None
        for authority_id in _authorities(child, school):
            for kind, value in _hashes(authority_id, child).items():
                rows.extend({"id": uuid.uuid4(), "local_authority_id": authority_id,
                             "match_hash": value, "kind": kind, "school_id": child.school_id,
                             "incident_id": incident_id, "child_id": child.id, "role": role,
                             "occurred_on": occurred_on or opened_at.date()}
                            for incident_id, role, occurred_on, opened_at in by_child[child.id])
    if rows:
        db.session.execute(insert(RepeatHarmMark), rows)
    db.session.flush()


def mark_batch(seen: set[uuid.UUID], *, batch: int = 200) -> int:
    """Mark up to `batch` children who harmed others in an incident and have no mark yet (a
    step of the upgrade's backfill, run by `flask init-db`, which commits after each step);
    flushes; the number of children tried, 0 when none is left. `seen`: the children tried by
    earlier steps (a child whose authorities have no keys gets no mark: tried once), updated.
    The children of a school whose keys were shredded are left (their names can no longer be
    read). Safe to run again."""
    shredded = shredded_orgs()
    query = (select(IncidentChild.child_id).distinct()
             .where(IncidentChild.role.in_(HARMER_ROLES),
                    IncidentChild.child_id.not_in(select(RepeatHarmMark.child_id))))
    if shredded:
        query = query.where(IncidentChild.school_id.not_in(shredded))
    if seen:
        query = query.where(IncidentChild.child_id.not_in(seen))
    ids = list(db.session.scalars(query.order_by(IncidentChild.child_id).limit(batch)))
    if not ids:
        return 0
    seen.update(ids)
    mark_children(list(db.session.scalars(select(Child).where(Child.id.in_(ids)))))
    return len(ids)


# ---------------------------------------------------------------------------------------------
# Telling the authority


def involvement_for(referral: Referral) -> list[Involvement]:
    """What the referral's authority's advisers are told: for each child of the referral's
    incident who harmed others, the incidents at other schools in which the same child harmed
    others, known to this authority (oldest first). For the authority's advisers only.

    The same few statements however many children and incidents are found (issue 15: each
    child's marks, and each mark's role, school, DSLs and incident, were read one by one)."""
    authority_id = referral.local_authority_id
    # The children who harmed others, with the day of their incident (said earlier or later).
    harmers = db.session.execute(
        select(Child, Incident.occurred_on, Incident.opened_at)
        .join(IncidentChild, Child.id == IncidentChild.child_id)
        .join(Incident, Incident.id == IncidentChild.incident_id)
        .where(IncidentChild.incident_id == referral.incident_id,
               IncidentChild.role.in_(HARMER_ROLES))
        .order_by(IncidentChild.position)).all()
    hashed = [(child, mine) for child, _, _ in harmers if (mine := _hashes(authority_id, child))]
    if not hashed:
        return []
    day = harmers[0].occurred_on or harmers[0].opened_at.date()
    # A school whose keys were shredded has no record left to ask about.
    shredded = {str(org) for org in shredded_orgs()}
    marks = [m for m in db.session.scalars(select(RepeatHarmMark).where(
        RepeatHarmMark.local_authority_id == authority_id,
        RepeatHarmMark.match_hash.in_(sorted({h for _, mine in hashed for h in mine.values()})),
        RepeatHarmMark.school_id != referral.school_id))
        if str(m.school_id) not in shredded]
    theirs_upn = _upns_of(authority_id, marks) if any(
        UPN_KIND in mine for _, mine in hashed) else {}
    matched = [(child, _same_child(mine, marks, theirs_upn)) for child, mine in hashed]
    harming = _still_harming([m for _, found in matched for m in found])
    contacts = _contacts(harming)
    found: list[Involvement] = []
    for child, marks_of_child in matched:
        seen: set[uuid.UUID] = set()
        for mark in sorted(marks_of_child, key=lambda m: (m.occurred_on, str(m.incident_id))):
            if mark.incident_id in seen or (mark.incident_id, mark.child_id) not in harming:
                continue
            seen.add(mark.incident_id)
            school_name, contact = contacts[mark.incident_id]
            found.append(Involvement(
                child_ref=child.reference, school_id=mark.school_id,
                incident_id=mark.incident_id, school_name=school_name,
                occurred_on=mark.occurred_on, contact=contact,
                earlier=mark.occurred_on <= day))
    return found


def _upns_of(authority_id: uuid.UUID, marks: Sequence[RepeatHarmMark]
             ) -> dict[uuid.UUID, str]:
    """The UPN hash of each child a name-and-birthday mark is of (one statement; none when no
    mark is one)."""
    children = {m.child_id for m in marks if m.kind == NAME_DOB_KIND}
    if not children:
        return {}
    return {child_id: match_hash for child_id, match_hash in db.session.execute(
        select(RepeatHarmMark.child_id, RepeatHarmMark.match_hash).where(
            RepeatHarmMark.local_authority_id == authority_id,
            RepeatHarmMark.kind == UPN_KIND,
            RepeatHarmMark.child_id.in_(sorted(children, key=str))))}


def _same_child(mine: dict[str, str], marks: Iterable[RepeatHarmMark],
                theirs_upn: dict[uuid.UUID, str]) -> list[RepeatHarmMark]:
    """The marks that are this child: a UPN match, or a name and date of birth match unless both
    children have a UPN and they differ (`theirs_upn`: the UPN hash of each marked child)."""
    mine_upn = mine.get(UPN_KIND)
    out = []
    for mark in marks:
        if mark.match_hash != mine.get(mark.kind):
            continue
        if mark.kind == NAME_DOB_KIND and mine_upn and theirs_upn.get(mark.child_id, mine_upn) \
                != mine_upn:
            continue
        out.append(mark)
    return out


def _still_harming(marks: Sequence[RepeatHarmMark]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(incident, child) of each mark whose child is still recorded in that incident as having
    harmed others (a role corrected since is not), in one statement for them all."""
    if not marks:
        return set()
    wanted = {(m.incident_id, m.child_id) for m in marks}
    rows = db.session.execute(
        select(IncidentChild.incident_id, IncidentChild.child_id).where(
            IncidentChild.incident_id.in_(sorted({i for i, _ in wanted}, key=str)),
            IncidentChild.child_id.in_(sorted({c for _, c in wanted}, key=str)),
            IncidentChild.role.in_(HARMER_ROLES)))
    return {(incident_id, child_id) for incident_id, child_id in rows} & wanted


def _contacts(harming: set[tuple[uuid.UUID, uuid.UUID]]) -> dict[uuid.UUID, tuple[str, str]]:
    """For each incident of `harming`: its school's name and whom to ask there
    (`_contact_words`), in two statements for them all."""
    if not harming:
        return {}
    rows = db.session.execute(
        select(Incident.id, Incident.opened_by_id, School)
        .join(School, School.id == Incident.school_id)
        .where(Incident.id.in_(sorted({i for i, _ in harming}, key=str)))).all()
    dsls = _dsls_of({school.id for _, _, school in rows})
    return {incident_id: (school.name, _contact_words(school, dsls.get(school.id, []),
                                                      opened_by))
            for incident_id, opened_by, school in rows}


def _dsls_of(school_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[User]]:
    """Each school's DSLs who may be asked (active, approved), deputies last, then the oldest
    account first."""
    found: dict[uuid.UUID, list[User]] = {}
    for user in db.session.scalars(select(User).where(
            User.school_id.in_(sorted(school_ids, key=str)), User.role == "dsl",
            User.active.is_(True), User.approval == "approved")
            .order_by(User.deputy_dsl, User.created_at)):
        if user.school_id is not None:
            found.setdefault(user.school_id, []).append(user)
    return found


def _contact_words(school: School, dsls: Sequence[User], opened_by: uuid.UUID | None) -> str:
    """Who to ask at a school: the DSL who opened the incident if they still are one, else the
    school's DSL (`dsls` in that order: a deputy only when there is no other): name, email
    and direct phone."""
    opener = next((u for u in dsls if u.id == opened_by), None) if opened_by else None
    dsl = opener or (dsls[0] if dsls else None)
    if dsl is None:
        return f"the school has no DSL on the portal; contact {school.name} directly"
    return ", ".join(part for part in (dsl.display_name, dsl.email, dsl.direct_phone) if part)
