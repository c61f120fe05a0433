"""Administration forms: organisations, the authority directory entry, accounts."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp, ValidationError

from ..form_filters import number_without_spaces
from ..form_filters import strip_without_nul as _strip
from ..govuk_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from ..models import ROLE_LABELS, ROLES
from ..refusal import Refused
from ..rules.directory import WEEKDAYS
from ..services.accounts import WEEKDAY_NAMES, parse_hours


class AuthorityForm(FlaskForm):  # type: ignore[misc]
    directory_code = SelectField(
        "Authority from the directory",
        description="Choose one from the portal's directory, or leave this and enter a new code",
        widget=GovSelect(), choices=[], validate_choice=False,
    )
    code = StringField(
        "New authority code",
        description="Only if the authority is not in the directory: lowercase letters, numbers "
                    "and hyphens, for example north-shire",
        widget=GovTextInput(), filters=[_strip],
        validators=[Optional(), Regexp(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$",
                                       message="Code must be 3 to 40 lowercase letters, "
                                               "numbers or hyphens")],
    )
    name = StringField(
        "Name", description="Leave blank to use the directory's name",
        widget=GovTextInput(), filters=[_strip], validators=[Length(max=200)],
    )
    submit = SubmitField("Add local authority", widget=GovSubmitInput())

    def validate_directory_code(self, field: Any) -> None:
        if field.data and field.data not in {c.value for c in field.choices}:
            raise ValidationError("Choose an authority from the list")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.code.data and not self.directory_code.data:
            self.code.errors = [*list(self.code.errors),
                                "Choose an authority from the directory or enter a new code"]
            return False
        return bool(ok)

    def validate_code(self, field: Any) -> None:
        if field.data and self.directory_code.data:
            raise ValidationError("Choose an authority from the directory or enter a new code, "
                                  "not both")

    def validate_name(self, field: Any) -> None:
        if self.code.data and not field.data:
            raise ValidationError("Enter the local authority's name")


def _hours_ok(form: Any, field: Any) -> None:
    try:
        parse_hours(field.data or "", field.label.text)
    except Refused as exc:
        raise ValidationError(exc.message) from exc


class LineForm(FlaskForm):  # type: ignore[misc]
    """The line name, phone number and weekly hours of an authority's directory entry."""

    line = StringField("Line name", widget=GovTextInput(), filters=[_strip],
                       validators=[InputRequired("Enter the name of the line"),
                                   Length(max=200)])
    phone = StringField(
        "Phone number", widget=GovTextInput(), filters=[_strip],
        validators=[Optional(), Regexp(r"^[0-9 +()-]{6,30}$",
                                       message="Enter a phone number, like 01632 960 001")],
    )
    phone_confirmed = BooleanField("The authority has confirmed this number",
                                   widget=GovCheckboxInput())
    hours_mon = StringField(WEEKDAY_NAMES["mon"], widget=GovTextInput(), filters=[_strip],
                            validators=[_hours_ok])
    hours_tue = StringField(WEEKDAY_NAMES["tue"], widget=GovTextInput(), filters=[_strip],
                            validators=[_hours_ok])
    hours_wed = StringField(WEEKDAY_NAMES["wed"], widget=GovTextInput(), filters=[_strip],
                            validators=[_hours_ok])
    hours_thu = StringField(WEEKDAY_NAMES["thu"], widget=GovTextInput(), filters=[_strip],
                            validators=[_hours_ok])
    hours_fri = StringField(WEEKDAY_NAMES["fri"], widget=GovTextInput(), filters=[_strip],
                            validators=[_hours_ok])
    hours_sat = StringField(WEEKDAY_NAMES["sat"], widget=GovTextInput(), filters=[_strip],
                            validators=[_hours_ok])
    hours_sun = StringField(WEEKDAY_NAMES["sun"], widget=GovTextInput(), filters=[_strip],
                            validators=[_hours_ok])
    hours_confirmed = BooleanField("The authority has confirmed these hours",
                                   widget=GovCheckboxInput())
    submit = SubmitField("Save", widget=GovSubmitInput())

    def hours(self) -> dict[str, str]:
        return {day: getattr(self, f"hours_{day}").data or "" for day in WEEKDAYS}


def _six_digits(form: Any, field: Any) -> None:
    if not re.fullmatch(r"\d{6}", number_without_spaces(field.data or "")):
        raise ValidationError("URN must be 6 digits")


class SchoolForm(FlaskForm):  # type: ignore[misc]
    name = StringField("School name", widget=GovTextInput(), filters=[_strip],
                       validators=[InputRequired("Enter the school's name"), Length(max=200)])
    # As typed, shown again as typed when refused; read without its spaces (`urn_number`).
    urn = StringField("URN", description="The school's 6-digit unique reference number",
                      widget=GovTextInput(), filters=[_strip],
                      validators=[InputRequired("Enter the school's URN"), _six_digits])
    authority = SelectField("Local authority", widget=GovSelect(), choices=[],
                            validate_choice=False,
                            validators=[InputRequired("Select the school's local authority")])
    submit = SubmitField("Add school", widget=GovSubmitInput())

    def urn_number(self) -> str:
        """The URN as typed without its spaces (" 990 010 ", copied from a letter: a walk)."""
        return str(number_without_spaces(self.urn.data or ""))


class UserForm(FlaskForm):  # type: ignore[misc]
    email = StringField("Email address", widget=GovTextInput(), filters=[_strip],
                        validators=[InputRequired("Enter their email address"),
                                    Length(max=254)],
                        render_kw={"type": "email", "spellcheck": "false"})
    display_name = StringField("Full name", widget=GovTextInput(), filters=[_strip],
                               validators=[InputRequired("Enter their full name"),
                                           Length(max=120)])
    role = RadioField("Role", widget=GovRadioInput(),
                      choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES],
                      validate_choice=False,
                      validators=[InputRequired("Select a role"),
                                  AnyOf(ROLES, message="Select a role")])
    school = SelectField("School", description="For members of staff and designated "
                         "safeguarding leads", widget=GovSelect(), choices=[],
                         validate_choice=False)
    authority = SelectField("Local authority", description="For local authority advisers",
                            widget=GovSelect(), choices=[], validate_choice=False)
    # No password: the person is emailed a one-time link to choose their own (docs/security.md).
    submit = SubmitField("Create account and send set-up link", widget=GovSubmitInput())

    def validate_school(self, field: Any) -> None:
        if self.role.data in ("staff", "dsl") and not field.data:
            raise ValidationError("Select the school")

    def validate_authority(self, field: Any) -> None:
        if self.role.data == "la_adviser" and not field.data:
            raise ValidationError("Select the local authority")


class RoleForm(FlaskForm):  # type: ignore[misc]
    """Staff <-> designated safeguarding lead, within the account's school."""

    role = RadioField("New role", widget=GovRadioInput(),
                      choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ("staff", "dsl")],
                      validate_choice=False,
                      validators=[InputRequired("Select a role"),
                                  AnyOf(("staff", "dsl"), message="Select a role")])
    submit = SubmitField("Change role", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """The form on a confirmation page ("Disable account", "Reset authenticator app"): the
    action runs only when this came back, so a POST from anywhere else asks first."""

    # No default: a POST without it must not count as confirmed (the page writes "yes").
    confirm = HiddenField(validators=[AnyOf(("yes",))])
