"""Reports (issue 17): the DSL's and governors' report (blueprint `reports`) and the local
authority's view (blueprint `authority_reports`). Views only; the figures are counted in
portal/services/reports.py and portal/services/report_figures.py, from the summary table kept
by portal/services/report_summary.py (installed here, with its `flask` command)."""

from __future__ import annotations

import click
from flask import Blueprint, Flask
from flask.cli import with_appcontext

bp = Blueprint("reports", __name__)
authority_bp = Blueprint("authority_reports", __name__)


@click.command("rebuild-report-summary")
@with_appcontext
def rebuild_summary_command() -> None:
    """Recount the reports' summary of every school from the records (after a bulk load or a
    restore; safe to run again). Commits after every 20 schools."""
    from sqlalchemy import select

    from ..models import School, db
    from ..services import report_summary

    ids = list(db.session.scalars(select(School.id).order_by(School.id)))
    for first in range(0, len(ids), 20):
        report_summary.rebuild(db.session(), ids[first:first + 20])
        db.session.commit()
    click.echo(f"Reports' summary recounted for {len(ids)} school{'' if len(ids) == 1 else 's'}.")


def init_app(app: Flask) -> None:
    from ..services import report_summary
    from . import views  # noqa: F401 - registers the routes

    report_summary.install()
    app.register_blueprint(bp)
    app.register_blueprint(authority_bp)
    app.cli.add_command(rebuild_summary_command)
