"""Timescales as due dates, across weekends and bank holidays (England and Wales)."""

from __future__ import annotations

import datetime as dt

from portal.rules import default_directory
from portal.rules.directory import Timescale
from portal.rules.timescales import add_months, cin_reviews, due_after

D = default_directory()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_darlington_strategy_meeting_72_hours_runs_through_the_weekend() -> None:
    due = due_after(at("2026-11-20T15:00"), D["darlington"].timescales["strategy_meeting"])
    assert due is not None
    assert due.at == at("2026-11-23T15:00")  # Friday 15:00 + 72 h = Monday 15:00
    assert not due.all_day
    assert "002 s4" in due.source


def test_derbyshire_strategy_meeting_5_days_pulled_back_from_a_weekend() -> None:
    # Monday 16 Nov + 5 days = Saturday 21 Nov: due by the end of Friday 20 Nov.
    due = due_after(at("2026-11-16T11:00"), D["derbyshire"].timescales["strategy_meeting"])
    assert due is not None and due.all_day
    assert due.at == at("2026-11-20T17:00")


def test_5_days_landing_on_a_weekday_stays() -> None:
    due = due_after(at("2026-11-17T09:00"), D["derby-city"].timescales["strategy_meeting"])
    assert due is not None and due.at == at("2026-11-20T17:00")  # Tue + 5 = Sun -> Fri
    due = due_after(at("2026-11-19T09:00"), D["derby-city"].timescales["strategy_meeting"])
    assert due is not None and due.at == at("2026-11-24T17:00")  # Thu + 5 = Tue


def test_due_date_on_a_bank_holiday_moves_to_the_working_day_before() -> None:
    # Sunday 20 Dec + 5 = Friday 25 Dec (Christmas Day): due Thursday 24 Dec.
    due = due_after(at("2026-12-20T10:00"), D["derbyshire"].timescales["strategy_meeting"])
    assert due is not None and due.at == at("2026-12-24T17:00")
    # Wednesday 23 Dec + 5 = Monday 28 Dec (substitute Boxing Day): back past the weekend and
    # Christmas to Thursday 24 Dec.
    due = due_after(at("2026-12-23T10:00"), D["derbyshire"].timescales["strategy_meeting"])
    assert due is not None and due.at == at("2026-12-24T17:00")


def test_icpc_within_15_days_of_the_strategy_meeting() -> None:
    due = due_after(at("2026-11-20T10:00"), D["derbyshire"].timescales["icpc"])
    assert due is not None and due.at == at("2026-12-04T17:00")  # 5 Dec is a Saturday


def test_minutes_within_24_hours_where_the_authority_sets_it() -> None:
    due = due_after(at("2026-11-20T16:30"), D["dorset"].timescales["strategy_minutes"])
    assert due is not None and due.at == at("2026-11-21T16:30")
    assert due_after(at("2026-11-20T16:30"), D["derbyshire"].timescales["strategy_minutes"]) is None


def test_unconfirmed_timescale_gives_no_due_date() -> None:
    timescale = D["west-sussex"].timescales["strategy_meeting"]
    assert due_after(at("2026-11-20T10:00"), timescale) is None


def test_cin_reviews_at_3_months_then_every_4() -> None:
    t = D["derbyshire"].timescales
    reviews = cin_reviews(at("2026-01-31T10:00"), t["cin_first_review"], t["cin_review"], count=3)
    # 31 Jan + 3 months = 30 Apr (Thu); + 4 months = 30 Aug (Sun) -> Fri 28 Aug;
    # 28 Aug + 4 months = 28 Dec (substitute Boxing Day) -> Thu 24 Dec.
    assert [r.at.date() for r in reviews] == [
        dt.date(2026, 4, 30), dt.date(2026, 8, 28), dt.date(2026, 12, 24)
    ]


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


def test_overdue() -> None:
    due = due_after(at("2026-11-20T15:00"), Timescale(72, "hours", True, "test"))
    assert due is not None
    assert not due.is_overdue(at("2026-11-23T15:00"))
    assert due.is_overdue(at("2026-11-23T15:01"))
