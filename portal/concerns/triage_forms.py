"""Forms of the triage page (issue 13). Shape only: the rules (R2 reasons, R3 never dismissive,
the other route) are the service's (`portal.services.triage`), whatever the form says.

Every field is on the page at once, so the forms work without JavaScript (no reveal needed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..date_input import GovDateField
from ..form_filters import strip as _strip
from ..govuk_widgets import (
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from ..incidents.forms import TEXT_MAX
from ..rules.vocabulary import (
    CONCERN_CATEGORY_LABELS,
    CONCERN_OUTCOME_LABELS,
    OTHER_ROUTE_LABELS,
)
from ..services.triage import CONCERN_FIELDS
from ..typed_time import at as _at
from ..typed_time import check_time as _check_time


class OutcomeForm(FlaskForm):  # type: ignore[misc]
    """Record a concern without an incident."""

    kind = RadioField("What did you decide?", choices=list(CONCERN_OUTCOME_LABELS.items()),
                      widget=GovRadioInput(), validate_choice=False,
                      validators=[InputRequired("Select what you decided")])
    category = RadioField(
        "If it is a safeguarding concern of another kind, what kind?",
        choices=list(CONCERN_CATEGORY_LABELS.items()), widget=GovRadioInput(),
        validate_choice=False)
    reasons = TextAreaField(
        "Reasons for this decision",
        description="What you looked at, who you spoke to and why you decided this. The person "
                    "who raised the concern does not see your reasons.",
        widget=GovTextArea(), filters=[_strip], validators=[Length(max=TEXT_MAX)])
    route = RadioField(
        "If it is a safeguarding concern of another kind, which route did it take?",
        choices=list(OTHER_ROUTE_LABELS.items()), widget=GovRadioInput(), validate_choice=False)
    route_on = GovDateField("When was it passed on?", what="The date it was passed on",
                            description="Not needed for support in school. For example, "
                                        "30 11 2026",
                            validators=[Optional()])
    route_time = StringField("Time",
                             description="Use the 24-hour clock, like 10:15 (UK time)",
                             widget=GovTextInput(), filters=[_strip],
                             validators=[Length(max=12)])
    route_detail = StringField(
        "Who took it, or which route (optional)",
        description="For example, Sam Patel, Children's Advice and Duty Service. Needed for "
                    "another route.", widget=GovTextInput(), filters=[_strip],
        validators=[Length(max=500)])
    route_reference = StringField(
        "Reference (optional)", description="The contact, referral or crime number, if given",
        widget=GovTextInput(), filters=[_strip], validators=[Length(max=100)])
    submit = SubmitField("Record without an incident", widget=GovSubmitInput())

    def validate_route_time(self, field: Any) -> None:
        _check_time(field, "10:15")

    def route_at_local(self) -> dt.datetime | None:
        return _at(self.route_on.data, self.route_time.data)

    def when_wrong(self) -> bool:
        """Whether the form found the date or the time wrong (it says so beside them)."""
        return bool(self.route_on.errors or self.route_time.errors)


class AddToIncidentForm(FlaskForm):  # type: ignore[misc]
    incident = RadioField("Which open incident?", choices=[], widget=GovRadioInput(),
                          validate_choice=False,
                          validators=[InputRequired("Select the incident to add it to")])
    add = SubmitField("Add it to this incident", widget=GovSubmitInput())


class ConcernCorrectionForm(FlaskForm):  # type: ignore[misc]
    """Correct what a concern recorded: the original is kept beside the correction (R5)."""

    field = RadioField("What are you correcting?", choices=list(CONCERN_FIELDS.items()),
                       widget=GovRadioInput(), validate_choice=False,
                       validators=[InputRequired("Select what you are correcting")])
    correction = TextAreaField("Corrected text", widget=GovTextArea(), filters=[_strip],
                               validators=[Length(max=TEXT_MAX)])
    reason = TextAreaField("Why are you making this correction?", widget=GovTextArea(),
                           filters=[_strip], validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Add correction", widget=GovSubmitInput())
