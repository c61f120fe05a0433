"""School hours, and when an unopened urgent concern is due to be escalated (docs/mail.md).

Pure: times in, times out. A school's hours are its days (ISO weekdays, Monday is 1) and the
minutes after midnight its day starts and ends, in London time. The escalation clock runs only
inside those hours: a concern sent at 16:55 on a Friday with a 15-minute set time is due at
08:10 on Monday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from ..clock import from_uk_local, uk_local
from ..typed_time import parse_time

DEFAULT_DAYS: Final = "12345"
DEFAULT_STARTS: Final = 8 * 60
DEFAULT_ENDS: Final = 17 * 60
DEFAULT_ESCALATION_MINUTES: Final = 15
ESCALATION_MAX_MINUTES: Final = 24 * 60
DAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                    "Sunday")
# Looked ahead at most this far for enough school time (a school open one hour a week still
# finds it well within).
_HORIZON_DAYS: Final = 400


@dataclass(frozen=True)
class SchoolHours:
    days: str = DEFAULT_DAYS  # ISO weekday digits
    starts: int = DEFAULT_STARTS  # minutes after midnight, London time
    ends: int = DEFAULT_ENDS

    def __post_init__(self) -> None:
        if not self.days or any(d not in "1234567" for d in self.days):
            raise ValueError("school days must be ISO weekday digits")
        if not 0 <= self.starts < self.ends <= 24 * 60:
            raise ValueError("a school day must start before it ends")


def clock(minutes: int) -> str:
    """Minutes after midnight as '08:00'."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(text: str) -> int | None:
    """A time of the school day as minutes after midnight, typed as every time in the portal is
    (`typed_time.parse_time`: 08:00, 8.30, 8:30am, 4pm), or 24:00 for a day that runs to
    midnight; None if it is not a time."""
    if text.strip() in ("24:00", "24.00"):
        return 24 * 60
    time = parse_time(text)
    return None if time is None else time.hour * 60 + time.minute


def due_at(start: dt.datetime, minutes: int, hours: SchoolHours) -> dt.datetime:
    """When `minutes` of school time have passed since `start` (aware); aware UTC."""
    local = uk_local(start)
    remaining = dt.timedelta(minutes=minutes)
    day = local.date()
    for _ in range(_HORIZON_DAYS):
        if str(day.isoweekday()) in hours.days:
            opens = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=hours.starts)
            closes = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=hours.ends)
            begin = max(opens, local)
            if begin < closes:
                if closes - begin >= remaining:
                    return from_uk_local(begin + remaining)
                remaining -= closes - begin
        day += dt.timedelta(days=1)
    raise ValueError("no school hours ahead")  # pragma: no cover - SchoolHours forbids it


def hours_words(hours: SchoolHours) -> str:
    """'Monday to Friday, 08:00 to 17:00' (or the days named one by one)."""
    days = sorted(hours.days)
    digits = "".join(days)
    if len(days) > 2 and digits in "1234567":
        named = f"{DAY_NAMES[int(days[0]) - 1]} to {DAY_NAMES[int(days[-1]) - 1]}"
    else:
        named = ", ".join(DAY_NAMES[int(d) - 1] for d in days)
    return f"{named}, {clock(hours.starts)} to {clock(hours.ends)}"


__all__ = ["DAY_NAMES", "DEFAULT_DAYS", "DEFAULT_ENDS", "DEFAULT_ESCALATION_MINUTES",
           "DEFAULT_STARTS", "ESCALATION_MAX_MINUTES", "SchoolHours", "clock", "due_at",
           "hours_words", "parse_clock"]
