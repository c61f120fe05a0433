"""The DSL's decision on a waiting account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..form_filters import strip_without_nul as _strip
from ..govuk_widgets import GovSubmitInput, GovTextArea


class DeclineForm(FlaskForm):  # type: ignore[misc]
    reasons = TextAreaField(
        "Why are you declining this account?",
        description="The portal's administrators will read this. Do not name any child.",
        widget=GovTextArea(), filters=[_strip],
        validators=[InputRequired("Enter your reasons for declining"),
                    Length(max=2000, message="Reasons must be 2000 characters or fewer")],
    )
    submit = SubmitField("Decline account", widget=GovSubmitInput())
