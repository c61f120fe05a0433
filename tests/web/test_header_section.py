"""Walk 7: the header marked where you are only on a section's own page. On an incident's page, a
child's file, a referral's call or a concern, the section it belongs to is marked too
(aria-current="true"; the section's own page is aria-current="page"), and only that one."""

from __future__ import annotations

import re
import uuid

from flask import Flask
from flask.testing import FlaskClient

from portal.main.views import section_of
from tests.helpers.concerns import World, make_world, raise_one
from tests.helpers.incidents import ready_to_hand_over
from tests.helpers.signing_in import sign_in

_LINK = re.compile(r'<a class="govuk-service-navigation__link" href="([^"]+)"([^>]*)>')


def marked(client: FlaskClient, url: str, status: int = 200) -> dict[str, str]:
    """The header's marked links on the page at `url`: href -> aria-current."""
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    html = response.get_data(as_text=True)
    header = html[html.index('<nav aria-label="Menu"'):html.index("</nav>")]
    found = {}
    for href, attrs in _LINK.findall(header):
        current = re.search(r'aria-current="(\w+)"', attrs)
        if current:
            found[href] = current.group(1)
    return found


def test_a_dsl_sees_the_section_of_the_page_they_are_on(app: Flask,
                                                        client: FlaskClient) -> None:
    w, iid = ready_to_hand_over(app, client)
    assert marked(client, "/dashboard") == {"/dashboard": "page"}
    assert marked(client, f"/incidents/{iid}") == {"/dashboard": "true"}
    assert marked(client, f"/incidents/{iid}/facts") == {"/dashboard": "true"}
    assert marked(client, f"/incidents/{iid}/calls/new?authority=derbyshire") == {
        "/dashboard": "true"}  # the referral's consultation call
    assert marked(client, f"/concerns/{w['concern'].id}/triage") == {"/dashboard": "true"}
    assert marked(client, f"/children/{w['mia'].id}") == {"/children": "true"}
    assert marked(client, "/children") == {"/children": "page"}
    assert marked(client, "/concerns/new") == {"/concerns/new": "page"}
    assert marked(client, "/how-the-portal-decides") == {}  # in no section
    # A page not found belongs to no section, though its address looks like one (walk 8: the
    # adviser's inbox, not a DSL's, marked "Dashboard" on its 404).
    assert marked(client, "/referrals", status=404) == {}
    assert marked(client, f"/incidents/{uuid.uuid4()}", status=404) == {}


def test_staff_see_your_concerns_marked_on_a_concern_they_raised(
        app: Flask, client: FlaskClient) -> None:
    w: World = make_world()
    sign_in(client, w.staff)
    concern_id: uuid.UUID = raise_one(client, w)
    assert marked(client, f"/concerns/{concern_id}") == {"/concerns/mine": "true"}
    assert marked(client, "/concerns/mine") == {"/concerns/mine": "page"}


def test_every_role_has_its_sections() -> None:
    assert section_of("la_adviser", "referrals.view") == "referrals.inbox"
    assert section_of("admin", "admin.user_detail") == "admin.overview"
    assert section_of("dsl", "roll.show") == "roll.index"
    assert section_of("dsl", "transfers.show") == "children.search"
    assert section_of("dsl", "transfers.terms") is None  # the school's terms: no section
    assert section_of("staff", "incidents.show") is None  # not theirs to see
    assert section_of("staff", None) is None
