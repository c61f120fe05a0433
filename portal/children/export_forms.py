"""Forms for a child's file leaving or reaching the school outside the portal (issue 16):
sending a sealed copy, confirming its receipt, adding a file from the previous school, and a
copy for a subject access request or the police."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
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
    GovCharacterCount,
    GovCheckboxesInput,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from ..services.file_export import BASIS_LABELS
from .forms import file_description, not_a_body_image


def _text(label: str, message: str, *, hint: str = "", max_length: int = 200,
          autocomplete: str = "off") -> Any:
    return StringField(
        label, description=hint, widget=GovTextInput(), filters=[_strip],
        validators=[InputRequired(message),
                    Length(max=max_length,
                           message=f"{label} must be {max_length} characters or fewer")],
        render_kw={"autocomplete": autocomplete, "spellcheck": "false"},
    )


class SealedExportForm(FlaskForm):  # type: ignore[misc]
    receiving_school = _text(
        "Name of the school the file is going to",
        "Enter the name of the school the file is going to",
        hint="For example, Riverside Academy, Leeds. Use this for a school that is not on the "
             "portal")
    submit = SubmitField("Make the sealed file", widget=GovSubmitInput())


class WithdrawExportForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField("Withdraw the sealed file", widget=GovSubmitInput())


class ReceiptForm(FlaskForm):  # type: ignore[misc]
    """The receiving DSL confirms receipt (the receipt link's page: no child detail)."""

    name = _text("Your full name", "Enter your full name", autocomplete="name")
    role = _text("Your role", "Enter your role",
                 hint="For example, Designated safeguarding lead",
                 autocomplete="organization-title")
    school = _text("Your school", "Enter the name of your school", autocomplete="organization")
    submit = SubmitField("Confirm we received the file", widget=GovSubmitInput())


class ManualReceiptForm(FlaskForm):  # type: ignore[misc]
    """The sending DSL records a receipt confirmed another way (a phone call, a letter)."""

    name = _text("Who confirmed receipt", "Enter who confirmed receipt",
                 hint="Their full name")
    role = _text("Their role", "Enter their role",
                 hint="For example, Designated safeguarding lead")
    school = _text("Their school", "Enter the name of their school")
    how = _text("How they confirmed it", "Enter how they confirmed receipt",
                hint="For example, by phone to me, or in a signed letter")
    on = GovDateField("When they confirmed it", what="The day they confirmed it",
                      description="For example, 27 11 2026",
                      validators=[InputRequired("Enter the day they confirmed receipt")])
    submit = SubmitField("Record the receipt", widget=GovSubmitInput())


class ReceivedFileForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        "The file from the previous school",
        description="A PDF, or a photo or scan of the paper file (JPEG, PNG, WebP or HEIC)",
        widget=GovFileInput(),
        validators=[FileRequired("Select the file from the previous school")],
        render_kw={"accept": ".pdf,.jpg,.jpeg,.png,.webp,.heic,application/pdf,image/jpeg,"
                             "image/png,image/webp,image/heic"},
    )
    previous_school = _text("Name of the previous school",
                            "Enter the name of the previous school")
    received_on = GovDateField("When it was received", what="The day it was received",
                               description="For example, 27 11 2026",
                               validators=[InputRequired("Enter the day the file was received")])
    description = file_description("Child protection file, 14 pages")
    confirm = not_a_body_image()
    submit = SubmitField("Add the file", widget=GovSubmitInput())


class DisclosureForm(FlaskForm):  # type: ignore[misc]
    requester = _text("Who asked for the copy", "Enter who asked for the copy",
                      hint="Their name and, for the police, their role, force and reference",
                      max_length=300)
    basis = RadioField(
        "On what basis is it released?", widget=GovRadioInput(),
        choices=[SelectChoice(code, text) for code, text in BASIS_LABELS.items()],
        validators=[InputRequired("Select the basis for releasing the copy")],
    )
    basis_detail = TextAreaField(
        "About the basis (optional, needed for another basis)",
        description="For example, the date of the request, or the court order's details",
        widget=GovCharacterCount(), filters=[_strip],
        validators=[Optional(), Length(max=1000, message="About the basis must be 1,000 "
                                                         "characters or fewer")],
    )
    leave_out = SelectMultipleField(
        "Lines of the chronology to leave out of the copy (optional)",
        description="Tick any line that must be withheld, for example information from "
                    "another agency or that could put someone at risk. Say why below",
        widget=GovCheckboxesInput(), choices=[], validate_choice=False,
    )
    withheld = TextAreaField(
        "What else was withheld, and why (needed when you leave out a line)",
        description="Other children's names are always withheld: each appears as their "
                    "initials and reference number. Say here what else you withheld from the "
                    "copy and why",
        widget=GovCharacterCount(), filters=[_strip],
        validators=[Optional(), Length(max=2000, message="Anything else withheld must be "
                                                         "2,000 characters or fewer")],
    )
    submit = SubmitField("Make the copy and record the disclosure", widget=GovSubmitInput())
