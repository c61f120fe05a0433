"""Retention schedule of a child's safeguarding file (docs/retention.md), pure: no clock, no
database. The service (portal/services/retention.py) gathers the facts and passes today's date.

Record types and their default review dates:

- a child protection file (any incident recorded about the child, or a concern about them
  handed to someone outside the school: children's social care, the police, the LADO, early
  help): the date of birth plus 25 years (or, with no date of birth recorded, 25 years after
  the last record), then a review;
- concerns that led to nothing (concerns recorded without an incident, none handed on): a
  school setting, in months after the last concern (the portal default is 72 months, six
  years), then a review.

A review either keeps the file, with reasons and the date of the next review, or destroys it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Final

from .ages import anniversary
from .clock_words import day_words

CHILD_PROTECTION_FILE: Final = "child_protection_file"
CONCERNS_NO_ACTION: Final = "concerns_no_action"
RECORD_TYPES: Final = {
    CHILD_PROTECTION_FILE: "Child protection file",
    CONCERNS_NO_ACTION: "Concerns that led to no further action",
}
CHILD_PROTECTION_YEARS: Final = 25
DEFAULT_NFA_MONTHS: Final = 72
NFA_MONTHS_RANGE: Final = (12, 25 * 12)
#: A file kept is looked at again within this many years.
MAX_KEEP_YEARS: Final = 10


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What the schedule needs to know of one child's file."""

    date_of_birth: dt.date | None
    #: An incident was recorded about the child: the file is a child protection file.
    has_incident: bool
    #: Concerns were raised about the child (with or without an incident).
    has_concern: bool
    #: The day of the latest record in the file (concern, incident, chronology line).
    last_record_on: dt.date | None
    #: The next review date of the latest "keep" decision, if any.
    kept_until: dt.date | None = None
    #: A concern about the child was handed to someone outside the school (a concern of
    #: another kind passed to children's social care, say): a child protection file, not
    #: concerns that led to nothing (a walk found neglect passed to the front door on the
    #: six-year schedule).
    handed_on: bool = False


@dataclass(frozen=True, slots=True)
class Schedule:
    record_type: str
    review_on: dt.date
    #: Why this date, in plain words.
    basis: str


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months` calendar months, kept to the month's last day (31 January + 1
    month is 28 or 29 February)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def months_words(months: int) -> str:
    """A period of months in words: "6 years" when it is whole years, else "30 months"."""
    years, rest = divmod(months, 12)
    if rest == 0:
        return f"{years} year{'' if years == 1 else 's'}"
    return f"{months} month{'' if months == 1 else 's'}"


def schedule(facts: FileFacts, nfa_months: int = DEFAULT_NFA_MONTHS) -> Schedule | None:
    """When the file is next due for review, or None for a file with nothing to keep on a
    safeguarding schedule (a pupil of the roll with no concern: the roll keeps them)."""
    if facts.has_incident or facts.handed_on:
        record_type = CHILD_PROTECTION_FILE
        if facts.date_of_birth is not None:
            due = anniversary(facts.date_of_birth, CHILD_PROTECTION_YEARS)
            basis = f"{CHILD_PROTECTION_YEARS} years after the child's date of birth"
        elif facts.last_record_on is not None:
            due = add_months(facts.last_record_on, CHILD_PROTECTION_YEARS * 12)
            basis = (f"{CHILD_PROTECTION_YEARS} years after the last record (no date of birth "
                     "is recorded)")
        else:
            return None
    elif facts.has_concern and facts.last_record_on is not None:
        record_type = CONCERNS_NO_ACTION
        due = add_months(facts.last_record_on, nfa_months)
        basis = f"{months_words(nfa_months)} after the last concern (the school's setting)"
    else:
        return None
    if facts.kept_until is not None:
        return Schedule(record_type, facts.kept_until, "the date set when the file was kept")
    return Schedule(record_type, due, basis)


def is_due(facts: FileFacts, today: dt.date, nfa_months: int = DEFAULT_NFA_MONTHS) -> bool:
    """The file's review date has come."""
    found = schedule(facts, nfa_months)
    return found is not None and found.review_on <= today


def keep_problems(reasons: str | None, next_review: dt.date | None,
                  today: dt.date) -> dict[str, str]:
    """What is wrong with a decision to keep a file, by field (empty: it can be recorded)."""
    problems: dict[str, str] = {}
    if not (reasons or "").strip():
        problems["reasons"] = "Enter why the file is being kept"
    if next_review is None:
        problems["next_review"] = "Enter the date of the next review"
    elif next_review <= today:
        problems["next_review"] = "The next review must be a date in the future"
    elif next_review > anniversary(today, MAX_KEEP_YEARS):
        latest = day_words(anniversary(today, MAX_KEEP_YEARS))
        problems["next_review"] = (f"The next review must be within {MAX_KEEP_YEARS} years: "
                                   f"{latest} at the latest")
    return problems


def nfa_months_problem(months: int | None) -> str | None:
    """What is wrong with the school's setting for concerns that led to nothing, if anything."""
    low, high = NFA_MONTHS_RANGE
    if months is None or not low <= months <= high:
        return f"Enter a number of months from {low} to {high}"
    return None
