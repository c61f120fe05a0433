"""The referrals feature: which line to call now, consultation calls, handing a case to each
local authority involved, and the advice team's inbox. Operations live in
portal/services/referrals.py and portal/services/packet.py."""

from __future__ import annotations

from flask import Blueprint, Flask
from markupsafe import Markup

bp = Blueprint("referrals", __name__)


def init_app(app: Flask) -> None:
    from . import packet_views, views  # noqa: F401 - registers the routes on bp

    app.register_blueprint(bp)

    from ..services.handover import tel_href
    from ..services.packet import child_details, children_names, concern_when

    # A version 2 packet's child details in words: the adviser's page and the PDF alike.
    app.add_template_global(child_details, "packet_child_details")
    app.add_template_global(children_names, "packet_children_names")
    app.add_template_global(concern_when, "packet_concern_when")
    app.add_template_filter(contact_line, "contact_line")
    app.add_template_filter(tel_href, "tel")  # every link to call a number: `href="{{ n | tel }}"`


def contact_line(line: str) -> Markup:
    """A line of a packet's details, a parent's or carer's phone or email as a link to call or
    write to them (an adviser reads the referral on a phone: a walk found them plain text)."""
    from ..services.handover import tel_href
    from ..services.packet import EMAIL_LINE, PHONE_LINES

    for prefix in (*PHONE_LINES, EMAIL_LINE):
        if line.startswith(prefix):
            value = line[len(prefix):]
            target = f"mailto:{value}" if prefix == EMAIL_LINE else tel_href(value)
            return Markup('{}<a class="govuk-link" href="{}">{}</a>').format(
                prefix, target, value)
    return Markup("{}").format(line)
