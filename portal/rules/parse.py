"""Turning the JSON of RULES.md section 2 into `IncidentFacts`, or a list of clear problems.

Every problem names the field, what was wrong and what is allowed. Nothing needed is guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from typing import Any

from . import vocabulary as v
from .clock_words import uk_local
from .model import AdultHarmed, ChildFacts, IncidentFacts

_INCIDENT_BOOLS = ("online", "sexual_activity", "immediate_danger", "crime_suspected", "arrested")
_INCIDENT_FIELDS = frozenset({"occurred_on", "reported_at", "types", "features", *_INCIDENT_BOOLS})
_CHILD_FIELDS = frozenset(
    {"ref", "role", "dob", "send", "local_authority", "same_school", "household"}
)
_TOP_FIELDS = frozenset({"incident", "children", "adults_harmed"})
# fromisoformat also takes ISO week dates ("2026-W47-1"): only YYYY-MM-DD is allowed.
_DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Bounds on the input, so that any input is answered quickly and briefly (the engine compares
# children in pairs: 200 children is 19,900 pairs, well under a second).
MAX_CHILDREN = 200
MAX_ADULTS = 200
MAX_CODES = 50  # per list of codes (each vocabulary has fewer than this)
MAX_PROBLEMS = 50  # listed; the rest are counted ("and 12 more problems")
# Dates the rules can work with: deadlines are computed days and weeks after the report, and
# every date must be a real one in the Europe/London calendar.
FIRST_YEAR = 1900
LAST_YEAR = 2199


class RulesInputError(ValueError):
    """Bad input: `problems` holds one plain sentence per problem (at most MAX_PROBLEMS, then
    one line saying how many more there were)."""

    def __init__(self, problems: list[str], more: int = 0) -> None:
        listed = list(problems[:MAX_PROBLEMS])
        more += max(0, len(problems) - MAX_PROBLEMS)
        if more:
            listed.append(f"and {more:,} more problem{'s' if more != 1 else ''}")
        super().__init__("; ".join(listed))
        self.problems = listed
        self.more = more


def _allowed(values: Collection[str]) -> str:
    return ", ".join(sorted(values))


def _short(value: Any, limit: int = 80) -> Any:
    """A value to quote in a problem, cut short so one problem stays one short line."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    if isinstance(value, list | dict):
        text = repr(value)
        return text if len(text) <= limit else text[:limit] + "…"
    return value


class _Checker:
    def __init__(self, known_authorities: Collection[str]) -> None:
        self.problems: list[str] = []
        self.more = 0  # problems found after the first MAX_PROBLEMS: counted, not kept
        self.known_authorities = known_authorities

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more += 1

    def fail(self) -> RulesInputError:
        return RulesInputError(self.problems, self.more)

    def in_range(self, where: str, value: str, when: dt.date) -> bool:
        if FIRST_YEAR <= when.year <= LAST_YEAR:
            return True
        self.problem(f"{where}: {value!r} is outside the years the rules work with "
                     f"({FIRST_YEAR} to {LAST_YEAR})")
        return False

    def unknown_fields(self, where: str, data: Mapping[str, Any], allowed: frozenset[str]) -> None:
        for key in data:
            if key not in allowed:
                self.problem(
                    f"{where}.{_short(key)}: unknown field; allowed fields are {_allowed(allowed)}"
                )

    def boolean(self, where: str, data: Mapping[str, Any], key: str, default: bool) -> bool:
        if key not in data:
            return default
        value = data[key]
        if not isinstance(value, bool):
            self.problem(f"{where}.{key}: must be true or false, got {_short(value)!r}")
            return default
        return value

    def date(self, where: str, value: Any) -> dt.date | None:
        if not isinstance(value, str):
            self.problem(f"{where}: must be a date written YYYY-MM-DD, got {_short(value)!r}")
            return None
        try:
            if not _DATE_SHAPE.fullmatch(value):
                raise ValueError
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            self.problem(f"{where}: {_short(value)!r} is not a real date written YYYY-MM-DD")
            return None
        return parsed if self.in_range(where, value, parsed) else None

    def local_datetime(self, where: str, value: Any) -> dt.datetime | None:
        if not isinstance(value, str):
            self.problem(
                f"{where}: must be a local time written YYYY-MM-DDTHH:MM, got {_short(value)!r}")
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
            if len(value) < 16 or value[10] not in "T " or not _DATE_SHAPE.match(value):
                raise ValueError
        except ValueError:
            self.problem(f"{where}: {_short(value)!r} is not a real local time written "
                         "YYYY-MM-DDTHH:MM")
            return None
        if not self.in_range(where, value, parsed.date()):
            return None
        if parsed.tzinfo is not None:  # an explicit offset: bring it to London time
            parsed = uk_local(parsed)
        return parsed

    def codes(
        self, where: str, value: Any, vocabulary: frozenset[str], *, required: bool
    ) -> frozenset[str]:
        if not isinstance(value, list):
            self.problem(f"{where}: must be a list of codes, got {_short(value)!r}")
            return frozenset()
        if len(value) > MAX_CODES:
            self.problem(f"{where}: at most {MAX_CODES} codes, got {len(value):,}")
            return frozenset()
        if required and not value:
            self.problem(f"{where}: give at least one code; allowed: {_allowed(vocabulary)}")
        good = set()
        for item in value:
            if not isinstance(item, str) or item not in vocabulary:
                self.problem(
                    f"{where}: unknown code {_short(item)!r}; allowed: {_allowed(vocabulary)}")
            else:
                good.add(item)
        return frozenset(good)


