"""Times as people type them on a phone, for every form that asks for one: one parser, one
message, so "9.30am" means the same on the police report, the parents record and a call."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from wtforms.validators import ValidationError

from .digits import ordinary_digits

__all__ = ["at", "check_time", "parse_time"]

# A time as people type it on a phone: 09:30, 9.30, 9:30am, 2.15 pm, 3pm.
_TIME_RE = re.compile(r"^(\d{1,2})(?:\s*[:.]\s*([0-5]\d))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.I)


def parse_time(text: str | None) -> dt.time | None:
    """The time typed, or None when it is not one. A 12-hour time needs am or pm; without them
    the hour is on the 24-hour clock (and minutes are needed: "9" alone is not a time)."""
    # Digits of any script are read as digits, as in the date boxes (full-width 14:05 too).
    match = _TIME_RE.match(ordinary_digits((text or "").strip()))
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower().startswith("p") else 0)
    elif match.group(2) is None or hour > 23:
        return None
    return dt.time(hour, minute)


def check_time(field: Any, example: str) -> None:
    if field.data and parse_time(field.data) is None:
        raise ValidationError(f"Enter the time like {example}")


def at(day: dt.date | None, time_text: str | None) -> dt.datetime | None:
    """A date and a typed time as one naive local (Europe/London) time, or None."""
    time = parse_time(time_text)
    return dt.datetime.combine(day, time) if day and time else None
