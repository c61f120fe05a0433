"""Forms for sending a child's file, accepting one, withdrawing it, and the school's term
dates."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..date_input import GovDateField
from ..govuk_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from ..incidents.forms import TEXT_MAX


class TransferForm(FlaskForm):  # type: ignore[misc]
    school = RadioField("Which school is the child moving to?", choices=[],
                        widget=GovRadioInput(),
                        validators=[InputRequired("Choose the school the child is moving to")])
    moved_on = GovDateField(
        "The day the child left or moved", what="The day the child moved",
        description="The 5 school days to send the file count from this day. "
                    "For example, 27 11 2026",
        validators=[InputRequired("Enter the day the child left or moved")])
    submit = SubmitField("Check what will be sent", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    school = HiddenField()
    moved_day = HiddenField()
    moved_month = HiddenField()
    moved_year = HiddenField()
    digest = HiddenField()
    submit = SubmitField("Send the file", widget=GovSubmitInput())


class AcceptForm(FlaskForm):  # type: ignore[misc]
    match = RadioField("Which pupil of your school is this?", choices=[],
                       widget=GovRadioInput(),
                       validators=[InputRequired("Choose the pupil, or add the child")])
    submit = SubmitField("Accept the file", widget=GovSubmitInput())


class TermForm(FlaskForm):  # type: ignore[misc]
    starts_on = GovDateField("First day of term", what="The first day of term",
                             description="For example, 2 9 2026",
                             validators=[InputRequired("Enter the first day of term")])
    ends_on = GovDateField("Last day of term", what="The last day of term",
                           validators=[InputRequired("Enter the last day of term")])
    half_term_starts = GovDateField("First day of the half-term holiday",
                                    what="The first day of the half-term",
                                    description="Leave blank if the term has no half-term",
                                    validators=[Optional()])
    half_term_ends = GovDateField("Last day of the half-term holiday",
                                  what="The last day of the half-term",
                                  validators=[Optional()])
    submit = SubmitField("Add the term", widget=GovSubmitInput())


class WithdrawForm(FlaskForm):  # type: ignore[misc]
    reasons = TextAreaField(
        "Why are you withdrawing it?",
        description="For example, it was sent to the wrong school, or the child is not moving "
                    "there after all",
        widget=GovTextArea(), validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Withdraw the file", widget=GovSubmitInput())
