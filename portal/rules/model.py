"""Plain value types for the rules engine: what goes in and what comes out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ChildFacts:
    """One child in an incident, as RULES.md section 2 describes."""

    ref: str
    role: str
    dob: dt.date
    local_authority: str
    send: bool = False
    same_school: bool = True
    household: str | int | None = None


@dataclass(frozen=True, slots=True)
class AdultHarmed:
    at_risk: bool


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """The facts of one incident. `reported_at` is local time in Europe/London, naive."""

    occurred_on: dt.date
    reported_at: dt.datetime
    types: frozenset[str]
    children: tuple[ChildFacts, ...]
    online: bool = False
    sexual_activity: bool = False
    features: frozenset[str] = frozenset()
    immediate_danger: bool = False
    crime_suspected: bool = False
    arrested: bool = False
    adults_harmed: tuple[AdultHarmed, ...] = ()


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a trigger (or consideration) applies, and where the rule comes from."""

    code: str
    because: str
    source: str


@dataclass(frozen=True, slots=True)
class Handover:
    """One local authority to hand the case to, and the state of its line at the report time."""

    local_authority: str
    name: str
    convening: bool
    line: str
    phone: str | None
    open: bool | None
    next_open: dt.datetime | None
    out_of_hours_phone: str | None
    out_of_hours_name: str | None
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "local_authority": self.local_authority,
            "name": self.name,
            "convening": self.convening,
            "line": self.line,
            "phone": self.phone,
            "open": self.open,
            "next_open": self.next_open.isoformat(timespec="minutes") if self.next_open else None,
            "out_of_hours_phone": self.out_of_hours_phone,
            "out_of_hours_name": self.out_of_hours_name,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    """The output of `assess()`: RULES.md section 4."""

    ages: dict[str, int]
    triggers: tuple[str, ...]
    routes: tuple[str, ...]
    mandatory_routes: tuple[str, ...]
    considerations: tuple[str, ...]
    handover: tuple[Handover, ...]
    reasons: tuple[Reason, ...]
    consideration_reasons: tuple[Reason, ...] = field(default=())
    rules_version: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "rules_version": self.rules_version,
            "ages": dict(self.ages),
            "triggers": list(self.triggers),
            "routes": list(self.routes),
            "mandatory_routes": list(self.mandatory_routes),
            "considerations": list(self.considerations),
            "handover": [h.as_json() for h in self.handover],
            "reasons": [
                {"trigger": r.code, "because": r.because, "source": r.source}
                for r in self.reasons
            ],
            "consideration_reasons": [
                {"consideration": r.code, "because": r.because, "source": r.source}
                for r in self.consideration_reasons
            ],
        }
