"""Forms for consultation calls, handover and the advice team's answers (GOV.UK widgets)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..date_input import GovDateField
from ..form_filters import strip as _strip
from ..govuk_widgets import (
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from ..names import full_name
from ..services.packet import AGREE_ANSWERS
from ..services.referrals import MILESTONES, OUTCOMES
from ..typed_time import at, check_time


def combine(day: dt.date, time_text: str) -> dt.datetime:
    """Naive local datetime from a date and a time the form has validated (`check_time`)."""
    at_local = at(day, time_text)
    assert at_local is not None  # validated by the form
    return at_local


def choices(mapping: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in mapping.items()]


class CallForm(FlaskForm):  # type: ignore[misc]
    authority = RadioField("Which line did you call?", widget=GovRadioInput(), choices=[],
                           validators=[InputRequired("Choose the line you called")])
    called_on = GovDateField("Date of the call", what="The date of the call",
                             description="For example, 27 11 2026",
                             validators=[InputRequired("Enter the date of the call")])
    called_time = StringField(
        "Time of the call", description="24-hour clock, for example 16:45",
        widget=GovTextInput(), filters=[_strip],
        validators=[InputRequired("Enter the time of the call")])
    spoke_to = StringField("Who did you speak to?", description="Their name and role",
                           widget=GovTextInput(), filters=[_strip],
                           validators=[InputRequired("Enter who you spoke to"),
                                       Length(max=200)])
    advice = TextAreaField("What advice were you given?", widget=GovTextArea(), filters=[_strip],
                           validators=[InputRequired("Enter the advice you were given"),
                                       Length(max=10000)])
    decision = TextAreaField("What did you decide?", widget=GovTextArea(), filters=[_strip],
                             validators=[InputRequired("Enter what you decided"),
                                         Length(max=10000)])
    reasons = TextAreaField(
        "Why did you decide this?",
        description="Every decision needs its reasons. Never describe abusive behaviour as "
                    "banter, a joke or part of growing up.",
        widget=GovTextArea(), filters=[_strip],
        validators=[InputRequired("Enter the reasons for the decision"), Length(max=10000)])
    submit = SubmitField("Save the call", widget=GovSubmitInput())

    def validate_called_time(self, field: Any) -> None:
        check_time(field, "16:45")


class HandOverForm(FlaskForm):  # type: ignore[misc]
    """What the DSL adds to a referral (issue 14). The first post previews it (`step`
    "preview"), the second, from the preview, confirms it (`step` "confirm", with the digest of
    what was previewed). Each child's parents' agreement is added per child
    (`hand_over_form`)."""

    role = StringField(
        "Your role", description="For example, Designated safeguarding lead and deputy head",
        widget=GovTextInput(), filters=[_strip],
        validators=[InputRequired("Enter your role"), Length(max=120)],
        render_kw={"autocomplete": "organization-title"})
    phone = StringField(
        "Your direct phone number", description="A number that reaches you, not the school "
        "office", widget=GovTextInput(), filters=[_strip],
        validators=[InputRequired("Enter your direct phone number"), Length(max=40)],
        render_kw={"autocomplete": "tel", "type": "tel"})
    availability = StringField(
        "When can the authority reach you?",
        description="For example, Monday to Friday, 8am to 5pm; the deputy DSL otherwise",
        widget=GovTextInput(), filters=[_strip],
        validators=[InputRequired("Enter when the authority can reach you"), Length(max=300)])
    covering_note = TextAreaField(
        "Covering note (optional)",
        description="Anything the authority should read first: what you are asking for, what "
                    "is urgent, what the family knows",
        widget=GovTextArea(), filters=[_strip], validators=[Length(max=5000)])
    files = SelectMultipleField("Files to send with the referral", choices=[],
                                validate_choice=True)
    step = HiddenField(default="preview")
    previewed = HiddenField()
    submit = SubmitField("Preview the referral", widget=GovSubmitInput())


def hand_over_form(refs: list[str]) -> type[HandOverForm]:
    """`HandOverForm` with, for each child (by reference), whether their parents or carers
    agree to the referral and, unless they do, why."""
    fields: dict[str, Any] = {}
    for ref in refs:
        fields[f"agree_{ref}"] = RadioField(
            "Do their parents or carers agree to the referral?", widget=GovRadioInput(),
            choices=choices(AGREE_ANSWERS),
            validators=[InputRequired("Choose whether their parents or carers agree")])
        fields[f"agree_why_{ref}"] = TextAreaField(
            "Why not, or why they have not been asked", widget=GovTextArea(),
            filters=[_strip], validators=[Length(max=2000)])
    form_class: type[HandOverForm] = type("HandOverDetailsForm", (HandOverForm,), fields)
    return form_class


# Parents and carers typed by a DSL for a child not on the roll (`roll.kept_by_hand`):
# two, the first the school contacts first. A pupil on the roll has the roll's.
CARER_SLOTS: Final = (("carer1", "first"), ("carer2", "second"))
CARER_PARTS: Final = ("name", "relationship", "responsibility", "phone", "phone2", "email",
                      "address")
# An email address: something, an @, a domain with a dot (a walk: "grace@" went to the authority).
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
# A phone number as people write it: digits, spaces, brackets, hyphens, a leading +.
_PHONE: Final = re.compile(r"\+?[0-9][0-9 ()\-]{5,29}")


def phone_pieces(text: str | None) -> list[str]:
    """The numbers in a phone box (one, or several with commas or semicolons between)."""
    return [piece.strip() for piece in re.split(r"[,;]", text or "") if piece.strip()]


def _yes_no_not_known() -> list[SelectChoice]:
    """The answers of a yes / no / not known question (an interpreter, parental
    responsibility), stored True, False or None."""
    return [SelectChoice("yes", "Yes"), SelectChoice("no", "No"),
            SelectChoice("unknown", "Not known")]


def _carer_fields(prefix: str) -> dict[str, Any]:
    """One parent or carer's boxes, named `prefix`_part."""
    return {
        f"{prefix}_name": StringField(
            "Name", widget=GovTextInput(), filters=[_strip], validators=[Length(max=200)]),
        f"{prefix}_relationship": StringField(
            "Relationship to the child", description="For example, mother, father, grandmother "
            "or foster carer", widget=GovTextInput(), filters=[_strip],
            validators=[Length(max=100)]),
        f"{prefix}_responsibility": RadioField(
            "Do they have parental responsibility?", widget=GovRadioInput(),
            choices=_yes_no_not_known(),
            validators=[Optional()], default="unknown"),
        f"{prefix}_phone": StringField(
            "Phone number", widget=GovTextInput(), filters=[_strip],
            validators=[Length(max=100)]),
        f"{prefix}_phone2": StringField(
            "Another phone number", widget=GovTextInput(), filters=[_strip],
            validators=[Length(max=100)]),
        f"{prefix}_email": StringField(
            "Email address", widget=GovTextInput(), filters=[_strip],
            validators=[Length(max=200)]),
        f"{prefix}_address": TextAreaField(
            "Address", description="Leave blank if it is the child's home address",
            widget=GovTextArea(), filters=[_strip], validators=[Length(max=500)]),
    }


