"""Forms of the retention pages: shape only; the rules are portal/rules/retention.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from ..date_input import GovDateField
from ..govuk_widgets import GovSubmitInput, GovTextArea, GovTextInput

TEXT_MAX = 20000


class KeepForm(FlaskForm):  # type: ignore[misc]
    reasons = TextAreaField(
        "Why the file is being kept", widget=GovTextArea(),
        description="For example, a sibling's case is still open, or the police asked the "
                    "school to keep it",
        validators=[Length(max=TEXT_MAX)])
    next_review = GovDateField(
        "Date of the next review", what="The date of the next review",
        description="Within the next 10 years. For example, 28 11 2027")
    submit = SubmitField("Keep the file", widget=GovSubmitInput())


class DestroyForm(FlaskForm):  # type: ignore[misc]
    # Nothing to type: the page names what goes; the button is the confirmation.
    submit = SubmitField("Destroy this file", widget=GovSubmitInput())


class RetentionSettingsForm(FlaskForm):  # type: ignore[misc]
    nfa_months = IntegerField(
        "Months to keep a file of concerns that led to no further action",
        description="Counted from the last concern; then the file is due for review. From 12 to "
                    "300 months; the portal's default is 72 (six years).",
        widget=GovTextInput(), validators=[Optional()], render_kw={"inputmode": "numeric"},
        invalid_value_message="Enter the number of months as a number, like 72")
    submit = SubmitField("Save", widget=GovSubmitInput())
