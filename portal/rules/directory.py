"""The local authority directory: lines, hours, out-of-hours numbers and timescales, as data.

The packaged file `portal/data/authorities.json` is the default; the portal builds the same
structure from its database so an administrator can add or change an authority without a code
change. Nothing here reads a clock: callers pass the time in.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from .ages import DEFAULT_AGE_GAP_YEARS
from .calendar import is_bank_holiday

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead to look for the next opening: long enough for Christmas plus a long closure.
_NEXT_OPEN_HORIZON_DAYS = 31


class DirectoryError(ValueError):
    """The directory data is malformed."""


@dataclass(frozen=True, slots=True)
class Timescale:
    within: int | None
    unit: str  # "hours" | "days" | "months"
    confirmed: bool
    source: str
    after: str | None = None


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Opening intervals per weekday (0 = Monday) in minutes after midnight, [start, end)."""

    intervals: tuple[tuple[tuple[int, int], ...], ...]

    def is_open(self, at: dt.datetime) -> bool:
        if is_bank_holiday(at.date()):
            return False
        minute = at.hour * 60 + at.minute
        return any(start <= minute < end for start, end in self.intervals[at.weekday()])

    def next_open(self, at: dt.datetime) -> dt.datetime | None:
        """The first opening strictly after `at`, skipping weekends and bank holidays."""
        day = at.date()
        for _ in range(_NEXT_OPEN_HORIZON_DAYS):
            if not is_bank_holiday(day):
                for start, _end in self.intervals[day.weekday()]:
                    candidate = dt.datetime.combine(day, dt.time(start // 60, start % 60))
                    if candidate > at:
                        return candidate
            day += dt.timedelta(days=1)
        return None

    def as_text(self) -> list[tuple[str, str]]:
        """[(weekday name, "08:00-18:00"), ...] for display."""
        names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        out = []
        for name, spans in zip(names, self.intervals, strict=True):
            text = ", ".join(f"{_hhmm(s)} to {_hhmm(e)}" for s, e in spans) or "closed"
            out.append((name, text))
        return out


@dataclass(frozen=True, slots=True)
class Authority:
    code: str
    name: str
    line: str
    phone: str | None
    phone_source: str
    hours: WeeklyHours | None  # None unless the hours are confirmed
    hours_source: str
    reference_hours: WeeklyHours | None  # unconfirmed hours kept only for display
    out_of_hours_name: str | None
    out_of_hours_phone: str | None
    out_of_hours_note: str | None
    out_of_hours_source: str
    timescales: Mapping[str, Timescale]
    # Settings an authority may change (RULES.md: defaults are settings, never buried constants).
    age_gap_years: int = DEFAULT_AGE_GAP_YEARS

    def line_status(self, at: dt.datetime) -> tuple[bool | None, dt.datetime | None]:
        """(open, next_open) at local time `at`; (None, None) where hours are not confirmed."""
        if self.hours is None:
            return None, None
        if self.hours.is_open(at):
            return True, None
        return False, self.hours.next_open(at)


class Directory(Mapping[str, Authority]):
    """Authorities by code."""

    def __init__(self, authorities: Mapping[str, Authority]) -> None:
        self._by_code = dict(authorities)

    def __getitem__(self, code: str) -> Authority:
        return self._by_code[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __len__(self) -> int:
        return len(self._by_code)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Directory:
        try:
            return cls({a["code"]: _authority(a) for a in data["authorities"]})
        except (KeyError, TypeError, ValueError) as exc:
            raise DirectoryError(f"malformed directory entry: {exc!r}") from exc


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"time out of range: {text}")
    return value


def _weekly(spec: Mapping[str, Any] | None) -> WeeklyHours | None:
    if spec is None:
        return None
    days: list[tuple[tuple[int, int], ...]] = []
    for name in WEEKDAYS:
        raw = spec.get(name)
        if raw is None:
            days.append(())
            continue
        # One [start, end] pair or a list of pairs (a line that closes for lunch).
        pairs = [raw] if isinstance(raw[0], str) else raw
        spans = tuple(sorted((_minutes(s), _minutes(e)) for s, e in pairs))
        if any(s >= e for s, e in spans):
            raise ValueError(f"{name}: opening must be before closing")
        days.append(spans)
    return WeeklyHours(tuple(days))


def _authority(a: Mapping[str, Any]) -> Authority:
    phone = a.get("phone") or {}
    hours = a.get("hours") or {}
    ooh = a.get("out_of_hours") or {}
    weekly = _weekly(hours.get("weekly"))
    rule_settings = a.get("rule_settings") or {}
    age_gap_years = int(rule_settings.get("age_gap_years", DEFAULT_AGE_GAP_YEARS))
    if not 1 <= age_gap_years <= 10:
        raise ValueError("rule_settings.age_gap_years must be between 1 and 10")
    confirmed_hours = bool(hours.get("confirmed")) and weekly is not None
    return Authority(
        code=str(a["code"]),
        name=str(a["name"]),
        line=str(a["line"]),
        phone=phone.get("number") if phone.get("confirmed") else None,
        phone_source=str(phone.get("source", "")),
        hours=weekly if confirmed_hours else None,
        hours_source=str(hours.get("source", "")),
        reference_hours=None if confirmed_hours else weekly,
        out_of_hours_name=ooh.get("name"),
        out_of_hours_phone=ooh.get("number") if ooh.get("confirmed") else None,
        out_of_hours_note=ooh.get("note"),
        out_of_hours_source=str(ooh.get("source", "")),
        timescales={
            key: Timescale(
                within=value.get("within"),
                unit=str(value["unit"]),
                confirmed=bool(value.get("confirmed")) and value.get("within") is not None,
                source=str(value.get("source", "")),
                after=value.get("after"),
            )
            for key, value in (a.get("timescales") or {}).items()
        },
        age_gap_years=age_gap_years,
    )


def load_directory_data() -> dict[str, Any]:
    """The packaged directory file as plain data (used to seed the database)."""
    text = resources.files("portal").joinpath("data/authorities.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def default_directory() -> Directory:
    return Directory.from_dict(load_directory_data())
