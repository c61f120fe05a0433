"""The retention schedule (portal/rules/retention.py): pure, so every date is given."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.rules import retention as r

TODAY = dt.date(2026, 11, 30)


def facts(**kw: object) -> r.FileFacts:
    base: dict[str, object] = {"date_of_birth": dt.date(2001, 3, 14), "has_incident": True,
                               "has_concern": True, "last_record_on": dt.date(2016, 5, 2)}
    base.update(kw)
    return r.FileFacts(**base)  # type: ignore[arg-type]


def test_child_protection_file_is_reviewed_25_years_after_birth() -> None:
    found = r.schedule(facts())
    assert found == r.Schedule(r.CHILD_PROTECTION_FILE, dt.date(2026, 3, 14),
                               "25 years after the child's date of birth")
    assert r.is_due(facts(), TODAY)
    assert not r.is_due(facts(date_of_birth=dt.date(2002, 3, 14)), TODAY)
    assert r.is_due(facts(date_of_birth=dt.date(2001, 11, 30)), TODAY)  # the day itself


def test_born_on_29_february_is_due_on_1_march() -> None:
    assert r.schedule(facts(date_of_birth=dt.date(2004, 2, 29))).review_on == dt.date(2029, 3, 1)


def test_without_a_date_of_birth_25_years_after_the_last_record() -> None:
    found = r.schedule(facts(date_of_birth=None))
    assert found is not None and found.review_on == dt.date(2041, 5, 2)
    assert "no date of birth" in found.basis


def test_concerns_that_led_to_nothing_follow_the_school_setting() -> None:
    nfa = facts(has_incident=False, last_record_on=dt.date(2020, 8, 31))
    assert r.schedule(nfa).review_on == dt.date(2026, 8, 31)  # the default, six years
    assert r.schedule(nfa).basis == "6 years after the last concern (the school's setting)"
    assert r.schedule(nfa, nfa_months=18).review_on == dt.date(2022, 2, 28)
    assert r.schedule(nfa, nfa_months=18).basis.startswith("18 months")
    assert r.is_due(nfa, TODAY) and not r.is_due(nfa, TODAY, nfa_months=120)


def test_a_roll_pupil_with_no_concern_has_no_schedule() -> None:
    assert r.schedule(facts(has_incident=False, has_concern=False)) is None
    assert not r.is_due(facts(has_incident=False, has_concern=False), TODAY)


def test_a_keep_decision_sets_the_next_review() -> None:
    kept = facts(kept_until=dt.date(2030, 1, 1))
    assert r.schedule(kept).review_on == dt.date(2030, 1, 1)
    assert not r.is_due(kept, TODAY)
    assert r.is_due(kept, dt.date(2030, 1, 1))


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
    (dt.date(2026, 11, 30), 2, dt.date(2027, 1, 30)),
    (dt.date(2026, 3, 15), -3, dt.date(2025, 12, 15)),
])
def test_add_months(day: dt.date, months: int, expected: dt.date) -> None:
    assert r.add_months(day, months) == expected


def test_keep_requires_reasons_and_a_future_review_date() -> None:
    assert r.keep_problems("Sibling's case still open", dt.date(2027, 11, 30), TODAY) == {}
    problems = r.keep_problems("   ", None, TODAY)
    assert problems == {"reasons": "Enter why the file is being kept",
                        "next_review": "Enter the date of the next review"}
    assert "future" in r.keep_problems("x", TODAY, TODAY)["next_review"]
    assert r.keep_problems("x", dt.date(2036, 12, 1), TODAY)["next_review"] == (
        "The next review must be within 10 years: 30 November 2036 at the latest")
    assert r.keep_problems("x", dt.date(2036, 11, 30), TODAY) == {}


def test_nfa_setting_bounds() -> None:
    assert r.nfa_months_problem(72) is None
    assert r.nfa_months_problem(11) and r.nfa_months_problem(301) and r.nfa_months_problem(None)


def test_a_concern_handed_on_is_a_child_protection_file() -> None:
    """A concern handed to someone outside the school (children's social care, the police,
    the LADO, early help), with no incident: 25 years after birth, not the school's setting."""
    handed = facts(has_incident=False, handed_on=True, last_record_on=dt.date(2018, 1, 10))
    assert r.schedule(handed) == r.Schedule(r.CHILD_PROTECTION_FILE, dt.date(2026, 3, 14),
                                            "25 years after the child's date of birth")
    assert r.schedule(facts(has_incident=False, last_record_on=dt.date(2018, 1, 10))
                      ).record_type == r.CONCERNS_NO_ACTION
