"""The concerns feature: views.py and forms.py; its operations live in portal/services/."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("concerns", __name__)

from . import triage, views  # noqa: E402,F401  (registers the routes on `bp`)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
