"""Sign-in, second-factor and password forms (GOV.UK widgets, GOV.UK error wording)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp, ValidationError

from ..form_filters import number_without_spaces as _digits
from ..form_filters import strip_without_nul as _strip
from ..govuk_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from ..passwords import MIN_LENGTH, password_problem

PASSWORD_HINT = f"Must be {MIN_LENGTH} characters or more. A few random words work well."

class SignInForm(FlaskForm):  # type: ignore[misc]
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[InputRequired("Enter your email address"), Length(max=254)],
        render_kw={"autocomplete": "username", "spellcheck": "false", "type": "email"},
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password"), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class CodeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        "Security code",
        description="The 6-digit code shown in your authenticator app",
        widget=GovTextInput(),
        filters=[_digits],
        validators=[
            InputRequired("Enter a 6-digit code"),
            Regexp(r"^\d{6}$", message="Enter a 6-digit code"),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "spellcheck": "false"},
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


def _new_password_ok(form: Any, field: Any) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your current password")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        description=PASSWORD_HINT,
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a new password"), Length(max=1024), _new_password_ok],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired("Confirm your new password"),
            EqualTo("new_password", message="Passwords must match"),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class SetUpForm(FlaskForm):  # type: ignore[misc]
    """The one-time set-up link: the person's own password (their app is set up next)."""

    password = PasswordField(
        "Create a password",
        description=PASSWORD_HINT,
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a password"), Length(max=1024), _new_password_ok],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Confirm password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Confirm your password"),
                    EqualTo("password", message="Passwords must match")],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Set up my account", widget=GovSubmitInput())


class PlainForm(FlaskForm):  # type: ignore[misc]
    """No fields but the CSRF token: sign out, keep-alive, admin buttons."""
