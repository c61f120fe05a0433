"""Dates and times in words, the one style every page, email, PDF and reason uses (UK time is
the caller's business: these take local dates and times).

- a day: "16 November 2026"; with its weekday: "Monday 16 November 2026";
- a month: "November 2026";
- a time of day: "9:30am", "2:05pm";
- a moment: "16 November 2026 at 9:30am".

Pure (the rules engine's reasons use it); `portal.wording` builds its filters on it.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["day_words", "moment_words", "month_words", "time_of_day"]


def time_of_day(clock: dt.datetime | dt.time) -> str:
    """"9:30am", "2:05pm" (the clock as people say it)."""
    hour = clock.hour % 12 or 12
    return f"{hour}:{clock.minute:02d}{'am' if clock.hour < 12 else 'pm'}"


def day_words(on: dt.date, *, weekday: bool = False) -> str:
    """"16 November 2026" ("Monday 16 November 2026" with `weekday`)."""
    text = f"{on.day} {on:%B %Y}"
    return f"{on:%A} {text}" if weekday else text


def month_words(on: dt.date) -> str:
    """"November 2026" (the month of a day)."""
    return f"{on:%B %Y}"


def moment_words(at: dt.datetime, *, weekday: bool = False) -> str:
    """"16 November 2026 at 9:30am" (a local time)."""
    return f"{day_words(at.date(), weekday=weekday)} at {time_of_day(at)}"
