"""An incident as the rules engine sees it: its children and its facts.

Shared by the incidents, handover and referrals services (none of them imports another for
this).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from .. import reads
from ..clock import uk_local
from ..models import Incident, IncidentChild, School, db
from ..rules import AdultHarmed, ChildFacts, IncidentFacts


def incident_children(incident: Incident) -> list[IncidentChild]:
    return children_of_incidents([incident])[incident.id]


def children_of_incidents(incidents: Iterable[Incident]) -> dict[uuid.UUID, list[IncidentChild]]:
    """`incident_children` for many incidents in one query (children loaded with them)."""
    out: dict[uuid.UUID, list[IncidentChild]] = {i.id: [] for i in incidents}
    if out:
        for row in db.session.scalars(
            select(IncidentChild).options(joinedload(IncidentChild.child))
            .where(IncidentChild.incident_id.in_(list(out)))
            .order_by(IncidentChild.position, IncidentChild.added_at)
        ):
            out[row.incident_id].append(row)
    return out


def incidents_with_children(
    query: Any,
) -> tuple[list[Incident], dict[uuid.UUID, list[IncidentChild]]]:
    """The incidents `query` (a select of `Incident`, ordered) returns and, by incident id, their
    children as `children_of_incidents` gives them, in one statement (an outer join)."""
    incidents: dict[uuid.UUID, Incident] = {}
    children: dict[uuid.UUID, list[IncidentChild]] = {}
    # Aliased: `query`'s own clauses on incident_children (portal/access.py hides an incident
    # about destroyed children only) must stay about the whole incident, not be correlated to
    # the joined row, which would drop each destroyed child from the list and the rules.
    part = aliased(IncidentChild)
    rows = db.session.execute(
        query.add_columns(part)
        .outerjoin(part, part.incident_id == Incident.id)
        .options(joinedload(part.child))
        .order_by(part.position, part.added_at))
    for incident, row in rows:
        incidents.setdefault(incident.id, incident)
        found = children.setdefault(incident.id, [])
        if row is not None:
            found.append(row)
    return list(incidents.values()), children


def facts_for(incident: Incident, *, at_local: dt.datetime | None = None,
              rows: list[IncidentChild] | None = None) -> IncidentFacts | None:
    """The rules' input, or None while the incident lacks a date, a report time, a type or a
    child (the page says what is missing). `rows`: the incident's children when the caller
    has already loaded them (see `children_of_incidents`)."""
    if rows is None:
        rows = incident_children(incident)
    if not (incident.occurred_on and incident.reported_at and incident.types and rows):
        return None
    school = db.session.get(School, incident.school_id)
    default_la = reads.authority_code_of(school) if school is not None else ""
    children = []
    for ic in rows:
        child = ic.child
        if child.dob is None:
            return None
        children.append(ChildFacts(
            ref=child.reference, role=ic.role, dob=child.dob,
            local_authority=child.local_authority_code or default_la,
            send=bool(child.send), same_school=ic.same_school, household=ic.household or None,
        ))
    return IncidentFacts(
        occurred_on=incident.occurred_on,
        reported_at=at_local or uk_local(incident.reported_at),
        types=frozenset(incident.types), features=frozenset(incident.features or ()),
        children=tuple(children), online=incident.online,
        sexual_activity=incident.sexual_activity, immediate_danger=incident.immediate_danger,
        crime_suspected=incident.crime_suspected, arrested=incident.arrested,
        adults_harmed=tuple(AdultHarmed(bool(a.get("at_risk")))
                            for a in (incident.adults_harmed or [])),
    )
