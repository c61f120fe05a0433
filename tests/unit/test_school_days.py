"""The 5-school-day clock for sending a child protection file (portal/rules/school_days.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.rules.school_days import (
    Term,
    is_overdue,
    is_school_day,
    school_days_left,
    term_problems,
    transfer_due_on,
)

D = dt.date
# Summer term 2026 with a half-term in the week before the Spring Bank Holiday (25 May).
SUMMER = Term(D(2026, 4, 13), D(2026, 7, 22), D(2026, 5, 18), D(2026, 5, 22))
AUTUMN = Term(D(2026, 9, 2), D(2026, 12, 18), D(2026, 10, 26), D(2026, 10, 30))
TERMS = [SUMMER, AUTUMN]


def test_in_term_five_school_days_after_the_move() -> None:
    # Monday 8 June: Tuesday to Friday, then Monday 15 June.
    assert transfer_due_on(D(2026, 6, 8), TERMS) == D(2026, 6, 15)


def test_across_a_half_term_and_a_bank_holiday() -> None:
    # Thursday 14 May: Friday 15 (1), half-term 18-22, Monday 25 bank holiday, then
    # Tuesday 26 (2) ... Friday 29 May (5).
    assert transfer_due_on(D(2026, 5, 14), TERMS) == D(2026, 5, 29)
    # Without the half-term, or without the bank holiday, the day would differ.
    no_half_term = [Term(SUMMER.starts_on, SUMMER.ends_on), AUTUMN]
    assert transfer_due_on(D(2026, 5, 14), no_half_term) == D(2026, 5, 21)
    assert transfer_due_on(D(2026, 5, 14), TERMS, bank_holiday=lambda d: False) == D(2026, 5, 28)


def test_moved_in_the_holidays_due_on_the_fifth_day_of_the_new_term() -> None:
    # Term starts Wednesday 2 September: 2, 3, 4, 7, 8.
    assert transfer_due_on(D(2026, 8, 1), TERMS) == D(2026, 9, 8)
    # Moved on the last day of the summer term: the same.
    assert transfer_due_on(D(2026, 7, 22), TERMS) == D(2026, 9, 8)


def test_without_term_dates_working_days_count() -> None:
    # Thursday 24 December 2026: Christmas, Boxing Day (observed 28th) are not counted.
    assert transfer_due_on(D(2026, 12, 24), []) == D(2027, 1, 5)


def test_after_the_last_term_entered_days_still_count() -> None:
    assert is_school_day(D(2027, 1, 6), TERMS)
    assert not is_school_day(D(2026, 8, 3), TERMS)  # summer holidays, between two terms
    assert not is_school_day(D(2026, 10, 27), TERMS)  # half-term
    assert not is_school_day(D(2026, 10, 31), TERMS)  # a Saturday


def test_overdue_only_after_the_last_day() -> None:
    due = D(2026, 5, 29)
    assert not is_overdue(D(2026, 5, 29), due)
    assert is_overdue(D(2026, 6, 1), due)
    assert school_days_left(D(2026, 5, 14), due, TERMS) == 5
    assert school_days_left(D(2026, 5, 27), due, TERMS) == 2
    assert school_days_left(D(2026, 6, 1), due, TERMS) == 0


@pytest.mark.parametrize(("term", "field"), [
    (Term(D(2026, 7, 22), D(2026, 4, 13)), "ends_on"),
    (Term(D(2026, 4, 13), D(2026, 7, 22), D(2026, 5, 18), None), "half_term_ends"),
    (Term(D(2026, 4, 13), D(2026, 7, 22), D(2026, 5, 22), D(2026, 5, 18)), "half_term_ends"),
    (Term(D(2026, 4, 13), D(2026, 7, 22), D(2026, 8, 1), D(2026, 8, 5)), "half_term_starts"),
])
def test_term_problems(term: Term, field: str) -> None:
    assert [f for f, _ in term_problems(term)] == [field]


def test_a_good_term_has_no_problems() -> None:
    assert term_problems(SUMMER) == []
