"""Ages on a date, with 29 February handled as RULES.md section 2 says."""

from __future__ import annotations

import datetime as dt


def age_on(dob: dt.date, on: dt.date) -> int:
    """Completed years on `on`.

    Someone born on 29 February reaches each new age on 1 March in years without a 29 February:
    comparing (month, day) pairs gives exactly that, since (2, 28) < (2, 29) <= (3, 1).
    """
    years = on.year - dob.year
    if (on.month, on.day) < (dob.month, dob.day):
        years -= 1
    return years


def anniversary(dob: dt.date, years: int) -> dt.date:
    """The date someone born on `dob` turns `years` (29 February -> 1 March in common years)."""
    try:
        return dob.replace(year=dob.year + years)
    except ValueError:  # 29 February in a year without one
        return dt.date(dob.year + years, 3, 1)


DEFAULT_AGE_GAP_YEARS = 2


def gap_of_two_years_or_more(a: dt.date, b: dt.date, years: int = DEFAULT_AGE_GAP_YEARS) -> bool:
    """True when the younger was born on or after the older's `years`-th birthday (RULES.md 3.2).

    Two years is the portal default for 000's "the greater the difference the more likely the
    behaviour should be defined as abusive"; an authority may set another value in the directory.
    """
    older, younger = (a, b) if a <= b else (b, a)
    return younger >= anniversary(older, years)
