"""R9 parents and carers: for each child of an incident, whether their parents or carers were
told, when and by whom, or why they were not.

Records are append-only (R5). A later record for the same child on the same incident supersedes
the earlier one for display; the earlier one is kept and shown as history. A new row, not an
addendum: an addendum corrects the text of a record that was wrong, while a new contact record
is usually a new fact (the police advised against telling the parents on Monday; on Thursday
they agreed and the parents were told), and it changes the structured fields (told or not, the
time, the reason) that closing and display read, which an addendum's free text cannot.

Each record goes into that child's chronology (other children are never named there) and is
audited with codes only. Nothing here reads Flask's request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select

from .. import audit, wording
from ..clock import from_uk_local, later_than_now
from ..models import Incident, ParentContact, User, db
from ..refusal import Problem, Refused
from . import chronology
from .facts import incident_children
from .recording import PARENT_REASONS, IncidentClosed, check_not_dismissive

__all__ = [
    "PARENTS_RECORDED",
    "ParentsInput",
    "contacts_for",
    "describe",
    "record_parents",
]

PARENTS_RECORDED: Final = audit.PARENTS_RECORDED
TEXT_LIMIT: Final = 500  # "by whom": a name and role


@dataclass(frozen=True, slots=True)
class ParentsInput:
    child_id: uuid.UUID
    told: bool | None  # None: the DSL did not say
    told_at_local: dt.datetime | None = None  # naive Europe/London
    by_whom: str | None = None
    reason: str | None = None
    detail: str | None = None
    # Who was told, chosen from the roll's parents and carers ("Name (Relationship)", joined).
    told_whom: str | None = None


def describe(contact: ParentContact) -> str:
    """The record in plain words, as the incident page and the child's chronology show it."""
    if contact.told:
        when = wording.when(contact.told_at) if contact.told_at is not None else "a time not given"
        text = f"Parents or carers: told on {when} by {contact.by_whom or 'someone not named'}"
        if contact.told_whom:
            text += f". Told: {contact.told_whom}"
        return text + (f" ({contact.detail})" if contact.detail else "")
    if contact.reason == "other":
        return f"Parents or carers: not told. Why: {contact.detail or PARENT_REASONS['other']}"
    why = PARENT_REASONS.get(contact.reason or "", "no reason was given")
    text = f"Parents or carers: not told, because {why}"
    return text + (f" ({contact.detail})" if contact.detail else "")


def check_parents(data: ParentsInput, now: dt.datetime, *, when: bool = True,
                  ) -> tuple[dt.datetime | None, str | None, str | None, str | None]:
    """(told_at UTC, by whom, reason, detail), or Refused with every problem. Writes nothing.
    `when` False: when they were told is not checked (the form found it wrong and says so)."""
    detail = (data.detail or "").strip() or None
    if data.told is None:
        raise Refused(Problem(
            "R9", "told", "Select whether their parents or carers were told"))
    problems = []
    if data.told:
        by_whom = (data.by_whom or "").strip() or None
        told_at = from_uk_local(data.told_at_local) if data.told_at_local is not None else None
        if told_at is None and when:
            problems.append(Problem("R9", "told_date",
                                    "Enter the date and time they were told"))
        elif data.told_at_local is not None and (
                later := later_than_now(data.told_at_local, now, "they were told",
                                        ("told_date", "told_time"))):
            problems.append(Problem("R9", *later))
        if by_whom is None:
            problems.append(Problem("R9", "by_whom", "Enter who told them"))
        elif len(by_whom) > TEXT_LIMIT:
            problems.append(Problem("R9", "by_whom",
                                    f"Who told them must be {TEXT_LIMIT} characters or fewer"))
        if problems:
            raise Refused(*problems)
        return told_at, by_whom, None, detail
    if data.reason not in PARENT_REASONS:
        raise Refused(Problem("R9", "reason", "Select why they were not told"))
    if data.reason == "other" and detail is None:
        raise Refused(Problem("R9", "detail", "Enter why they were not told"))
    # why they were not told is a reason (R2): never dismissive (R3)
    return None, None, data.reason, check_not_dismissive(detail, field="detail")


def record_parents(user: User, incident: Incident, data: ParentsInput,
                   now: dt.datetime) -> ParentContact:
    """Append one record for one child of the incident (any role, witnesses included)."""
    if incident.state == "closed":
        raise IncidentClosed()
    row = next((ic for ic in incident_children(incident) if ic.child_id == data.child_id), None)
    if row is None:
        raise Refused(Problem("R9", None, "Select a child on this incident"))
    told_at, by_whom, reason, detail = check_parents(data, now)
    number = (db.session.scalar(select(func.max(ParentContact.number)).where(
        ParentContact.incident_id == incident.id, ParentContact.child_id == row.child_id)) or 0) + 1
    contact = ParentContact(school_id=incident.school_id, incident_id=incident.id,
                            child_id=row.child_id, number=number, told=bool(data.told),
                            told_at=told_at, reason=reason, recorded_by_id=user.id,
                            recorded_at=now)
    contact.by_whom = by_whom
    contact.detail = detail
    contact.told_whom = ((data.told_whom or "").strip()[:TEXT_LIMIT * 2] or None
                         if contact.told else None)
    db.session.add(contact)
    db.session.flush()
    audit.record(PARENTS_RECORDED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="parent_contact", object_id=contact.id, at=now,
                 detail={"incident_id": str(incident.id), "child_id": str(row.child_id),
                         "told": contact.told, "reason": reason})
    # R6: only this child's file; the text names no other child.
    chronology.add_entry(row.child, "parents_or_carers",
                         f"Incident {incident.reference}. {wording.sentence(describe(contact))}",
                         author_id=user.id, incident=incident, source=contact,
                         occurred_at=now)
    return contact


def contacts_for(incidents: Iterable[Incident]) -> dict[tuple[uuid.UUID, uuid.UUID],
                                                        list[ParentContact]]:
    """Every record per (incident id, child id), oldest first: the last one is current."""
    ids = [i.id for i in incidents]
    out: dict[tuple[uuid.UUID, uuid.UUID], list[ParentContact]] = {}
    if not ids:
        return out
    for contact in db.session.scalars(
        select(ParentContact).where(ParentContact.incident_id.in_(ids))
        .order_by(ParentContact.child_id, ParentContact.number)
    ):
        out.setdefault((contact.incident_id, contact.child_id), []).append(contact)
    return out