class _ChildDetailsFields(FlaskForm):  # type: ignore[misc]
    """What a multi-agency referral form asks for about a child and the roll may not carry.
    Every field may be left blank: the referral then says "not known"."""

    address = TextAreaField(
        "Home address", description="From the school roll where it has one", widget=GovTextArea(),
        filters=[_strip], validators=[Length(max=500)])
    first_language = StringField(
        "First language", description="For example, English, Polish or British Sign Language",
        widget=GovTextInput(), filters=[_strip], validators=[Length(max=100)])
    interpreter = RadioField(
        "Is an interpreter needed?", widget=GovRadioInput(),
        choices=_yes_no_not_known(),
        validators=[Optional()], default="unknown")
    ethnicity = StringField(
        "Ethnicity", description="As the family describes it, or the school census category",
        widget=GovTextInput(), filters=[_strip], validators=[Length(max=100)])
    religion = StringField(
        "Religion (optional)", description="Only where the family has told the school",
        widget=GovTextInput(), filters=[_strip], validators=[Length(max=100)])
    gp = TextAreaField(
        "GP", description="The doctor's name, the practice and its phone number",
        widget=GovTextArea(), filters=[_strip], validators=[Length(max=500)])
    other_agencies = TextAreaField(
        "Other agencies already involved",
        description="One a line, with a contact where you have one, for example 'Early help: "
                    "Sam Worker, 01234 567890'. Write 'None known' if there are none",
        widget=GovTextArea(), filters=[_strip], validators=[Length(max=2000)])
    submit = SubmitField("Save the child's details", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        for prefix, ordinal in CARER_SLOTS:
            typed = [getattr(self, f"{prefix}_{part}").data for part in CARER_PARTS
                     if part != "responsibility"]
            name = getattr(self, f"{prefix}_name")
            if any(typed) and not name.data:
                name.errors.append(f"Enter the name of the {ordinal} parent or carer, or "
                                   "clear their other boxes")
                ok = False
            for part, which in (("phone", "phone number"), ("phone2", "other phone number")):
                phone = getattr(self, f"{prefix}_{part}")
                if any(not _PHONE.fullmatch(piece) for piece in phone_pieces(phone.data)):
                    phone.errors.append(f"Enter the {ordinal} parent or carer's {which}, like "
                                        "01632 960 001, 07700 900 982 or +44 808 157 0192")
                    ok = False
            email = getattr(self, f"{prefix}_email")
            if email.data and not _EMAIL.fullmatch(email.data):
                email.errors.append(f"Enter the {ordinal} parent or carer's email address in "
                                    "the correct format, like name@example.com")
                ok = False
        return ok


ChildDetailsForm: Final[type[_ChildDetailsFields]] = type(
    "ChildDetailsForm", (_ChildDetailsFields,),
    {name: field for prefix, _ in CARER_SLOTS
     for name, field in _carer_fields(prefix).items()})


class MoreInformationForm(FlaskForm):  # type: ignore[misc]
    """More information about a referral already sent. What is required, and how long it may
    be, is the service's rule (`services.referral_updates.send_update`)."""

    text = TextAreaField(
        "What should the local authority know?",
        description="For example, a parent's answer that has changed, or something new a child "
                    "said. It goes to the authority's advisers with this referral, and into "
                    "each child's chronology here.",
        widget=GovTextArea(), filters=[_strip])
    submit = SubmitField("Send to the local authority", widget=GovSubmitInput())


class AcknowledgeForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField("Acknowledge", widget=GovSubmitInput())


EVERY_CHILD = "every"


def child_choices(packet: dict[str, Any]) -> list[SelectChoice]:
    """"Every child in this referral", then each child the packet names."""
    out = [SelectChoice(EVERY_CHILD, "Every child in this referral")]
    for child in packet.get("children") or []:
        name = " ".join(full_name(child.get("given_name"), child.get("family_name")).split())
        out.append(SelectChoice(str(child.get("ref")), f"{name} ({child.get('ref')})"))
    return out


class AnswerForm(FlaskForm):  # type: ignore[misc]
    outcome = RadioField("Advice or decision", widget=GovRadioInput(),
                         choices=choices(OUTCOMES),
                         validators=[InputRequired("Choose the advice or decision")])
    # Which child the answer is for: choices are the referral's children (set by the view).
    # Nothing chosen before the adviser chooses (a choice made for them recorded an answer for
    # every child, over each child's own: second walk). `child_asked` says the page asked: a
    # form sent from a page before the question existed is for every child, as it was.
    child = RadioField("Which child is this for?", widget=GovRadioInput(),
                       validators=[Optional()], validate_choice=False)
    child_asked = HiddenField()  # "1" on every page that asks (the view sets it)
    reasons = TextAreaField(
        "Advice and reasons",
        description="What the school should do, and why you decided this. For no further "
                    "action, the reasons are required.",
        widget=GovTextArea(), filters=[_strip],
        validators=[InputRequired("Enter the advice and the reasons"), Length(max=10000)])
    strategy_meeting_on = GovDateField(
        "Date of the strategy meeting", description="Only for a strategy meeting. For example, "
        "30 11 2026", what="The date of the strategy meeting", validators=[Optional()])
    strategy_meeting_time = StringField(
        "Time of the strategy meeting", description="24-hour clock, for example 10:00",
        widget=GovTextInput(), filters=[_strip],
        validators=[Optional()])
    social_worker = StringField("Allocated social worker", widget=GovTextInput(),
                                filters=[_strip], validators=[Length(max=200)])
    social_worker_harmed = StringField("Social worker for the child harmed",
                                       widget=GovTextInput(), filters=[_strip],
                                       validators=[Length(max=200)])
    social_worker_harmed_others = StringField("Social worker for the child who harmed",
                                              widget=GovTextInput(), filters=[_strip],
                                              validators=[Length(max=200)])
    other_workers = StringField("Other allocated workers",
                                description="For example an early help worker, with their role",
                                widget=GovTextInput(), filters=[_strip],
                                validators=[Length(max=500)])
    submit = SubmitField("Send the answer to the school", widget=GovSubmitInput())

    def validate_strategy_meeting_time(self, field: Any) -> None:
        check_time(field, "10:00")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        if self.outcome.data == "strategy_meeting":
            if not self.strategy_meeting_on.data and not self.strategy_meeting_on.errors:
                self.strategy_meeting_on.errors = [
                    *self.strategy_meeting_on.errors,
                    "Enter the date of the strategy meeting"]
                ok = False
            if not self.strategy_meeting_time.data and not self.strategy_meeting_time.errors:
                self.strategy_meeting_time.errors = [
                    *self.strategy_meeting_time.errors,
                    "Enter the time of the strategy meeting"]
                ok = False
        return ok


class MilestoneForm(FlaskForm):  # type: ignore[misc]
    kind = RadioField("What happened?", widget=GovRadioInput(), choices=choices(MILESTONES),
                      description="Only what can happen next is offered",
                      validators=[InputRequired("Choose what happened")])
    note = TextAreaField("Notes", description="Required when no conference is needed: why",
                         widget=GovTextArea(), filters=[_strip], validators=[Length(max=5000)])
    # How many responses the page showed (services.referrals.record_milestone's `seen`).
    seen = HiddenField()
    submit = SubmitField("Record", widget=GovSubmitInput())
