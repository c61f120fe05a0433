"""The auth feature: sign-in with a second factor, server-side sessions, password change."""

from __future__ import annotations

from flask import Blueprint, Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader, TemplateNotFound

bp = Blueprint("auth", __name__)


def _ensure_govuk_templates(app: Flask) -> None:
    """Makes the GOV.UK Frontend macros and the govuk-frontend-wtf widgets loadable.

    Done only if nothing else has (create_app may do it itself one day): the check makes this a
    no-op then.
    """
    try:
        app.jinja_env.get_template("govuk_frontend_jinja/components/input/macro.html")
        app.jinja_env.get_template("govuk_frontend_wtf/input.html")
    except TemplateNotFound:
        app.jinja_env.loader = ChoiceLoader([
            app.jinja_env.loader,  # type: ignore[list-item]
            PrefixLoader({
                "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
            }),
        ])
    if "wtforms_errors" not in app.jinja_env.globals:
        from govuk_frontend_wtf.main import WTFormsHelpers

        WTFormsHelpers(app)


def init_app(app: Flask) -> None:
    from . import sessions, views  # noqa: F401 - registers the routes

    _ensure_govuk_templates(app)
    sessions.init_app(app)
    app.register_blueprint(bp)
