"""The children feature: views.py and forms.py; its operations live in portal/services/."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("children", __name__)


def init_app(app: Flask) -> None:
    from . import export_views, merge_views, name_views, views  # noqa: F401 - the routes

    app.register_blueprint(bp)
