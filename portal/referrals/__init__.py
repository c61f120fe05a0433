"""The referrals feature: which line to call now, consultation calls, handing a case to each
local authority involved, and the advice team's inbox. Operations live in
portal/services/referrals.py and portal/services/packet.py."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("referrals", __name__)


def init_app(app: Flask) -> None:
    from . import packet_views, views  # noqa: F401 - registers the routes on bp

    app.register_blueprint(bp)

    from ..services.packet import child_details

    # A version 2 packet's child details in words: the adviser's page and the PDF alike.
    app.add_template_global(child_details, "packet_child_details")
