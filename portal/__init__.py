"""The safeguarding portal: `create_app()` builds the Flask application.

Order: settings -> extensions -> security headers -> blueprints -> CLI. No migrations or exits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    # Imported here so `python -m portal.rules` never loads Flask.
    from flask import Flask

    from . import (
        admin,
        auth,
        children,
        cli,
        concerns,
        drafts,
        extensions,
        failures,
        incidents,
        once,
        referrals,
        reports,
        retention,
        roll,
        security,
        static_files,
        team,
        transfers,
        wording,
    )
    from .config import load_settings
    from .main import bp as main_bp
    from .main.views import navigation, register_error_pages

    settings = load_settings(test_config)
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(
        # Tests may run without a secret (load_settings refuses that anywhere else).
        SECRET_KEY=settings.secret_key or "test-only-secret-key-not-for-production-use",
        TESTING=settings.testing,
        PORTAL_SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.attachment_max_bytes + 256 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="portal_session",
        WTF_CSRF_TIME_LIMIT=3600,
        TEMPLATES_AUTO_RELOAD=False,
    )
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    _template_loaders(app)
    wording.init_app(app)  # the filters that turn codes and dates into words
    extensions.init_app(app, settings)
    security.init_app(app)
    once.init_app(app)
    static_files.init_app(app)
    app.register_blueprint(main_bp)
    register_error_pages(app)
    failures.init_app(app)
    navigation(app)
    auth.init_app(app)
    drafts.init_app(app)  # after the CSRF check and the session hooks
    admin.init_app(app)
    concerns.init_app(app)
    incidents.init_app(app)
    children.init_app(app)
    referrals.init_app(app)
    reports.init_app(app)
    roll.init_app(app)
    team.init_app(app)
    transfers.init_app(app)
    retention.init_app(app)
    cli.init_app(app)
    return app


def _template_loaders(app: Flask) -> None:
    """Our templates first, then the GOV.UK Frontend macros and WTForms widgets."""
    from govuk_frontend_wtf.main import WTFormsHelpers
    from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

    from .flashes import flash_text
    from .govuk_widgets import Environment, fixed_tag
    from .long_text import by_line, direction, folded
    from .names import full_name
    from .row_urls import page_link, row_link

    app.jinja_environment = Environment  # before anything creates app.jinja_env

    assert app.jinja_loader is not None
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    WTFormsHelpers(app)
    app.add_template_global(_error_summary, "wtforms_errors")
    app.add_template_global(fixed_tag, "fixed_tag")
    app.add_template_global(folded, "folded_text")
    app.add_template_global(flash_text, "flash_text")
    app.add_template_global(full_name, "full_name")
    app.add_template_filter(direction, "text_dir")
    app.add_template_filter(by_line, "by_line")
    app.add_template_global(row_link, "row_link")
    app.add_template_global(page_link, "page_link")


def _error_summary(form: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """govuk-frontend-wtf's error summary, with each date's link on its first wrong box
    (`date_input.date_error_href`): the summary link then moves keyboard focus into the box to
    correct, not onto the group around it."""
    from govuk_frontend_wtf.main import wtforms_errors

    from .date_input import date_error_href, is_date_field

    summary: dict[str, Any] = wtforms_errors(form, params or {})
    for item in summary.get("errorList", []):
        name = str(item.get("href", ""))[1:]
        if name in form and is_date_field(form[name]):
            item["href"] = date_error_href(form[name])
    return summary
