"""The one way a service says no: ``Refused``, carrying one or more ``Problem``s.

Pure (no Flask, no database): services raise it, views show it with
``portal.form_problems.show_problems`` (each problem beside its question, the user's input kept),
CLI commands print its ``message``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

T = TypeVar("T")


class Fix(NamedTuple):
    """Where a problem that belongs to no field of the form is put right: a step (a form
    elsewhere, such as a child's words or a decision) and what it is about (a child's id, a
    route's code; "" for the record as a whole). A view turns it into a link."""

    step: str
    about: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an operation was refused: which rule ("" when none has a name), which form
    field (None when it belongs to no field), the message shown to the user, and where it is
    put right when that is another form (`Fix`)."""

    rule: str
    field: str | None
    message: str
    fix: Fix | None = None


class Refused(Exception):
    """An operation refused by a rule. ``problems`` holds one or more; each is a ``Problem``, or
    a message (which then gets ``field`` and ``rule``):

        raise Refused("Enter the person's name", field="display_name")
        raise Refused(Problem("R1", None, "..."), Problem("R4", "route", "..."))
    """

    def __init__(self, *problems: Problem | str, field: str | None = None, rule: str = "") -> None:
        listed = tuple(p if isinstance(p, Problem) else Problem(rule, field, p) for p in problems)
        if not listed:
            raise ValueError("a refusal needs at least one problem")
        super().__init__("; ".join(p.message for p in listed))
        self.problems: tuple[Problem, ...] = listed

    @property
    def rule(self) -> str:
        return self.problems[0].rule

    @property
    def message(self) -> str:
        return self.problems[0].message

    @property
    def field(self) -> str | None:
        return self.problems[0].field


class Gathered:
    """Several independent checks, every problem kept: each check runs even when an earlier one
    was refused, so a form shows all its problems at once, not one a submit.

        found = Gathered()
        reasons = found.check(lambda: check_reasons(text), "")
        what = found.check(lambda: check_not_dismissive(what, field="what"), None)
        found.raise_any()  # one Refused with every problem, or nothing
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def check(self, run: Callable[[], T], instead: T) -> T:
        """`run()`'s result; refused, its problems are kept and `instead` is returned."""
        try:
            return run()
        except Refused as error:
            self.problems.extend(error.problems)
            return instead

    def add(self, *problems: Problem) -> None:
        self.problems.extend(problems)

    def raise_any(self) -> None:
        if self.problems:
            raise Refused(*self.problems)
