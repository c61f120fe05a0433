"""Reports (issue 17): the DSL's and governors' report (blueprint `reports`) and the local
authority's view (blueprint `authority_reports`). Views only; the figures are counted in
portal/services/reports.py and portal/services/report_figures.py."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("reports", __name__)
authority_bp = Blueprint("authority_reports", __name__)


def init_app(app: Flask) -> None:
    from . import views  # noqa: F401 - registers the routes

    app.register_blueprint(bp)
    app.register_blueprint(authority_bp)