def parse_incident(data: Any, known_authorities: Collection[str]) -> IncidentFacts:
    """Validate `data` (parsed JSON) and return the facts, or raise `RulesInputError`."""
    c = _Checker(known_authorities)
    if not isinstance(data, Mapping):
        raise RulesInputError(["input: must be a JSON object with incident and children"])
    c.unknown_fields("input", data, _TOP_FIELDS)

    incident = data.get("incident")
    if not isinstance(incident, Mapping):
        c.problem("incident: required, an object with occurred_on, reported_at and types")
        incident = {}
    else:
        c.unknown_fields("incident", incident, _INCIDENT_FIELDS)
        for key in ("occurred_on", "reported_at", "types"):
            if key not in incident:
                c.problem(f"incident.{key}: required field is missing")

    occurred_on = (
        c.date("incident.occurred_on", incident["occurred_on"]) if "occurred_on" in incident
        else None
    )
    reported_at = (
        c.local_datetime("incident.reported_at", incident["reported_at"])
        if "reported_at" in incident else None
    )
    if occurred_on and reported_at and occurred_on > reported_at.date():
        c.problem(
            f"incident.occurred_on: {occurred_on.isoformat()} is after incident.reported_at "
            f"{reported_at.date().isoformat()}; it must be on or before the report"
        )
    types = (
        c.codes("incident.types", incident["types"], v.TYPES, required=True)
        if "types" in incident else frozenset()
    )
    features = c.codes(
        "incident.features", incident.get("features", []), v.FEATURES, required=False
    )
    flags = {key: c.boolean("incident", incident, key, False) for key in _INCIDENT_BOOLS}

    children = _children(c, data.get("children"), occurred_on)
    adults = _adults(c, data.get("adults_harmed", []))

    if c.problems:
        raise c.fail()
    if occurred_on is None or reported_at is None:  # unreachable: a problem was recorded
        raise RulesInputError(["incident: occurred_on and reported_at are required"])
    return IncidentFacts(
        occurred_on=occurred_on,
        reported_at=reported_at,
        types=types,
        features=features,
        children=children,
        adults_harmed=adults,
        **flags,
    )


def _children(c: _Checker, raw: Any, occurred_on: dt.date | None) -> tuple[ChildFacts, ...]:
    if raw is None:
        c.problem("children: required, a list with at least one child")
        return ()
    if not isinstance(raw, list):
        c.problem(f"children: must be a list of children, got {type(raw).__name__}")
        return ()
    if not raw:
        c.problem("children: at least one child is needed")
        return ()
    if len(raw) > MAX_CHILDREN:
        c.problem(f"children: at most {MAX_CHILDREN} children, got {len(raw):,}")
        return ()
    out: list[ChildFacts] = []
    seen: set[str] = set()
    for index, child in enumerate(raw):
        where = f"children[{index}]"
        if not isinstance(child, Mapping):
            c.problem(f"{where}: must be an object with ref, role, dob and local_authority")
            continue
        c.unknown_fields(where, child, _CHILD_FIELDS)
        for key in ("ref", "role", "dob", "local_authority"):
            if key not in child:
                c.problem(f"{where}.{key}: required field is missing")
        ref = child.get("ref")
        if "ref" in child:
            if not isinstance(ref, str) or not ref.strip():
                c.problem(f"{where}.ref: must be a non-empty text label, got {_short(ref)!r}")
            elif ref in seen:
                c.problem(
                    f"{where}.ref: {_short(ref)!r} is used by another child; refs must be unique")
            else:
                seen.add(ref)
        role = child.get("role")
        if "role" in child and role not in v.ROLES:
            c.problem(f"{where}.role: unknown role {_short(role)!r}; allowed: {', '.join(v.ROLES)}")
        dob = c.date(f"{where}.dob", child["dob"]) if "dob" in child else None
        if dob and occurred_on and dob > occurred_on:
            c.problem(
                f"{where}.dob: {dob.isoformat()} is after incident.occurred_on "
                f"{occurred_on.isoformat()}; a child must be born before the incident"
            )
        authority = child.get("local_authority")
        if "local_authority" in child and (
            not isinstance(authority, str) or authority not in c.known_authorities
        ):
            c.problem(
                f"{where}.local_authority: unknown code {_short(authority)!r}; "
                f"allowed: {_allowed(c.known_authorities)}"
            )
        household = child.get("household")
        if household is not None and (
            isinstance(household, bool) or not isinstance(household, str | int)
        ):
            c.problem(f"{where}.household: must be null, a text label or a number")
        send = c.boolean(where, child, "send", False)
        same_school = c.boolean(where, child, "same_school", True)
        if isinstance(ref, str) and role in v.ROLES and dob and isinstance(authority, str):
            out.append(ChildFacts(
                ref=ref, role=role, dob=dob, local_authority=authority, send=send,
                same_school=same_school, household=household,
            ))
    return tuple(out)


def _adults(c: _Checker, raw: Any) -> tuple[AdultHarmed, ...]:
    if not isinstance(raw, list):
        c.problem(f"adults_harmed: must be a list, got {type(raw).__name__}")
        return ()
    if len(raw) > MAX_ADULTS:
        c.problem(f"adults_harmed: at most {MAX_ADULTS}, got {len(raw):,}")
        return ()
    out = []
    for index, adult in enumerate(raw):
        where = f"adults_harmed[{index}]"
        if not isinstance(adult, Mapping):
            c.problem(f"{where}: must be an object like {{\"at_risk\": false}}")
            continue
        c.unknown_fields(where, adult, frozenset({"at_risk"}))
        if "at_risk" not in adult:
            c.problem(f"{where}.at_risk: required field is missing (true or false)")
            continue
        out.append(AdultHarmed(at_risk=c.boolean(where, adult, "at_risk", False)))
    return tuple(out)
