"""Forms for recording an incident: short steps, GOV.UK widgets and wording.

Forms check shape only (a date is a date, a choice is on the list). The recording rules live in
`portal.services.recording` and are enforced by the services, whatever the form says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..date_input import GovDateField
from ..form_filters import strip as _strip
from ..govuk_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from ..rules.vocabulary import (
    FEATURE_LABELS,
    NON_SEXUAL_TYPES,
    ROLE_LABELS,
    ROLES,
    SEXUAL_TYPES,
    TYPE_LABELS,
)
from ..services.handover import POLICE_METHOD_LABELS, REFERRAL_METHOD_LABELS
from ..services.recording import DECISION_KINDS, PARENT_REASONS, REVIEW_OUTCOMES
from ..typed_time import at as _at
from ..typed_time import check_time as _check_time

TEXT_MAX = 20000


def _choices(codes: frozenset[str], labels: dict[str, str]) -> list[tuple[str, str]]:
    return sorted(((c, labels[c]) for c in codes), key=lambda pair: pair[1])


class VersionedForm(FlaskForm):  # type: ignore[misc]
    """Every step carries the version of the incident it was loaded with."""

    version = HiddenField()

    def loaded_version(self) -> int:
        """The version the form was loaded with; anything else (tampered, out of range) is -1,
        which no incident has, so the save is refused as stale rather than failing."""
        try:
            version = int(self.version.data)
        except (TypeError, ValueError):
            return -1
        return version if 0 < version < 2**31 else -1


class FactsForm(VersionedForm):
    occurred_on = GovDateField(
        "When did it happen?", what="The date it happened",
        description="If it went on over a period, enter the first day. For example, 16 11 2026",
        validators=[InputRequired("Enter the date it happened")],
    )
    reported_date = GovDateField(
        "When was it first reported to a member of staff?", what="The date it was first reported",
        validators=[InputRequired("Enter the date it was first reported")],
    )
    reported_time = StringField(
        "Time", description="Use the 24-hour clock, like 09:30 (UK time)",
        widget=GovTextInput(), filters=[_strip],
        validators=[InputRequired("Enter the time it was first reported")],
    )
    types_non_sexual = SelectMultipleField(
        "Non-sexual behaviour", choices=_choices(NON_SEXUAL_TYPES, TYPE_LABELS),
        widget=GovCheckboxesInput(), validate_choice=True,
    )
    types_sexual = SelectMultipleField(
        "Sexual behaviour", choices=_choices(SEXUAL_TYPES, TYPE_LABELS),
        widget=GovCheckboxesInput(), validate_choice=True,
    )
    sexual_activity = BooleanField(
        "There was sexual activity of any kind, including a child being shown the sexual "
        "activity or sexual images of others", widget=GovCheckboxInput())
    online = BooleanField(
        "Any part of it happened through phones, apps, messages, social media, games or the "
        "internet", widget=GovCheckboxInput())
    features = SelectMultipleField(
        "What else applies?", description="Select all that apply",
        choices=_choices(frozenset(FEATURE_LABELS), FEATURE_LABELS),
        widget=GovCheckboxesInput(), validate_choice=True,
    )
    immediate_danger = BooleanField("A child is in immediate danger now",
                                    widget=GovCheckboxInput())
    crime_suspected = BooleanField("It may be a criminal offence", widget=GovCheckboxInput())
    arrested = BooleanField("The child who harmed has been arrested for it",
                            widget=GovCheckboxInput())
    adults_harmed = IntegerField(
        "How many adults were harmed by a child?", default=0, widget=GovTextInput(),
        # (walk 15: a student of 25 added as one of the children, harmed, read "Adults harmed:
        # 0" on the incident beside the assessment's "1 adult harmed")
        description="Adults who are not among the children of this incident, for example a "
                    "member of staff. Anyone 18 or over added as one of the children is counted "
                    "already.",
        validators=[Optional(), NumberRange(min=0, max=50, message="Enter a number from 0 to 50")],
        render_kw={"inputmode": "numeric"},
        invalid_value_message="Enter the number as a number from 0 to 50, like 1",
    )
    adults_at_risk = IntegerField(
        "How many of them are adults at risk (vulnerable adults)?", default=0,
        widget=GovTextInput(),
        validators=[Optional(), NumberRange(min=0, max=50, message="Enter a number from 0 to 50")],
        render_kw={"inputmode": "numeric"},
        invalid_value_message="Enter the number as a number from 0 to 50, like 1",
    )
    submit = SubmitField("Save and continue", widget=GovSubmitInput())

    def validate_reported_time(self, field: Any) -> None:
        _check_time(field, "09:30")

    def reported_at_local(self) -> dt.datetime | None:
        return _at(self.reported_date.data, self.reported_time.data)


class ChildForm(VersionedForm):
    role = RadioField("What was the child's part in it?",
                      choices=[(r, ROLE_LABELS[r]) for r in ROLES], widget=GovRadioInput(),
                      validators=[InputRequired("Select the child's part in the incident")])
    dob = GovDateField("Date of birth", what="Date of birth",
                       validators=[InputRequired("Enter the child's date of birth")])
    send = BooleanField("The child has special educational needs or a disability (SEND)",
                        widget=GovCheckboxInput())
    local_authority = SelectField("Local authority where the child lives", widget=GovSelect(),
                                  choices=[], validate_choice=False,
                                  validators=[InputRequired(
                                      "Select the local authority where the child lives")])
    same_school = BooleanField("The child attends this school", widget=GovCheckboxInput(),
                               default=True)
    household = StringField(
        "Household (optional)",
        description="A short label such as H1. Children given the same label live in the same "
                    "household.",
        widget=GovTextInput(), filters=[_strip], validators=[Length(max=40)])
    child_words = TextAreaField(
        "What the child said, in their own words", widget=GovTextArea(), filters=[_strip],
        validators=[Length(max=TEXT_MAX)])
    child_words_missing_reason = TextAreaField(
        "If their words could not be recorded, why not", widget=GovTextArea(), filters=[_strip],
        validators=[Length(max=TEXT_MAX)])
    # Carried through (issue 13): changing the words a concern recorded for this child is kept
    # as a correction of the concern, with this reason (the concern's original stays).
    words_change_reason = TextAreaField(
        "If you changed the words the concern recorded, why?", widget=GovTextArea(),
        filters=[_strip], validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Save child", widget=GovSubmitInput())


class NewChildForm(ChildForm):
    # The same words as staff's concern form and the roll's (a walk: "First name / Last name"
    # here, "Given name / Family name" there; a family name is not always the last).
    given_name = StringField("Given name", widget=GovTextInput(), filters=[_strip],
                             validators=[InputRequired("Enter the child's given name"),
                                         Length(max=100)])
    family_name = StringField("Family name", widget=GovTextInput(), filters=[_strip],
                              validators=[InputRequired("Enter the child's family name"),
                                          Length(max=100)])


class SummaryForm(VersionedForm):
    summary = TextAreaField(
        "What happened", description="Describe what happened, in plain words. Use the "
        "children's names: this is the DSL's incident record, not a child's file.",
        widget=GovTextArea(), filters=[_strip],
        validators=[InputRequired("Enter what happened"), Length(max=TEXT_MAX)])
    submit = SubmitField("Save", widget=GovSubmitInput())


class DecisionForm(FlaskForm):  # type: ignore[misc]
    kind = RadioField("What did you decide?",
                      choices=[(k, v) for k, v in DECISION_KINDS.items()
                               if k not in {"close", "not_involved", "review"}],
                      widget=GovRadioInput(),
                      validators=[InputRequired("Select what you decided")])
    route = SelectField("Route", description="For a decision about a route", widget=GovSelect(),
                        choices=[], validate_choice=False)
    child = SelectField("Child", description="For a decision about one child's needs",
                        widget=GovSelect(), choices=[], validate_choice=False)
    what = StringField("What was decided (optional)", widget=GovTextInput(), filters=[_strip],
                       validators=[Length(max=500)])
    reasons = TextAreaField("Reasons for this decision", widget=GovTextArea(), filters=[_strip],
                            validators=[Length(max=TEXT_MAX)])
    review_on = GovDateField(
        "Review date", what="The review date",
        description="For no further action or support in school: when to look at this again. "
                    "Filled in with your school's usual review time; change it if you need to. "
                    "For example, 28 12 2026",
        validators=[Optional()],
    )
    submit = SubmitField("Record decision", widget=GovSubmitInput())


def _told_time_valid(field: Any) -> None:
    _check_time(field, "15:10")


class ParentsForm(FlaskForm):  # type: ignore[misc]
    """R9: one form for both answers, so it works without JavaScript (no reveal needed)."""

    told = RadioField("Were their parents or carers told?",
                      choices=[("yes", "Yes, they were told"), ("no", "No, they were not told")],
                      widget=GovRadioInput(), validate_choice=False)
    told_date = GovDateField("Date they were told", what="The date they were told",
                             description="If they were told. For example, 30 11 2026",
                             validators=[Optional()])
    told_time = StringField("Time they were told",
                            description="Use the 24-hour clock, like 15:10 (UK time)",
                            widget=GovTextInput(), filters=[_strip])
    by_whom = StringField("Who told them", description="Their name and role, like Ms Okafor, "
                          "deputy DSL", widget=GovTextInput(), filters=[_strip],
                          validators=[Length(max=500)])
    reason = RadioField("If they were not told, why not?",
                        choices=[(k, v[:1].upper() + v[1:]) for k, v in PARENT_REASONS.items()],
                        widget=GovRadioInput(), validate_choice=False)
    detail = TextAreaField("More detail", description="Required if you chose another reason",
                           widget=GovTextArea(), filters=[_strip],
                           validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_told_time(self, field: Any) -> None:
        _told_time_valid(field)

    def told_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.told.data or "")

    def told_at_local(self) -> dt.datetime | None:
        return _at(self.told_date.data, self.told_time.data)

    def when_wrong(self) -> bool:
        """Whether the form found the date or the time wrong (it says so beside them)."""
        return bool(self.told_date.errors or self.told_time.errors)


class ReviewForm(FlaskForm):  # type: ignore[misc]
    outcome = RadioField("What did the review find?",
                         choices=list(REVIEW_OUTCOMES.items()),
                         widget=GovRadioInput(), validate_choice=False)
    next_review_on = GovDateField(
        "Next review date", what="The next review date",
        description="If you will review again. For example, 28 12 2026",
        validators=[Optional()])
    reasons = TextAreaField("Reasons", description="What you looked at and why you decided this",
                            widget=GovTextArea(), filters=[_strip],
                            validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Record review", widget=GovSubmitInput())


class SchoolSettingsForm(FlaskForm):  # type: ignore[misc]
    review_weeks = IntegerField(
        "Weeks from a decision to its review",
        description="For no further action or support in school. From 1 to 26 weeks; the "
                    "portal's default is 4.",
        widget=GovTextInput(), validators=[Optional()],
        render_kw={"inputmode": "numeric"},
        invalid_value_message="Enter the number of weeks as a number, like 4",
    )
    concern_days = IntegerField(
        "Working days to read a new concern",
        description="A new concern not read and decided on within this many working days is "
                    "marked overdue on the dashboard. From 1 to 10; the portal's default is 1.",
        widget=GovTextInput(), validators=[Optional()],
        render_kw={"inputmode": "numeric"},
        invalid_value_message="Enter the number of working days as a number, like 1",
    )
    # The settings as this page showed them (services/school_settings.py `numbers_stamp`).
    numbers_seen = HiddenField()
    submit = SubmitField("Save", widget=GovSubmitInput())


class EscalationForm(FlaskForm):  # type: ignore[misc]
    """The school's escalation settings (docs/mail.md); choices are set by the view."""

    escalation_minutes = IntegerField(
        "Minutes before an unopened urgent concern is escalated",
        description="If no designated safeguarding lead has opened an urgent concern within "
                    "this many minutes of school time, the deputies and the headteacher are "
                    "emailed too. The portal's default is 15.",
        widget=GovTextInput(), validators=[Optional()], render_kw={"inputmode": "numeric"},
        invalid_value_message="Enter the number of minutes as a number, like 15")
    school_days = SelectMultipleField(
        "Days the school is open", choices=[], widget=GovCheckboxesInput())
    day_starts = StringField("The school day starts at", description="For example, 08:00",
                             widget=GovTextInput(), filters=[_strip])
    day_ends = StringField("The school day ends at", description="For example, 17:00",
                           widget=GovTextInput(), filters=[_strip])
    deputies = SelectMultipleField(
        "Deputy designated safeguarding leads", choices=[], widget=GovCheckboxesInput(),
        description="Emailed when an urgent concern is escalated.")
    head = SelectField("Headteacher", choices=[], widget=GovSelect(),
                       description="Emailed when an urgent concern is escalated.")
    # The settings as this page showed them (services/escalation.py `escalation_stamp`).
    escalation_seen = HiddenField()
    save_escalation = SubmitField("Save escalation settings", widget=GovSubmitInput())


