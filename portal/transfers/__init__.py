"""Sending a child's file to their next school on the portal, and the school's term dates
(issue 16, item 1): views.py and forms.py; the work lives in portal/services/transfer.py."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("transfers", __name__)


def init_app(app: Flask) -> None:
    from .. import access
    from . import views

    access.init_app()  # the read-only guard on a sent file
    app.register_error_handler(access.ReadOnlyFile, views.read_only)
    app.jinja_env.globals["transfer_panel"] = views.child_panel
    app.register_blueprint(bp)
