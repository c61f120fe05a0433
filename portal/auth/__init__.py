"""The auth feature: sign-in with a second factor, server-side sessions, password change."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("auth", __name__)


def init_app(app: Flask) -> None:
    from . import sessions, views  # noqa: F401 - registers the routes

    sessions.init_app(app)
    app.register_blueprint(bp)
