"""The GOV.UK date input (day, month and year boxes), read one way for every form, with GOV.UK's
error wording (design-system.service.gov.uk/components/date-input): "Enter the date it happened"
(nothing typed: the form's own InputRequired message), "The date it happened must include a
month", "The date it happened must be a real date", "Year must include 4 numbers".

`read_date_parts` is the rule; `GovDateField` the WTForms field for it (used by the incident,
referral, transfer, retention and export forms); the concern form's `DateParts` reads with the
same rule and chooses its own messages for the missing case."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from wtforms import DateField
from wtforms.validators import StopValidation

from .govuk_widgets import GovDateInput

Problem = Literal["missing", "incomplete", "invalid", "year"]
_BOXES = ("day", "month", "year")


@dataclass(frozen=True)
class DateReading:
    """What three boxes say: the date, or why not (`problem`; for "incomplete", the boxes left
    empty, in order)."""

    date: dt.date | None
    problem: Problem | None = None
    empty: tuple[str, ...] = ()

    def message(self, what: str) -> str:
        """GOV.UK's error message about `what` ("The date it happened"): "Enter the date it
        happened" when nothing was typed (a form may say that in its own words instead)."""
        if self.problem == "incomplete":
            return f"{what} must include a {' and '.join(self.empty)}"
        if self.problem == "invalid":
            return f"{what} must be a real date"
        if self.problem == "year":
            return "Year must include 4 numbers"
        if self.problem == "missing":
            return f"Enter {what[:1].lower()}{what[1:]}"
        raise ValueError("the date was read: there is no problem to describe")


def date_parts(values: list[Any] | None) -> list[str]:
    """The three boxes as typed (spaces around them dropped); missing boxes empty, extra ones
    ignored (a tampered post is read, never a crash)."""
    parts = [str(v).strip() for v in (values or [])][:3]
    return parts + [""] * (3 - len(parts))


def read_date_parts(parts: list[str]) -> DateReading:
    """Day, month and year as typed -> the date, or the problem with them."""
    if not any(parts):
        return DateReading(None, "missing")
    empty = tuple(box for box, part in zip(_BOXES, parts, strict=True) if not part)
    if empty:
        return DateReading(None, "incomplete", empty)
    if not all(part.isdigit() for part in parts):
        return DateReading(None, "invalid")
    if len(parts[2]) != 4:
        return DateReading(None, "year")
    try:
        return DateReading(dt.date(int(parts[2]), int(parts[1]), int(parts[0])))
    except (ValueError, OverflowError):  # OverflowError: a number too big for a C int
        return DateReading(None, "invalid")


class GovDateField(DateField):  # type: ignore[misc]
    """A GOV.UK date input. `what` names the date in its messages ("The date it happened");
    make it required with InputRequired("Enter the date it happened"), or Optional().

    What was typed is shown back as typed (`raw_data`, always three boxes); a date that cannot
    be read gets its one message, and no other check runs on it."""

    data: dt.date | None

    def __init__(self, label: str | None = None, validators: Any = None, *,
                 what: str = "The date", **kwargs: Any) -> None:
        super().__init__(label, validators, format="%d %m %Y", widget=GovDateInput(), **kwargs)
        self.what = what

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:  # not posted at all (an older page without this field)
            self.raw_data = None
            self.data = None
            return
        self.raw_data = date_parts(valuelist)
        reading = read_date_parts(self.raw_data)
        self.data = reading.date
        if reading.problem not in (None, "missing"):  # missing: InputRequired or Optional say
            raise ValueError(reading.message(self.what))

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # "must be a real date" alone, not also "Enter the date"
            raise StopValidation()
