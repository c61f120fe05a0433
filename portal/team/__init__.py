"""The school's own accounts, as its DSLs see them: approving or declining a new safeguarding
lead (or a role change to one), and the notices of every account change in their school."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("team", __name__, url_prefix="/school/accounts")

from . import views  # noqa: E402,F401  (registers the routes on `bp`)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
