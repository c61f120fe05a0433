"""Finding a child, merging two records of one child, and adding an attachment to an incident
(GOV.UK widgets and wording)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..form_filters import strip as _strip
from ..govuk_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from ..services.attachments import MAX_DESCRIPTION

# What a DSL's search of children finds (services.children.search, partial): the one hint of
# the children page, the concern form's search (DSLs) and the incident's "Find a child". It said
# "any part of their name", and "owen" did not find Ellowen (walk 5).
NAME_HINT = ("Type the start of any of their names: first, family, the name they go by or a "
             "name recorded before, for example Zoe or O Sull. Capitals and accents do not "
             "matter.")

# Shown on every upload form before the file input (UKCIS, Sharing nudes and semi-nudes).
NUDES_WARNING = (
    "Never upload images of a child's body, including nudes or semi-nudes. Staff must not view, "
    "copy, forward or ask for them (UK Council for Internet Safety advice on sharing nudes and "
    "semi-nudes). Record what was described instead."
)
CONFIRM_ERROR = "Confirm that the file is not an image of a child's body"


class SearchForm(FlaskForm):  # type: ignore[misc]
    """A POST form, so a child's name is never in a URL (access logs, history, Referer): the
    results are shown in the answer to the post, never behind a redirect carrying the name."""

    name = StringField(
        "Child's name",
        description=NAME_HINT,
        widget=GovTextInput(),
        filters=[_strip],
        validators=[InputRequired("Enter the child's name, or the start of it"),
                    Length(max=200, message="Name must be 200 characters or fewer")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField("Search", widget=GovSubmitInput())


def file_description(example: str) -> Any:
    """An uploaded file's optional description ("What the file is, for example '...'")."""
    return TextAreaField(
        "Description (optional)",
        description=f"What the file is, for example '{example}'",
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=[Optional(), Length(max=MAX_DESCRIPTION,
                                       message=f"Description must be {MAX_DESCRIPTION} "
                                               "characters or fewer")],
    )


def not_a_body_image() -> Any:
    """The box an uploader ticks: the file is not an image of a child's body."""
    return BooleanField(
        "I confirm this file is not an image of a child's body",
        widget=GovCheckboxInput(),
        validators=[DataRequired(CONFIRM_ERROR)],
    )


class AttachmentForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        "Upload a file",
        description="A photo (JPEG, PNG, WebP or HEIC) or a PDF, such as a photo of handwritten "
                    "notes",
        widget=GovFileInput(),
        validators=[FileRequired("Select a file")],
        render_kw={"accept": ".jpg,.jpeg,.png,.webp,.heic,.pdf,image/jpeg,image/png,image/webp,"
                             "image/heic,application/pdf"},
    )
    description = file_description("Notes written by the class teacher")
    confirm = not_a_body_image()
    submit = SubmitField("Upload file", widget=GovSubmitInput())


MERGE_SOURCE_CHOICES = [("this", "This record"), ("other", "The other record")]


class MergeFindForm(FlaskForm):  # type: ignore[misc]
    """The other record of the same child: its reference (as on its file)."""

    reference = StringField(
        "Reference of the other record",
        description="As shown on its file, for example C0042",
        widget=GovTextInput(), filters=[_strip],
        validators=[InputRequired("Enter the reference of the other record, for example C0042"),
                    Length(max=20, message="Reference must be 20 characters or fewer")],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class MergeForm(FlaskForm):  # type: ignore[misc]
    """Which record is kept, which details come from which record, and why (required)."""

    keep = RadioField(
        "Which record should be kept?",
        description="The other record is kept too, marked as merged, and its address leads to "
                    "the record you keep",
        widget=GovRadioInput(), choices=[("this", "This record"), ("other", "The other record")],
        validators=[InputRequired("Select which record should be kept")],
    )
    given_name = RadioField("Given name", widget=GovRadioInput(), choices=MERGE_SOURCE_CHOICES,
                            validators=[InputRequired("Select which given name to keep")])
    family_name = RadioField("Family name", widget=GovRadioInput(),
                             choices=MERGE_SOURCE_CHOICES,
                             validators=[InputRequired("Select which family name to keep")])
    preferred_name = RadioField("Name they go by", widget=GovRadioInput(),
                                choices=MERGE_SOURCE_CHOICES,
                                validators=[InputRequired("Select which name they go by to "
                                                          "keep")])
    dob = RadioField("Date of birth", widget=GovRadioInput(), choices=MERGE_SOURCE_CHOICES,
                     validators=[InputRequired("Select which date of birth to keep")])
    send = RadioField("Special educational needs", widget=GovRadioInput(),
                      choices=MERGE_SOURCE_CHOICES,
                      validators=[InputRequired("Select which special educational needs answer "
                                                "to keep")])
    local_authority_code = RadioField(
        "Local authority", widget=GovRadioInput(), choices=MERGE_SOURCE_CHOICES,
        validators=[InputRequired("Select which local authority to keep")])
    reasons = TextAreaField(
        "Why are these the same child?",
        description="For example, the same date of birth and class, and the teacher confirmed "
                    "it. This is shown in the child's file",
        widget=GovCharacterCount(), filters=[_strip],
        validators=[InputRequired("Enter why these are the same child"),
                    Length(max=5000, message="Reasons must be 5,000 characters or fewer")],
    )
    submit = SubmitField("Merge the records", widget=GovSubmitInput())


class NameForm(FlaskForm):  # type: ignore[misc]
    """A child's names corrected, with why (`services.child_names.correct_names`)."""

    given_name = StringField(
        "Given name", widget=GovTextInput(), filters=[_strip],
        validators=[Length(max=100, message="The given name must be 100 characters or fewer")])
    family_name = StringField(
        "Family name", widget=GovTextInput(), filters=[_strip],
        validators=[Length(max=100, message="The family name must be 100 characters or fewer")])
    preferred_name = StringField(
        "Name they go by (optional)", description="Only if it is not their given name",
        widget=GovTextInput(), filters=[_strip],
        validators=[Length(max=100, message="The name they go by must be 100 characters or "
                                            "fewer")])
    seen = HiddenField()  # the names the form showed (`child_names.names_seen`)
    reasons = TextAreaField(
        "Why is the name changed?",
        description="For example, it was typed without its accents, or their parent spelt it "
                    "for us",
        widget=GovCharacterCount(), filters=[_strip],
        validators=[Length(max=2000, message="The reasons must be 2,000 characters or fewer")])
    submit = SubmitField("Save the name", widget=GovSubmitInput())
