"""The one clock (portal.clock) and UK time: set for a test, every reader sees the same time."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from portal import clock
from portal.models import utcnow
from tests.helpers.clock import FrozenClock

PORTAL = Path(__file__).resolve().parents[2] / "portal"
SUMMER_EVENING = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 July in London


def test_the_clock_set_for_a_test_is_the_one_everything_reads(frozen_clock: FrozenClock) -> None:
    frozen_clock.now = SUMMER_EVENING
    assert clock.now() == SUMMER_EVENING
    assert utcnow() == SUMMER_EVENING  # the models' column defaults
    frozen_clock.advance(dt.timedelta(minutes=5))
    assert clock.now() == SUMMER_EVENING + dt.timedelta(minutes=5)


def test_the_date_is_the_date_in_the_uk() -> None:
    with clock.set_clock(SUMMER_EVENING):
        assert clock.today() == dt.date(2026, 7, 1)
    assert clock.today(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 12, 31)


def test_uk_local_time_goes_there_and_back() -> None:
    local = clock.uk_local(SUMMER_EVENING)
    assert local == dt.datetime(2026, 7, 1, 0, 30)
    assert clock.from_uk_local(local) == SUMMER_EVENING


def test_a_clock_must_know_its_zone() -> None:
    with clock.set_clock(dt.datetime(2026, 1, 1, 12, 0)), pytest.raises(ValueError):
        clock.now()


def test_nothing_else_reads_the_system_clock_or_names_the_zone() -> None:
    reads = re.compile(r"datetime\.now\(|datetime\.utcnow\(|\bdate\.today\(|ZoneInfo\(")
    offenders = [
        str(path.relative_to(PORTAL)) for path in PORTAL.rglob("*.py")
        if path.name != "clock.py" and path.name != "clock_words.py"
        and reads.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_time_typed_a_few_minutes_ahead_is_now_and_a_later_one_says_what_to_change() -> None:
    now = SUMMER_EVENING  # 00:30 on 1 July in London
    typed = dt.datetime(2026, 7, 1, 0, 33)  # a phone three minutes fast
    boxes = ("told_date", "told_time")
    assert clock.later_than_now(typed, now, "they were told", boxes) is None
    assert clock.later_than_now(dt.datetime(2026, 7, 1, 0, 35), now, "they were told",
                                boxes) is None
    # Later the same day: the time is wrong, not the date.
    assert clock.later_than_now(dt.datetime(2026, 7, 1, 0, 36), now, "they were told",
                                boxes) == ("told_time",
                                           "The time they were told must be now or earlier")
    # A later day: the date.
    assert clock.later_than_now(dt.datetime(2026, 7, 2, 0, 10), now, "of the 999 call",
                                ("happened_on", "happened_time")) == (
        "happened_on", "The date of the 999 call must be today or in the past")
    # Yesterday evening (30 June, in London) is in the past, whatever UTC's date says.
    assert clock.later_than_now(dt.datetime(2026, 6, 30, 23, 59), now, "x", boxes) is None


def test_every_form_asks_the_one_rule_for_a_time_in_the_future() -> None:
    """One rule (`clock.later_than_now`) for when something happened: none of the services
    compares a typed time with now on its own (each did, with its own allowance and words)."""
    compared = re.compile(r"from_uk_local\([^)]*\)\s*>\s*now|(?<![\w.])\w*_at\s*>\s*now\b")
    for path in (PORTAL / "services").glob("*.py"):
        assert not compared.search(path.read_text(encoding="utf-8")), path.name
