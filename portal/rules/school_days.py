"""School days and the clock for sending a child protection file to the next school.

Keeping Children Safe in Education: when a child moves school, the DSL sends the child
protection file "within 5 school days" of an in-year move, or "within the first 5 school days of
the start of a new term". One count gives both: the file is due on the fifth school day after
the day the child moved. Moved in the holidays, the next school days are the new term's first,
so the fifth of them is the fifth day of the new term.

A school day is a weekday that is not a bank holiday in England and Wales
(`portal.rules.calendar`) and, where the school has entered its term dates, falls inside a term
and outside its half-term. Days outside every term the school has entered (before the first,
after the last) are counted as working days, so a school that has not yet entered next year's
terms never has a clock that stops.

Pure: no database, no clock; the caller passes the school's terms and today's date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from .calendar import is_bank_holiday

TRANSFER_SCHOOL_DAYS: Final = 5
# Far more days than any run of holidays: a bad set of terms can never loop for ever.
_SEARCH_LIMIT: Final = 400


@dataclass(frozen=True)
class Term:
    """One term of the school year: its first and last day, and its half-term (both days
    included), if it has one."""

    starts_on: dt.date
    ends_on: dt.date
    half_term_starts: dt.date | None = None
    half_term_ends: dt.date | None = None

    def holds(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def in_half_term(self, day: dt.date) -> bool:
        return (self.half_term_starts is not None and self.half_term_ends is not None
                and self.half_term_starts <= day <= self.half_term_ends)


def term_problems(term: Term) -> list[tuple[str, str]]:
    """What is wrong with a term as entered: (field, message) pairs, none when it is right."""
    problems: list[tuple[str, str]] = []
    if term.ends_on < term.starts_on:
        problems.append(("ends_on", "The last day of term must be on or after its first day"))
    if (term.half_term_starts is None) != (term.half_term_ends is None):
        field = "half_term_ends" if term.half_term_ends is None else "half_term_starts"
        problems.append((field, "Enter both the first and the last day of the half-term, "
                                "or neither"))
    elif term.half_term_starts is not None and term.half_term_ends is not None:
        if term.half_term_ends < term.half_term_starts:
            problems.append(("half_term_ends", "The half-term must end on or after it starts"))
        elif not (term.holds(term.half_term_starts) and term.holds(term.half_term_ends)):
            problems.append(("half_term_starts", "The half-term must fall inside the term"))
    return problems


def is_school_day(day: dt.date, terms: Sequence[Term],
                  bank_holiday: Callable[[dt.date], bool] = is_bank_holiday) -> bool:
    """A weekday, not a bank holiday, and in term (outside its half-term) where terms are
    known for that part of the year."""
    if day.weekday() >= 5 or bank_holiday(day):
        return False
    if not terms:
        return True
    first = min(t.starts_on for t in terms)
    last = max(t.ends_on for t in terms)
    if day < first or day > last:
        return True
    return any(t.holds(day) and not t.in_half_term(day) for t in terms)


def school_days_after(start: dt.date, count: int, terms: Sequence[Term],
                      bank_holiday: Callable[[dt.date], bool] = is_bank_holiday) -> dt.date:
    """The `count`th school day after `start` (`start` itself not counted)."""
    day = start
    found = 0
    for _ in range(_SEARCH_LIMIT):
        day += dt.timedelta(days=1)
        if is_school_day(day, terms, bank_holiday):
            found += 1
            if found >= count:
                return day
    raise ValueError("no school days found: check the term dates")


def transfer_due_on(moved_on: dt.date, terms: Sequence[Term],
                    bank_holiday: Callable[[dt.date], bool] = is_bank_holiday) -> dt.date:
    """The last day to send the file of a child who moved on `moved_on`: the fifth school day
    after it (in the holidays: the fifth day of the new term)."""
    return school_days_after(moved_on, TRANSFER_SCHOOL_DAYS, terms, bank_holiday)


def school_days_left(today: dt.date, due_on: dt.date, terms: Sequence[Term],
                     bank_holiday: Callable[[dt.date], bool] = is_bank_holiday) -> int:
    """School days after `today` up to and including `due_on` (0 when due today or past)."""
    if due_on <= today:
        return 0
    count = 0
    day = today
    while day < due_on:
        day += dt.timedelta(days=1)
        if is_school_day(day, terms, bank_holiday):
            count += 1
    return count


def is_overdue(today: dt.date, due_on: dt.date) -> bool:
    """Past the last day (the due day itself is still in time)."""
    return today > due_on