class NotInvolvedForm(FlaskForm):  # type: ignore[misc]
    reasons = TextAreaField("Why was this child not involved?", widget=GovTextArea(),
                            filters=[_strip], validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Record as not involved", widget=GovSubmitInput())


class CorrectionForm(FlaskForm):  # type: ignore[misc]
    correction = TextAreaField("Corrected text", widget=GovTextArea(), filters=[_strip],
                               validators=[Length(max=TEXT_MAX)])
    reason = TextAreaField("Why are you making this correction?", widget=GovTextArea(),
                           filters=[_strip], validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Add correction", widget=GovSubmitInput())


class CloseForm(VersionedForm):
    reasons = TextAreaField("Reasons for closing", widget=GovTextArea(), filters=[_strip],
                            validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Close incident", widget=GovSubmitInput())


class StartForm(FlaskForm):  # type: ignore[misc]
    concerns = SelectMultipleField("Concerns to record in this incident",
                                   widget=GovCheckboxesInput(), choices=[],
                                   validate_choice=False)
    submit = SubmitField("Start an incident", widget=GovSubmitInput())


class PlainForm(FlaskForm):  # type: ignore[misc]
    pass


# ---------------------------------------------------------------------------------------------
# R4: a mandatory route's own record (police report, 999 call, referral to adult social care).
# The service checks what is required (the reference or why there is none, a time not in the
# future); the forms check shape only.


class RouteRecordForm(FlaskForm):  # type: ignore[misc]
    happened_on = GovDateField("Date", what="The date", description="For example, 30 11 2026")
    happened_time = StringField(
        "Time", description="Use the 24-hour clock, like 10:15 (UK time)",
        widget=GovTextInput(), filters=[_strip],
        validators=[Length(max=12, message="Enter the time like 10:15")])
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_happened_time(self, field: Any) -> None:
        _check_time(field, "10:15")

    def happened_at_local(self) -> dt.datetime | None:
        return _at(self.happened_on.data, self.happened_time.data)

    def when_wrong(self) -> bool:
        """Whether the form found the date or the time wrong (it says so beside them)."""
        return bool(self.happened_on.errors or self.happened_time.errors)

    def details(self) -> dict[str, str | None]:
        """The route's own fields, by name, for `handover.RouteRecordInput`."""
        names = ("authority", "method", "force", "reference", "no_reference_reason", "caller",
                 "recipient")
        return {name: getattr(self, name).data for name in names if hasattr(self, name)}


class PoliceReportForm(RouteRecordForm):
    happened_on = GovDateField("When were the police told?", what="The date the police were told",
                               description="For example, 30 11 2026")
    method = RadioField("How were the police told?", widget=GovRadioInput(),
                        choices=list(POLICE_METHOD_LABELS.items()), validate_choice=False)
    force = StringField("Which police force?", description="For example, Derbyshire Constabulary",
                        widget=GovTextInput(), filters=[_strip], validators=[Length(max=200)])
    reference = StringField("Police reference", description="The crime or incident number",
                            widget=GovTextInput(), filters=[_strip],
                            validators=[Length(max=100)])
    no_reference_reason = TextAreaField(
        "If there is no police reference yet, why not?",
        description="For example, the officer will call back with a crime number",
        widget=GovTextArea(), filters=[_strip], validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Save the police report", widget=GovSubmitInput())


class OutsideReferralForm(RouteRecordForm):
    """A referral to children's social care made through the front door of an authority that
    does not use the portal (R4: every authority involved needs its own referral)."""

    authority = RadioField("Which local authority did you refer to?", widget=GovRadioInput(),
                           choices=[], validate_choice=False)
    happened_on = GovDateField("When was the referral made?", what="The date of the referral",
                               description="For example, 30 11 2026")
    method = RadioField("How was the referral made?", widget=GovRadioInput(),
                        choices=list(REFERRAL_METHOD_LABELS.items()), validate_choice=False)
    recipient = StringField(
        "Who took the referral?", description="Their name and team, for example Sam Patel, "
        "Children's Advice and Duty Service", widget=GovTextInput(), filters=[_strip],
        validators=[Length(max=200)])
    reference = StringField("Reference", description="The referral or contact number they gave",
                            widget=GovTextInput(), filters=[_strip],
                            validators=[Length(max=100)])
    no_reference_reason = TextAreaField(
        "If there is no reference yet, why not?",
        description="For example, they will email the reference once the referral is logged",
        widget=GovTextArea(), filters=[_strip], validators=[Length(max=TEXT_MAX)])
    submit = SubmitField("Save the referral", widget=GovSubmitInput())


class EmergencyCallForm(RouteRecordForm):
    happened_on = GovDateField("When was 999 called?", what="The date of the 999 call",
                               description="For example, 30 11 2026")
    caller = StringField("Who made the call?", description="Their name and role",
                         widget=GovTextInput(), filters=[_strip], validators=[Length(max=200)])
    reference = StringField("Incident number (if one was given)", widget=GovTextInput(),
                            filters=[_strip], validators=[Length(max=100)])
    submit = SubmitField("Save the 999 call", widget=GovSubmitInput())


class AdultSocialCareForm(RouteRecordForm):
    happened_on = GovDateField("When was the referral made?", what="The date of the referral",
                               description="For example, 30 11 2026")
    recipient = StringField(
        "Who was the referral made to?",
        description="The adult's local authority and the team, for example Derbyshire County "
                    "Council, Adult Care", widget=GovTextInput(), filters=[_strip],
        validators=[Length(max=200)])
    reference = StringField("Reference (if one was given)", widget=GovTextInput(),
                            filters=[_strip], validators=[Length(max=100)])
    submit = SubmitField("Save the referral", widget=GovSubmitInput())
