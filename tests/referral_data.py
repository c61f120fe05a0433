"""Test data for the referrals feature: an incident with its children and assessment, made the
way the incidents feature stores them. Invented names only. Call inside an app context."""

from __future__ import annotations

import datetime as dt
import json

from portal.clock import LONDON
from portal.models import (
    Assessment,
    Child,
    Concern,
    ConcernChild,
    Incident,
    IncidentChild,
    IncidentConcern,
    School,
    User,
    db,
)
from portal.rules import ChildFacts, IncidentFacts, assess
from portal.services.localtime import directory_from_db


def local(text: str) -> dt.datetime:
    """An aware UTC time from a Europe/London wall-clock time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(dt.UTC)


def incident(
    school: School,
    dsl: User,
    roles: list[tuple[Child, str]],
    *,
    occurred: dt.date = dt.date(2026, 11, 16),
    reported_at: dt.datetime | None = None,
    types: tuple[str, ...] = ("nudes_sharing",),
    features: tuple[str, ...] = ("coercion",),
    online: bool = True,
    immediate_danger: bool = False,
    summary: str = "Image shared after repeated pressure.",
    words: dict[str, str] | None = None,
    concern_text: str | None = None,
) -> Incident:
    reported_at = reported_at or local("2026-11-17T09:30")
    number = school.next_incident_number
    school.next_incident_number = number + 1
    facts = IncidentFacts(
        occurred_on=occurred,
        reported_at=reported_at.astimezone(LONDON).replace(tzinfo=None),
        types=frozenset(types), features=frozenset(features), online=online,
        immediate_danger=immediate_danger,
        children=tuple(ChildFacts(ref=c.reference, role=role, dob=c.dob,  # type: ignore[arg-type]
                                  local_authority=c.local_authority_code or "",
                                  send=bool(c.send)) for c, role in roles),
    )
    result = assess(facts, directory_from_db())
    inc = Incident(
        school_id=school.id, reference=f"I{number:04d}", opened_by_id=dsl.id,
        occurred_on=occurred, reported_at=reported_at, online=online,
        immediate_danger=immediate_danger, types=sorted(types), features=sorted(features),
        mandatory_routes=list(result.mandatory_routes),
    )
    inc.summary = summary
    db.session.add(inc)
    db.session.flush()
    for position, (child, role) in enumerate(roles):
        ic = IncidentChild(incident_id=inc.id, child_id=child.id, school_id=school.id,
                           position=position, role=role)
        said = (words or {}).get(child.reference)
        ic.child_words = said
        if said is None:
            ic.child_words_missing_reason = "Not yet spoken to"
        db.session.add(ic)
    if concern_text is not None:
        concern = Concern(school_id=school.id, raised_by_id=dsl.id, state="picked_up",
                          occurred_on=occurred)
        concern.what_happened = concern_text
        db.session.add(concern)
        db.session.flush()
        db.session.add(IncidentConcern(incident_id=inc.id, concern_id=concern.id))
        for child, _ in roles:
            db.session.add(ConcernChild(concern_id=concern.id, child_id=child.id))
    a = Assessment(
        incident_id=inc.id, school_id=school.id, incident_version=1,
        rules_version=result.rules_version, triggers=list(result.triggers),
        routes=list(result.routes), mandatory_routes=list(result.mandatory_routes),
        considerations=list(result.considerations),
    )
    a.result = json.dumps(result.as_json())
    db.session.add(a)
    db.session.flush()
    return inc
