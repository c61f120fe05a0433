"""Times as people type them on a phone: one parser for every form."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.typed_time import parse_time


@pytest.mark.parametrize(("typed", "expected"), [
    ("09:30", dt.time(9, 30)), ("9:30", dt.time(9, 30)), ("9.30", dt.time(9, 30)),
    ("23:59", dt.time(23, 59)), ("00:00", dt.time(0, 0)),
    ("9.30am", dt.time(9, 30)), ("9:30 AM", dt.time(9, 30)), ("2.15 pm", dt.time(14, 15)),
    ("3pm", dt.time(15, 0)), ("12am", dt.time(0, 0)), ("12.05pm", dt.time(12, 5)),
    ("11 p.m.", dt.time(23, 0)), (" 16:45 ", dt.time(16, 45)),
    # Digits of any script, as the date boxes read them (walk 8: a full-width time refused).
    ("\uff11\uff14:\uff10\uff15", dt.time(14, 5)),
    ("\uff11\uff14\uff1a\uff10\uff15", dt.time(14, 5)),
    ("\u0662:\u0663\u0660pm", dt.time(14, 30)),
])
def test_times_people_type(typed: str, expected: dt.time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize("typed", [
    "", "9", "24:00", "9:60", "13pm", "0am", "half nine", "9:3", "09:30:00", "930",
    "\u00b2:30pm", "9:\u00b330",  # superscripts are no digits
])
def test_not_a_time(typed: str) -> None:
    assert parse_time(typed) is None
