"""The admin feature: views, forms (filled in by its owner)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
