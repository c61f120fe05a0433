"""An incident as the rules engine sees it: its children and its facts.

Shared by the incidents, handover and referrals services (none of them imports another for
this). The rules read an incident and its children through two small shapes, `IncidentShape`
and `PartShape`: `Incident` and `IncidentChild` objects (the incident page) satisfy them, and so
do `OpenIncident` and `IncidentPart`, the dashboard's open incidents read as columns
(`open_incidents`: loading three objects a row cost more than the rest of the list).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final, Protocol

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import aliased, joinedload

from .. import reads
from ..clock import uk_local
from ..kept import kept
from ..models import Child, Incident, IncidentChild, School, db
from ..rules import AdultHarmed, ChildFacts, IncidentFacts


class IncidentShape(Protocol):
    """What the rules (`facts_for`, `services.handover`) read of an incident: an `Incident`, or
    an `OpenIncident` read as columns."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def school_id(self) -> uuid.UUID: ...
    @property
    def occurred_on(self) -> dt.date | None: ...
    @property
    def reported_at(self) -> dt.datetime | None: ...
    @property
    def types(self) -> Sequence[str]: ...
    @property
    def features(self) -> Sequence[str]: ...
    @property
    def online(self) -> bool: ...
    @property
    def sexual_activity(self) -> bool: ...
    @property
    def immediate_danger(self) -> bool: ...
    @property
    def crime_suspected(self) -> bool: ...
    @property
    def arrested(self) -> bool: ...
    @property
    def adults_harmed(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def mandatory_routes(self) -> Sequence[str]: ...


class PartShape(Protocol):
    """What the rules read of a child's part in an incident: an `IncidentChild`, or an
    `IncidentPart` read as columns (the child itself is always a loaded `Child`)."""

    @property
    def role(self) -> str: ...
    @property
    def same_school(self) -> bool: ...
    @property
    def household(self) -> str | None: ...
    @property
    def child(self) -> Child: ...


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """An incident's columns that the rules (`IncidentShape`) and the dashboard's lists read.
    The fields are named as `Incident`'s columns: `open_incidents` reads them by these names."""

    id: uuid.UUID
    school_id: uuid.UUID
    reference: str
    opened_at: dt.datetime
    occurred_on: dt.date | None
    reported_at: dt.datetime | None
    types: list[str]
    features: list[str]
    online: bool
    sexual_activity: bool
    immediate_danger: bool
    crime_suspected: bool
    arrested: bool
    adults_harmed: list[dict[str, Any]]
    mandatory_routes: list[str]


@dataclass(frozen=True, slots=True)
class IncidentPart:
    """A child's part in an incident as columns (`PartShape`), with the child loaded."""

    role: str
    same_school: bool
    household: str | None
    child: Child


_OPEN_FIELDS: Final = tuple(f.name for f in fields(OpenIncident))


def incident_children(incident: IncidentShape) -> list[IncidentChild]:
    return children_of_incidents([incident])[incident.id]


def children_of_incidents(
    incidents: Iterable[IncidentShape],
) -> dict[uuid.UUID, list[IncidentChild]]:
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


def open_incidents(
    share: tuple[ColumnElement[bool], dict[str, Any]],
) -> tuple[list[OpenIncident], dict[uuid.UUID, list[IncidentPart]]]:
    """The open incidents of `share` (a clause on `Incident` built once per thread and the
    values it binds, from `portal.access`: `incident_visible_bound`), oldest first, and by
    incident id their children in order, in one statement built once per thread: each
    incident's and each part's columns, each child loaded as an object (its names and facts
    decrypted as every other page does)."""
    visible, values = share
    incidents: dict[uuid.UUID, OpenIncident] = {}
    children: dict[uuid.UUID, list[IncidentPart]] = {}
    width = len(_OPEN_FIELDS)
    for row in db.session.execute(_open_incidents(visible), values):
        incident_id = row[0]
        if incident_id not in incidents:
            incidents[incident_id] = OpenIncident(*row[:width])
            children[incident_id] = []
        if row.child is not None:
            children[incident_id].append(IncidentPart(row.role, row.same_school,
                                                      row.household, row.child))
    return list(incidents.values()), children


@kept  # one per share clause (a DSL's, nobody's): built once
def _open_incidents(visible: ColumnElement[bool]) -> Select[Any]:
    # Aliased: the share's own clauses on incident_children and children (portal/access.py
    # hides an incident about destroyed children only) must stay about the whole incident, not
    # be correlated to the joined rows, which would drop each destroyed child from the list
    # and the rules.
    part, child = aliased(IncidentChild), aliased(Child, name="child")
    return (select(*(getattr(Incident, name) for name in _OPEN_FIELDS),
                   part.role, part.same_school, part.household, child)
            .select_from(Incident).where(visible, Incident.state == "open")
            .outerjoin(part, part.incident_id == Incident.id)
            .outerjoin(child, child.id == part.child_id)
            .order_by(Incident.opened_at, part.position, part.added_at))


def facts_for(incident: IncidentShape, *, at_local: dt.datetime | None = None,
              rows: Sequence[PartShape] | None = None) -> IncidentFacts | None:
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
