"""One refusal type (portal.refusal.Refused) and the one helper that shows it on a form."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask

from portal.form_problems import show_problems
from portal.refusal import Problem, Refused


def test_a_refusal_of_one_message_names_its_field() -> None:
    refused = Refused("Enter the person's name", field="display_name")
    assert refused.message == "Enter the person's name"
    assert refused.field == "display_name"
    assert refused.problems == (Problem("", "display_name", "Enter the person's name"),)
    assert str(refused) == "Enter the person's name"


def test_a_refusal_carries_every_problem() -> None:
    refused = Refused(Problem("R1", None, "Decide for every child"),
                      Problem("R4", "route", "Hand over the referral"))
    assert refused.rule == "R1" and refused.field is None
    assert [p.message for p in refused.problems] == ["Decide for every child",
                                                     "Hand over the referral"]
    assert str(refused) == "Decide for every child; Hand over the referral"


def test_a_refusal_needs_a_problem() -> None:
    with pytest.raises(ValueError):
        Refused()


def _form(**fields: list[str]) -> SimpleNamespace:
    return SimpleNamespace(_errors={}, **{n: SimpleNamespace(errors=e) for n, e in fields.items()})


def test_problems_go_beside_their_questions_and_the_rest_on_the_page(app: Flask) -> None:
    form = _form(reasons=["Already wrong"], route=[])
    page = show_problems(form, Refused(
        Problem("R2", "reasons", "Enter the reasons"), Problem("R1", None, "Decide for each child"),
        Problem("R4", "not_on_this_form", "Hand it over")))
    assert form.reasons.errors == ["Already wrong", "Enter the reasons"]
    assert form.route.errors == []
    assert page == ["Decide for each child", "Hand it over"]
    assert form._errors is None  # the form recomputes its errors


def test_a_default_question_takes_what_belongs_to_no_question_here(app: Flask) -> None:
    form = _form(email=[], role=[])
    page = show_problems(form, Refused("Someone else has this address", field="address"),
                         default="email")
    assert page == []
    assert form.email.errors == ["Someone else has this address"]
