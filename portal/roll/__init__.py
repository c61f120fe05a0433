"""The school roll: importing the CSV the school's management information system exports
(views.py, forms.py); the work lives in portal/services/roll.py and roll_csv.py."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("roll", __name__)


def init_app(app: Flask) -> None:
    from . import views  # noqa: F401 - registers the routes

    app.register_blueprint(bp)
