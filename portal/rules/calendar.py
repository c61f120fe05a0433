"""Bank holidays in England and Wales, from the maintained `holidays` library (not a hand list)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    # England and Wales share one list of bank holidays; "ENG" is the library's subdivision for it.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: dt.date) -> bool:
    return day in _bank_holidays(day.year)


def bank_holiday_name(day: dt.date) -> str | None:
    if not is_bank_holiday(day):
        return None
    name = holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day)
    return str(name) if name else None


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not a bank holiday in England and Wales."""
    return day.weekday() < 5 and not is_bank_holiday(day)
