"""Retention pages (docs/retention.md): the DSL's list of files due for review, keeping a file
with reasons, destroying one, and the tombstones of files destroyed. Operations live in
portal/services/retention.py, rules in portal/rules/retention.py."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("retention", __name__)


def init_app(app: Flask) -> None:
    from . import views  # noqa: F401 - registers the routes

    app.register_blueprint(bp)
