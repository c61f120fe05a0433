"""Due dates for the authorities' timescales (strategy meeting, minutes, ICPC, CIN reviews).

Pure: callers pass the start time in (local Europe/London, naive) and the authority's
`Timescale` from the directory. Rules, all on the side of acting sooner:
- a timescale in hours runs on the clock, weekends and bank holidays included (72 hours in
  Darlington means 72 hours);
- a timescale in days or months counts calendar days or months; when the last day is a weekend
  or a bank holiday in England and Wales the due date moves back to the working day before, so
  the portal never shows a deadline on a day nobody is at work to meet it;
- a month added to the 31st ends on the last day of a shorter month.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass

from .calendar import is_working_day
from .clock_words import day_words, moment_words
from .directory import Timescale

END_OF_WORKING_DAY = dt.time(17, 0)


@dataclass(frozen=True, slots=True)
class Due:
    """When something is due: a moment (hours) or the end of a working day (days, months)."""

    at: dt.datetime
    all_day: bool
    source: str

    def is_overdue(self, now: dt.datetime) -> bool:
        return now > self.at

    def label(self) -> str:
        if self.all_day:
            return day_words(self.at.date(), weekday=True)
        return moment_words(self.at, weekday=True)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = _calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def working_day_on_or_before(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def due_after(start: dt.datetime, timescale: Timescale) -> Due | None:
    """The due moment of `timescale` counted from `start`; None when the authority sets none."""
    if not timescale.confirmed or timescale.within is None:
        return None
    if timescale.unit == "hours":
        return Due(start + dt.timedelta(hours=timescale.within), False, timescale.source)
    if timescale.unit == "days":
        last = start.date() + dt.timedelta(days=timescale.within)
    elif timescale.unit == "months":
        last = add_months(start.date(), timescale.within)
    else:
        raise ValueError(f"unknown timescale unit {timescale.unit!r}")
    day = working_day_on_or_before(last)
    # Never before the start itself (a 0-day timescale on a Saturday is due at once).
    at = max(dt.datetime.combine(day, END_OF_WORKING_DAY), start)
    return Due(at, True, timescale.source)


def cin_reviews(
    network_meeting: dt.datetime, first: Timescale, then: Timescale, count: int = 4
) -> list[Due]:
    """Child in need reviews: the first within `first`, then each within `then` of the last."""
    reviews: list[Due] = []
    due = due_after(network_meeting, first)
    while due is not None and len(reviews) < count:
        reviews.append(due)
        due = due_after(due.at, then)
    return reviews
