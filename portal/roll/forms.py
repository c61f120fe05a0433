"""The roll pages' forms (GOV.UK widgets and wording)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from ..govuk_widgets import GovFileInput, GovSubmitInput


class UploadForm(FlaskForm):  # type: ignore[misc]
    file = FileField(
        "The roll as a CSV file",
        description="Export every pupil on roll from your management information system (SIMS, "
                    "Arbor, Bromcom or another) as a CSV file. Nothing is changed until you have "
                    "checked what the file will change.",
        widget=GovFileInput(),
        validators=[FileRequired("Choose the CSV file of your school's roll")])
    submit = SubmitField("Check the file", widget=GovSubmitInput())


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField("Import the roll", widget=GovSubmitInput())


class ContinueForm(FlaskForm):  # type: ignore[misc]
    submit = SubmitField("Continue the import", widget=GovSubmitInput())
