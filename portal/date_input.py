"""The GOV.UK date input (day, month and year boxes), read one way for every form, with GOV.UK's
error wording (design-system.service.gov.uk/components/date-input): "Enter the date it happened"
(nothing typed: the form's own InputRequired message), "The date it happened must include a
month", "The date it happened must be a real date", "The date it happened must include a year of
4 numbers, like 2026".

Digits in any script are read as the digits they are: 2026 typed in full-width digits (U+FF10
to U+FF19, as a Japanese or Chinese keyboard types them), in Arabic-Indic digits or in ordinary
ones is 2026, and is shown back in ordinary digits (`date_parts`). Refusing them would say
"must be a real date" of something that plainly is one, in a box that looks right, and the
person could not see what to change; reading them is what they meant. Only decimal digits are
read this way (`str.isdecimal`): "²" or "½" are no digit of a date, refused as not a real date.

`read_date_parts` is the rule; `GovDateField` the WTForms field for it (used by the incident,
referral, transfer, retention and export forms); the concern form's `DateParts` reads with the
same rule and chooses its own messages for the missing case."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Literal

from wtforms import DateField
from wtforms.validators import StopValidation

from .digits import ordinary_digits
from .govuk_widgets import GovDateInput, planned
from .wording import mid_sentence

Problem = Literal["missing", "incomplete", "invalid", "year"]
_BOXES = ("day", "month", "year")


@dataclass(frozen=True)
class DateReading:
    """What three boxes say: the date, or why not (`problem`; for "incomplete", the boxes left
    empty, in order; `wrong`, the boxes that are wrong, in order: the whole date when the
    problem is not in one box)."""

    date: dt.date | None
    problem: Problem | None = None
    empty: tuple[str, ...] = ()
    # Which boxes, not what is wrong: two readings with the same problem are the same reading.
    wrong: tuple[str, ...] = dataclass_field(default=_BOXES, compare=False)

    def message(self, what: str) -> str:
        """GOV.UK's error message about `what` ("The date it happened"): "Enter the date it
        happened" when nothing was typed (a form may say that in its own words instead)."""
        if self.problem == "incomplete":
            return f"{what} must include a {' and '.join(self.empty)}"
        if self.problem == "invalid":
            return f"{what} must be a real date"
        if self.problem == "year":
            # GOV.UK's "Year must include 4 numbers", naming the date: a page may have several.
            return f"{what} must include a year of 4 numbers, like 2026"
        if self.problem == "missing":
            return f"Enter {mid_sentence(what)}"
        raise ValueError("the date was read: there is no problem to describe")


def date_parts(values: list[Any] | None) -> list[str]:
    """The three boxes as typed (spaces around them dropped, digits of any script written as
    ordinary digits: full-width 2026 is "2026"); missing boxes empty, extra ones ignored (a
    tampered post is read, never a crash)."""
    parts = [ordinary_digits(str(v).strip()) for v in (values or [])][:3]
    return parts + [""] * (3 - len(parts))


def read_date_parts(parts: list[str]) -> DateReading:
    """Day, month and year as typed -> the date, or the problem with them."""
    if not any(parts):
        return DateReading(None, "missing")
    empty = tuple(box for box, part in zip(_BOXES, parts, strict=True) if not part)
    if empty:
        return DateReading(None, "incomplete", empty, empty)
    # isdecimal, not isdigit: "²" is a digit to Python but not a number int() reads.
    not_numbers = tuple(box for box, part in zip(_BOXES, parts, strict=True)
                        if not part.isdecimal())
    if not_numbers:
        return DateReading(None, "invalid", wrong=not_numbers)
    if len(parts[2]) != 4:
        return DateReading(None, "year", wrong=("year",))
    day, month, year = (int(part) for part in parts)
    if not 1 <= month <= 12:
        return DateReading(None, "invalid", wrong=("month",))
    try:
        return DateReading(dt.date(year, month, day))
    except (ValueError, OverflowError):  # OverflowError: a number too big for a C int
        # The month and year are right (checked above): the day is not in that month.
        return DateReading(None, "invalid", wrong=("day",))


def wrong_boxes(field: Any) -> tuple[str, ...]:
    """The boxes of a date field with an error that are wrong, in order: the boxes GOV.UK
    outlines in red, the first of them the error summary's link. The whole date when what was
    typed reads as a date (a later check failed, e.g. a date in the future) or nothing was
    posted."""
    raw = getattr(field, "raw_data", None)
    if not raw:
        return _BOXES
    reading = read_date_parts(date_parts(raw))
    return reading.wrong if reading.problem is not None else _BOXES


def date_error_href(field: Any) -> str:
    """The error summary's link for a date field: its first wrong box (GOV.UK: "link to the
    first field that has an error"), so the link moves focus into that box."""
    return f"#{field.name}-{wrong_boxes(field)[0]}"


def is_date_field(field: Any) -> bool:
    """A GOV.UK date input (three boxes, ids `<name>-day`, `-month`, `-year`)."""
    return isinstance(getattr(field, "widget", None), GovDateInput)


@planned
class DateBoxes(GovDateInput):  # type: ignore[misc]
    """The GOV.UK date input with only the wrong boxes outlined in red and marked
    `aria-invalid="true"` for screen readers (`wrong_boxes`), as GOV.UK Frontend's date input
    does; the library's widget outlines all three whatever is wrong and marks none. Without
    an error it maps as GovDateInput does: its plans are used then (`govuk_widgets.PlannedDate`)."""

    def map_gov_params(self, field: Any, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = super().map_gov_params(field, **kwargs)
        if not field.errors:
            return params
        wrong = wrong_boxes(field)
        for item in params.get("items") or []:
            box = str(item.get("id", "")).rsplit("-", 1)[-1]
            classes = [c for c in str(item.get("classes", "")).split()
                       if c != "govuk-input--error"]
            if box in wrong:
                classes.append("govuk-input--error")
            item["classes"] = " ".join(classes)
            attributes = {k: v for k, v in dict(item.get("attributes") or {}).items()
                          if k != "aria-invalid"}
            if box in wrong:
                attributes["aria-invalid"] = "true"
            item["attributes"] = attributes
        return params


class GovDateField(DateField):  # type: ignore[misc]
    """A GOV.UK date input. `what` names the date in its messages ("The date it happened");
    make it required with InputRequired("Enter the date it happened"), or Optional().

    What was typed is shown back as typed (`raw_data`, always three boxes); a date that cannot
    be read gets its one message, and no other check runs on it."""

    data: dt.date | None

    def __init__(self, label: str | None = None, validators: Any = None, *,
                 what: str = "The date", **kwargs: Any) -> None:
        super().__init__(label, validators, format="%d %m %Y", widget=DateBoxes(), **kwargs)
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
