"""The one clock, and UK time.

Everything that needs "now" asks ``now()`` (aware, UTC); nothing else reads the system clock
(``datetime.now``, ``utcnow``). Tests set the time with ``set_clock`` (or the ``frozen_clock``
fixture in ``tests/helpers``), which every caller then sees: model defaults, sessions, services.

``LONDON`` (the portal's one time zone) lives with the words for times in
``portal.rules.clock_words`` (the rules are pure and import nothing outside ``portal.rules``);
it is re-exported here with the conversions the rest of the portal needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .rules.clock_words import LONDON, uk_local

__all__ = ["LONDON", "TYPED_AHEAD", "from_uk_local", "later_than_now", "now", "set_clock",
           "today", "uk_local"]

# A time typed as "just now" is often a minute or two ahead of the server's clock (a phone or
# a watch that runs fast, a time rounded up): up to this far ahead is taken as now, the same
# for every form that asks when something happened (a walk saw a handover a minute ahead
# refused as a date in the future).
TYPED_AHEAD = dt.timedelta(minutes=5)


def _system() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_source: Callable[[], dt.datetime] = _system


def now() -> dt.datetime:
    """The time now, aware, in UTC."""
    at = _source()
    if at.tzinfo is None:
        raise ValueError("the clock must give an aware time")
    return at


def today(at: dt.datetime | None = None) -> dt.date:
    """The date in the UK now (or at `at`)."""
    return (at or now()).astimezone(LONDON).date()


def from_uk_local(local: dt.datetime) -> dt.datetime:
    """Naive UK local time to aware UTC."""
    return local.replace(tzinfo=LONDON).astimezone(dt.UTC)


def later_than_now(local: dt.datetime, at: dt.datetime, what: str, fields: tuple[str, str]
                   ) -> tuple[str, str] | None:
    """What is wrong with `local` (naive UK time, typed) as when something happened, or None.

    Later than `at` (now) by more than `TYPED_AHEAD` is refused, as (field, message): the
    first of `fields` (the date's) when it is a later day, else the second (the time's), so
    the form marks the box to change (a walk: the time was wrong and the date boxes were
    marked). `what` completes "The date ..." / "The time ...": "it was passed on", "of the 999
    call".
    """
    if from_uk_local(local) <= at + TYPED_AHEAD:
        return None
    date_field, time_field = fields
    if local.date() > today(at):
        return date_field, f"The date {what} must be today or in the past"
    return time_field, f"The time {what} must be now or earlier"


@contextmanager
def set_clock(source: Callable[[], dt.datetime] | dt.datetime) -> Iterator[None]:
    """Within the block, ``now()`` is `source` (a fixed time, or a function giving the time)."""
    global _source
    before = _source
    _source = source if callable(source) else (lambda: source)
    try:
        yield
    finally:
        _source = before
