"""The safeguarding portal: `create_app()` builds the Flask application.

Order: settings -> extensions -> blueprints -> CLI. No migrations or exits in here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    # Imported here so `python -m portal.rules` never loads Flask.
    from flask import Flask

    from .config import load_settings

    settings = load_settings(test_config)
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        instance_relative_config=False,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key or "test-only-secret-key-not-for-production-use",
        TESTING=settings.testing,
        PORTAL_SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.attachment_max_bytes + 256 * 1024,
    )
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    from . import extensions

    extensions.init_app(app, settings)
    return app
