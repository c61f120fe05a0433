"""The "raise a concern" form: GOV.UK widgets, GOV.UK error wording, plain-word questions.

One page, three buttons besides "Send": "Find child" (exact name search), "Add child" (a child
not on the school's list) and "Save and continue later". Each checks only what it needs, so
"Find child" never complains that the narrative is empty; "Send" checks everything.

The form is always built from plain field data (the post, or the saved draft), never from
`request.form` directly, so the same code renders a post, a draft and a rescued page. CSRF is
checked for every POST by CSRFProtect (portal.extensions); the template writes the token itself.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Final

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from .. import clock, names
from ..children.forms import NAME_HINT
from ..date_input import DateBoxes, DateReading, date_parts, read_date_parts
from ..form_filters import strip as _strip
from ..govuk_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from ..models import Child
from ..rules.clock_words import day_words
from ..services.concerns import (
    DRAFT_LIST_FIELDS,
    DRAFT_TEXT_FIELDS,
    ConcernInput,
    DraftFields,
    NewChild,
)

MAX_NARRATIVE: Final = 200_000
MAX_SHORT: Final = 500
MAX_NAME: Final = 100

YES_NO: Final = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
NO_CHILD = "Select a child, or add a child who is not on the list"
CHILD_WORDS_REQUIRED = "Enter the child's own words, or tell us why you could not record them"


class DateParts(Field):  # type: ignore[misc]
    """Day, month and year as three inputs of the same name (GOV.UK date input), read by the
    portal's one rule (`portal.date_input.read_date_parts`).

    Keeps exactly what was typed (`raw_data`, three strings) so a wrong date is shown back as
    typed; `data` is the date, or None with `reading.problem` set to "missing", "incomplete",
    "invalid" or "year" (`reading.message(what)` says it in GOV.UK's words). The form chooses
    what to say when nothing was typed (`problem`, "missing")."""

    widget = DateBoxes()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            self.raw_data = None  # not posted: the widget shows `data` (the default)
            return
        self.raw_data = date_parts(valuelist)
        self.reading = read_date_parts(self.raw_data)
        self.problem: str | None = self.reading.problem
        self.data = self.reading.date

    def process_data(self, value: Any) -> None:
        self.reading = DateReading(value, None if value else "missing")
        self.problem = self.reading.problem
        self.data = value

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, dt.date) else ""


def _submit(label: str, *classes: str) -> SubmitField:
    return SubmitField(label, widget=GovSubmitInput(),
                       render_kw={"params": {"classes": " ".join(classes)}} if classes else None)


STAFF_SEARCH_HINT: Final = ("Type their first name and family name. Capitals and accents do not "
                             "matter.")
DSL_SEARCH_HINT: Final = NAME_HINT  # a DSL finds any child of the school


class ConcernForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False  # CSRFProtect checks every POST before the view runs

    # Its search box: how a child was found, not what was said (`portal.once`: the same concern
    # sent again after finding the child by other words is still the same concern).
    search_boxes: ClassVar[frozenset[str]] = frozenset({"child_search"})

    # Which child or children
    child_search = StringField(
        "Find a child by name",
        description=STAFF_SEARCH_HINT,
        widget=GovTextInput(), filters=[_strip],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    find = _submit("Find child", "govuk-button--secondary")
    child_ids = SelectMultipleField(
        "Children in this concern", description="Tick each child involved",
        widget=GovCheckboxesInput(), choices=[], validate_choice=False,
    )
    new_given = StringField("Given name", widget=GovTextInput(), filters=[_strip],
                            render_kw={"autocomplete": "off", "spellcheck": "false"})
    new_family = StringField("Family name", widget=GovTextInput(), filters=[_strip],
                             render_kw={"autocomplete": "off", "spellcheck": "false"})
    new_dob = DateParts("Date of birth", description="For example, 27 3 2013")
    # (its hint read above the box, apart from it: a walk)
    new_dob_unknown = BooleanField(
        "I do not know their date of birth (you can still send the concern)",
        widget=GovCheckboxInput())
    add_child = _submit("Add child", "govuk-button--secondary")
    new_children = SelectMultipleField(
        "Children you've added", description="Untick a child to take them off this concern",
        widget=GovCheckboxesInput(), choices=[], validate_choice=False,
    )

    # What happened
    what_happened = TextAreaField(
        "What did you see or hear?",
        description="Write down what happened, in your own words.",
        widget=GovTextArea(), render_kw={"spellcheck": "true"},
    )
    child_words = TextAreaField(
        "What did the child say, in their own words?",
        description="Write exactly what they said, even if it is rude or unclear. "
                    "Do not change their words.",
        widget=GovTextArea(), render_kw={"spellcheck": "false"},
    )
    child_words_missing_reason = TextAreaField(
        "If you could not write down what they said, tell us why",
        description="For example, they did not say anything, or you saw it happen but did "
                    "not speak to them",
        widget=GovTextArea(),
    )
    occurred_on = DateParts("When did it happen?",
                            description="For example, 27 3 2026. If you're not sure, give your "
                                        "best guess.",
                            default=clock.today)
    when_text = StringField("What time, roughly? (optional)",
                            description="For example, 10:40, or at lunchtime",
                            widget=GovTextInput(), filters=[_strip])
    where = StringField("Where did it happen? (optional)",
                        description="For example, the changing rooms, the bus stop, or on "
                                    "Snapchat",
                        widget=GovTextInput(), filters=[_strip])
    online = RadioField("Did any of it happen online?",
                        description="Online includes messages, social media, games and video "
                                    "calls",
                        widget=GovRadioInput(), choices=YES_NO,
                        validate_choice=False)
    urgent = RadioField("Is a child in immediate danger now?",
                        widget=GovRadioInput(), choices=YES_NO,
                        validate_choice=False)

    submit = _submit("Send to the safeguarding lead")
    save = _submit("Save and continue later", "govuk-button--secondary")

    # -----------------------------------------------------------------------------------------

    def error(self, field: Field, message: str) -> None:
        field.errors = [*list(field.errors or ()), message]
        self._errors = None  # WTForms caches form.errors

    def set_children(self, known: Iterable[Child], extra: Iterable[Child] = ()) -> None:
        """Checkbox choices: the children already chosen (ticked) and search matches."""
        choices: list[SelectChoice] = []
        seen: set[str] = set()
        for child in [*known, *extra]:
            if str(child.id) not in seen:
                seen.add(str(child.id))
                choices.append(SelectChoice(str(child.id), child_label(child)))
        self.child_ids.choices = choices
        self.child_ids.data = [v for v in (self.child_ids.data or []) if v in seen]
        self.new_children.choices = [
            SelectChoice(value, new_child_label(parsed))
            for value in (self.new_children.data or [])
            if (parsed := parse_new_child(value)) is not None
        ]

    def check_search(self) -> str | None:
        text = self.child_search.data or ""
        if not text:
            self.error(self.child_search, "Enter the child's name to find them")
            return None
        if len(text) > MAX_NAME * 2:
            self.error(self.child_search, "Name must be 200 characters or fewer")
            return None
        return text

    def new_child_typed(self) -> bool:
        return bool(self.new_given.data or self.new_family.data
                    or any(self.new_dob.raw_data or []))

    def check_new_child(self, today: dt.date) -> NewChild | None:
        ok = True
        for field, message in ((self.new_given, "Enter the child's given name"),
                               (self.new_family, "Enter the child's family name")):
            if not field.data:
                self.error(field, message)
                ok = False
            elif len(field.data) > MAX_NAME:
                self.error(field, f"{field.label.text} must be {MAX_NAME} characters or fewer")
                ok = False
        dob: dt.date | None = None
        unknown = bool(self.new_dob_unknown.data)
        problem = getattr(self.new_dob, "problem", "missing")
        if problem == "missing" and unknown:
            dob = None
        elif unknown:  # a date typed and "I do not know" ticked: never guess which is meant
            self.error(self.new_dob, "Enter their date of birth, or select 'I do not know their "
                                     "date of birth', not both")
            ok = False
        elif problem == "missing":
            self.error(self.new_dob, "Enter their date of birth, or select "
                                     "'I do not know their date of birth'")
            ok = False
        elif problem is not None:  # GOV.UK's words: "must include a month", "a real date"
            self.error(self.new_dob, self.new_dob.reading.message("Date of birth"))
            ok = False
        else:
            dob = self.new_dob.data
            if dob is None or dob >= today:
                self.error(self.new_dob, "Date of birth must be in the past")
                ok = False
            elif dob.year < today.year - 30:
                self.error(self.new_dob, "Check the year of their date of birth")
                ok = False
        if not ok:
            return None
        return NewChild(self.new_given.data, self.new_family.data, dob)

    def check_submit(self, known_ids: list[uuid.UUID], today: dt.date) -> ConcernInput | None:
        """Every question, in page order; the service's input, or None with errors set."""
        ok = True
        added = [c for v in (self.new_children.data or []) if (c := parse_new_child(v))]
        typed: NewChild | None = None
        if self.new_child_typed():
            typed = self.check_new_child(today)
            ok = ok and typed is not None
        elif not known_ids and not added:
            self.error(self.child_search, NO_CHILD)
            ok = False
        if typed is not None:
            added.append(typed)
        added = one_of_each(added)

        what = self.what_happened.data or ""
        if not what.strip():
            self.error(self.what_happened, "Enter what you saw or heard")
            ok = False
        elif len(what) > MAX_NARRATIVE:
            self.error(self.what_happened,
                       "What you saw or heard must be 200,000 characters or fewer")
            ok = False
        words = (self.child_words.data or "").strip()
        reason = (self.child_words_missing_reason.data or "").strip()
        if not words and not reason:
            self.error(self.child_words, CHILD_WORDS_REQUIRED)
            ok = False
        for field, name in ((self.child_words, "The child's words"),
                            (self.child_words_missing_reason, "Why you could not record them")):
            if len(field.data or "") > MAX_NARRATIVE:
                self.error(field, f"{name} must be 200,000 characters or fewer")
                ok = False

        problem = getattr(self.occurred_on, "problem", None)
        occurred = self.occurred_on.data
        if problem == "missing":
            self.error(self.occurred_on, "Enter the date it happened")
            ok = False
        elif problem is not None:  # GOV.UK's words: "must include a month", "a real date"
            self.error(self.occurred_on, self.occurred_on.reading.message("The date it happened"))
            ok = False
        elif occurred is None or occurred > today:
            self.error(self.occurred_on, "The date it happened must be today or in the past")
            ok = False
        elif occurred.year < today.year - 30:
            self.error(self.occurred_on, "Check the year it happened")
            ok = False
        for field, name in ((self.when_text, "The time"), (self.where, "Where it happened")):
            if len(field.data or "") > MAX_SHORT:
                self.error(field, f"{name} must be {MAX_SHORT} characters or fewer")
                ok = False
        if self.online.data not in ("yes", "no"):
            self.error(self.online, "Select yes if any of it happened online")
            ok = False
        if self.urgent.data not in ("yes", "no"):
            self.error(self.urgent, "Select yes if a child is in immediate danger now")
            ok = False
        if not ok or occurred is None:
            return None
        return ConcernInput(
            child_ids=tuple(known_ids),
            new_children=tuple(added),
            what_happened=what,
            child_words=words or None,
            child_words_missing_reason=reason or None,
            occurred_on=occurred,
            when_text=self.when_text.data or None,
            where=self.where.data or None,
            online=self.online.data == "yes",
            urgent=self.urgent.data == "yes",
        )


# ---------------------------------------------------------------------------------------------
# Field data <-> form


def posted_fields(form: Any) -> DraftFields:
    """The concern fields of a request's form (a MultiDict), as a draft keeps them."""
    out: DraftFields = {}
    for name in DRAFT_TEXT_FIELDS:
        if name in form:
            out[name] = form.get(name, "")
    for name in DRAFT_LIST_FIELDS:
        if name in form:
            out[name] = form.getlist(name)
    return out


def form_from(fields: Mapping[str, str | list[str]]) -> ConcernForm:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        for item in (value if isinstance(value, list) else [value]):
            pairs.append((name, item))
    return ConcernForm(formdata=MultiDict(pairs))


def child_label(child: Child) -> str:
    """A search match or chosen child: name, reference and year of birth only, and the names
    they were recorded under before (staff who typed "Jon Smyth" were offered "John Smith" with
    no word why, walk 4)."""
    born = f"born {child.dob.year}" if child.dob else "date of birth not known"
    earlier = child.recorded_before
    return (f"{child.full_name} ({child.reference}), {born}"
            + (f", recorded before as {earlier}" if earlier else ""))


def same_new_child(a: NewChild, b: NewChild) -> bool:
    """The same child added twice to one concern (a draft put back, then the child added or
    typed again: a walk made two records): the same name as the school's check for a child
    already known compares names (`names.same_name`: case, accents, apostrophes, hyphens and
    spaces aside, "Zoe Al Hashimi" is "Zoë Al-Hashimi"), and the same date of birth or one
    not known."""
    return (names.same_name((a.given_name, a.family_name), (b.given_name, b.family_name))
            and (a.dob == b.dob or a.dob is None or b.dob is None))


def one_of_each(children: Iterable[NewChild]) -> list[NewChild]:
    """`children` with each child once (`same_new_child`), with their date of birth where
    either time gave it."""
    kept: list[NewChild] = []
    for child in children:
        at = next((i for i, seen in enumerate(kept) if same_new_child(child, seen)), None)
        if at is None:
            kept.append(child)
        elif kept[at].dob is None and child.dob is not None:
            kept[at] = child
    return kept


def new_child_value(child: NewChild) -> str:
    return json.dumps({"g": child.given_name, "f": child.family_name,
                       "d": child.dob.isoformat() if child.dob else None},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def parse_new_child(value: str) -> NewChild | None:
    try:
        data = json.loads(value)
        given, family, born = data["g"], data["f"], data["d"]
        if not (isinstance(given, str) and isinstance(family, str)):
            return None
        given, family = given.strip(), family.strip()
        if not given or not family or len(given) > MAX_NAME or len(family) > MAX_NAME:
            return None
        dob = dt.date.fromisoformat(born) if born is not None else None
    except (ValueError, TypeError, KeyError):
        return None
    return NewChild(given, family, dob)


def new_child_label(child: NewChild) -> str:
    return (f"{names.full_name(child.given_name, child.family_name)} (new to the portal), "
            f"{_born(child)}")


def new_child_name(child: NewChild) -> str:
    """A child typed, as typed: "Zoe O Suilleabhain, born 2 June 2014"."""
    return f"{names.full_name(child.given_name, child.family_name)}, {_born(child)}"


def _born(child: NewChild) -> str:
    return f"born {day_words(child.dob)}" if child.dob else "date of birth not known"
