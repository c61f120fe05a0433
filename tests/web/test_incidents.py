"""Recording an incident through the real forms (CSRF on): dashboard, steps, assessment, access."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.models import (
    AuditEvent,
    Concern,
    Incident,
    IncidentRevision,
    db,
)
from tests.helpers.incidents import (  # noqa: F401 - older imports from here
    FACTS,
    OCCURRED,
    REPORTED,
    add_child,
    child_data,
    make_concern,
    ready_to_hand_over,
    recorded,
    save_facts,
    start,
    submit_v,
    version_of,
    world,
)
from tests.helpers.signing_in import csrf_from, sign_in, submit


def test_dashboard_lists_new_concern_and_overdue_first(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    assert sign_in(client, w["dsl"]).status_code == 302
    page = client.get("/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Submitted on 17 November (a Tuesday); today in the test run is later: overdue.
    assert 'data-testid="count-concerns">1<' in html
    assert html.index('id="overdue"') < html.index('id="new-concerns"')
    assert "MH (C0001)" in html and "Mia" not in html  # initials only on the dashboard


def test_record_incident_from_concern_shows_mandatory_csc_referral(
    app: Flask, client: FlaskClient
) -> None:
    w, iid = ready_to_hand_over(app, client)
    db.session.expire_all()
    assert db.session.get(Concern, w["concern"].id).state == "picked_up"
    incident = db.session.get(Incident, iid)
    assert "csc_referral" in incident.mandatory_routes
    assert incident.version == 4  # opened, facts, two children
    assert db.session.query(IncidentRevision).filter_by(incident_id=iid).count() == 4
    html = client.get(f"/incidents/{iid}").get_data(as_text=True)
    assert 'data-route="csc_referral"' in html
    route = html[html.index('data-route="csc_referral"'):]
    route = route[:route.index("</li>")]
    assert "Must" in route and "cannot be closed until it has been handed over" in route
    # The triggers in plain words, never their codes.
    assert "Sexual activity and a child under 13" in html and "Harmful sexual behaviour" in html
    assert "UNDER_13_SEXUAL_ACTIVITY" not in html and "HARMFUL_SEXUAL_BEHAVIOUR" not in html
    # The source as the procedures' names, linked to the rules' explanation (issue 14), never
    # a file number.
    plain = htmllib.unescape(html)
    assert ('Source: <a class="govuk-link" href="/how-the-portal-decides#under-13-sexual-activity">'
            'Derby and Derbyshire procedure, Children who Present a Risk of Harm to Others (2024) '
            '"Consent"; Derby and Derbyshire procedure, Children who Present a Risk of Harm to '
            'Others (2019 version) section 5</a>') in plain
    assert "Source: 000" not in plain and "001 s5" not in plain
    # The rules name children by reference; the page puts in their names (walk 4).
    why = plain[plain.index('data-testid="triggers"'):plain.index("</ul>", plain.index(
        'data-testid="triggers"'))]
    mia, kai = w["mia"].reference, w["kai"].reference
    assert f"Mia Harmed ({mia}, harmed) was 12 on" in why
    # A screen reader hears each child's links with their name (walk 5: "for C0006").
    assert (f'Record a decision<span class="govuk-visually-hidden"> for Mia Harmed ({mia})'
            '</span>') in plain
    # "A sexual incident with Kai harmed others; force" did not parse (walk 5).
    assert f"A sexual incident: Kai Harmer ({kai}) harmed others" in why
    assert not re.search(rf"(?<!\()\b({mia}|{kai})\b", why)  # never a reference alone
    assert "12 when it happened" in html
    assert 'href="tel:01629535353"' in html
    assert "Not yet recorded" not in html.split('id="children"')[1].split('id="summary"')[0]
    actions = {e.action for e in db.session.query(AuditEvent).all()}
    assert {"incident.opened", "concern.picked_up", "incident.saved",
            "incident.assessed", "incident.viewed"} <= actions


def test_immediate_danger_puts_999_first(app: Flask, client: FlaskClient) -> None:
    _, iid = ready_to_hand_over(app, client)
    assert save_facts(client, iid, immediate_danger="y").status_code == 302
    html = client.get(f"/incidents/{iid}").get_data(as_text=True)
    assert 'data-testid="call-999"' in html
    routes = html[html.index('data-testid="routes"'):]
    assert routes.index('data-route="police_emergency"') < routes.index('data-route="csc_referral"')


def test_reported_at_is_london_time(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    # 1 July is British Summer Time: 09:30 in London is 08:30 UTC.
    save_facts(client, iid, occurred_on=["1", "7", "2026"], reported_date=["1", "7", "2026"])
    db.session.expire_all()
    assert db.session.get(Incident, iid).reported_at == dt.datetime(2026, 7, 1, 8, 30,
                                                                    tzinfo=dt.UTC)


def test_add_a_new_child_and_find_by_name(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    found = submit(client, f"/incidents/{iid}/children",
                   {"name": "Kai Harmer"}).get_data(as_text=True)
    assert f"/incidents/{iid}/children/{w['kai'].id}" in found
    assert ("Type the start of any of their names: first, family, the name they go by or a "
            "name recorded before") in found  # the children page's hint, said once
    response = submit_v(client, f"/incidents/{iid}/children/new", {
        "given_name": "Wren", "family_name": "Witness",
        **child_data("witness", dt.date(2013, 2, 2)),
    })
    assert response.status_code == 302
    assert "Wren Witness" in client.get(f"/incidents/{iid}/children").get_data(as_text=True)


def _words(response: Any) -> str:
    """The page's words as read: tags dropped, spaces as one."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True))
                                     ).split())


def test_find_a_child_says_who_is_on_the_incident_already(
    app: Flask, client: FlaskClient
) -> None:
    """A walk: "Find a child" listed a child already on the incident as if adding them, and the
    link opened their part to change. The results say which children are on it and as what, and
    which were recorded as not involved; the others are offered plainly."""
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    assert save_facts(client, iid).status_code == 302
    assert add_child(client, iid, w["mia"], "harmed").status_code == 302
    found = _words(submit(client, f"/incidents/{iid}/children", {"name": "Harm"}))
    assert (f"Mia Harmed ({w['mia'].reference}), born 10 January 2014: already on this "
            "incident (harmed)") in found
    assert f"Kai Harmer ({w['kai'].reference}), born 1 March 2012 " in found + " "
    assert f"Kai Harmer ({w['kai'].reference}), born 1 March 2012:" not in found
    assert submit(client, f"/incidents/{iid}/children/{w['kai'].id}/not-involved",
                  {"reasons": "Was not at school that day"}).status_code == 302
    found = _words(submit(client, f"/incidents/{iid}/children", {"name": "Kai"}))
    assert (f"Kai Harmer ({w['kai'].reference}), born 1 March 2012: recorded as not "
            "involved") in found


def test_every_search_hint_ends_as_a_sentence(app: Flask, client: FlaskClient) -> None:
    """A walk: the children page's hint ended without its full stop, the incident's "Find a
    child" with one: the hints carry their own, once."""
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    for url in ("/children", f"/incidents/{iid}/children", "/concerns/new"):
        page = client.get(url).get_data(as_text=True)
        assert re.search(r"Capitals and accents do not matter\.\s*</div>", page), url
        assert "matter.." not in page
    staff = app.test_client()
    sign_in(staff, w["staff"])
    assert re.search(r"Type their first name and family name\. Capitals and accents do not "
                     r"matter\.\s*</div>", staff.get("/concerns/new").get_data(as_text=True))


def test_a_search_finding_no_child_says_what_to_try_once(
        app: Flask, client: FlaskClient) -> None:
    """Walk 8: "Check the spelling" twice under a search that found no child."""
    w = world(app)
    sign_in(client, w["dsl"])
    page = client.get("/children")
    found = _words(client.post("/children", data={"csrf_token": csrf_from(page),
                                                  "name": "Qwxyz"}))
    assert "No children match your search" in found
    assert found.count("Check the spelling") == 1


def test_facts_errors_are_gov_uk_messages(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    response = save_facts(client, iid, types_sexual=[], occurred_on=["18", "11", "2026"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "Select what kind of behaviour it was" in html
    assert "The date it happened must be on or before the date it was first reported" in html


def test_concurrent_edit_detected_and_text_kept(app: Flask, client: FlaskClient,
                                                other_client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    sign_in(other_client, w["dsl2"])
    iid = recorded(app, client, w)
    url = f"/incidents/{iid}/summary"
    page_a = client.get(url)
    page_b = other_client.get(url)
    first = client.post(url, data={"csrf_token": csrf_from(page_a), "version": version_of(page_a),
                                   "summary": "Dana's account of the group chat."})
    assert first.status_code == 302
    second = other_client.post(url, data={
        "csrf_token": csrf_from(page_b), "version": version_of(page_b),
        "summary": "Sam's own typed account."})
    html = second.get_data(as_text=True)
    assert second.status_code == 200
    assert "Another DSL (Dana Lead) saved this incident at" in html
    assert "your text is kept in the form" in html
    assert "Sam&#39;s own typed account." in html or "Sam's own typed account." in html
    assert "Dana&#39;s account of the group chat." in html or "Dana's account" in html
    assert 'data-testid="stale"' in html and "What happened" in html
    db.session.expire_all()
    assert db.session.get(Incident, iid).summary == "Dana's account of the group chat."
    # Saving again, now with the version the page was re-rendered with, works.
    third = other_client.post(url, data={
        "csrf_token": csrf_from(html), "version": version_of(second),
        "summary": "Sam's own typed account."})
    assert third.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, iid).summary == "Sam's own typed account."


def test_other_schools_dsl_and_staff_get_404(app: Flask, client: FlaskClient,
                                             other_client: FlaskClient) -> None:
    w, iid = ready_to_hand_over(app, client)
    sign_in(other_client, w["other_dsl"])
    for path in ("", "/facts", "/children", "/summary", "/decisions/new", "/close",
                 "/summary/correction", f"/children/{w['mia'].id}"):
        assert other_client.get(f"/incidents/{iid}{path}").status_code == 404, path
    assert other_client.post(f"/incidents/{iid}/facts", data={}).status_code in (400, 404)
    staff = app.test_client()
    sign_in(staff, w["staff"])
    assert staff.get(f"/incidents/{iid}").status_code == 404
    # The dashboard is their home page instead (a walk: an adviser read "Page not found").
    assert staff.get("/dashboard").headers["Location"] == "/home"
    assert staff.get("/incidents/new").status_code == 404


@pytest.mark.parametrize("path", ["/dashboard", "/incidents/new"])
def test_pages_for_the_dsl(app: Flask, client: FlaskClient, path: str) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    assert client.get(path).status_code == 200


def test_a_tampered_or_huge_version_is_refused_as_stale_not_a_crash(app) -> None:
    from portal.incidents.forms import SummaryForm

    with app.test_request_context("/", method="POST"):
        form = SummaryForm(meta={"csrf": False})
        for bad, expected in (("9223372036854775808", -1), ("-3", -1), ("x", -1), ("7", 7)):
            form.version.data = bad
            assert form.loaded_version() == expected


def test_an_adviser_asking_for_the_dashboard_is_sent_to_their_inbox(
    app: Flask, client: FlaskClient
) -> None:
    """A walk: an adviser who typed /dashboard read "Page not found"; then landed on their
    account's page. Their dashboard is their inbox."""
    from tests import factories

    adviser = factories.user("la_adviser", org=factories.authority())
    db.session.commit()
    sign_in(client, adviser)
    response = client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"] == "/referrals"
    assert "Referrals inbox" in client.get("/referrals").get_data(as_text=True)
    # Signed out: to sign in, as every page.
    assert app.test_client().get("/dashboard").status_code == 302


def test_a_child_whose_date_of_birth_staff_did_not_know_says_where_to_find_it(
    app: Flask, client: FlaskClient
) -> None:
    """A walk: the date of birth was required with no word why, or where to look."""
    w = world(app)
    w["mia"].dob = None
    db.session.commit()
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    words = " ".join(htmllib.unescape(
        client.get(f"/incidents/{iid}/children/{w['mia'].id}").get_data(as_text=True)).split())
    assert ("Needed: the child cannot be saved on the incident without it, as which referral "
            "routes apply depends on the child's age, and staff did not know it when they added "
            "the child. Ask the child's parents or carers, or look in your school's management "
            "information system") in words
    known = client.get(f"/incidents/{iid}/children/{w['kai'].id}").get_data(as_text=True)
    assert "staff did not know it" not in known


def test_what_the_incident_needs_before_it_is_assessed_reads_as_a_sentence(
    app: Flask, client: FlaskClient
) -> None:
    """A walk: "once it has what kind of behaviour it was, at least one child"."""
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    words = " ".join(htmllib.unescape(re.sub(
        r"<[^>]+>", " ", client.get(f"/incidents/{iid}").get_data(as_text=True))).split())
    found = re.search(r"The portal will assess this incident once ([^.]*)\.", words)
    assert found, words[:2000]
    assert found.group(1) == ("you have recorded what kind of behaviour it was and at least "
                              "one child")
    # The facts nobody has given yet are not shown as answered "No" (walk 13).
    assert "Immediate danger Not yet recorded" in words and "Online Not yet recorded" in words
    # Nor does "Handing over" say nothing must be handed over before it is known (walk 12).
    assert "No route must be handed over for this incident" not in words
    assert ("What must be handed over is known once the portal has assessed this incident"
            in words)


def test_an_adult_among_the_children_is_not_read_as_no_adult_harmed(
        app: Flask, client: FlaskClient) -> None:
    """Walk 15: a student of 25 added as one of the children, harmed, and the incident's facts
    read "Adults harmed: 0" beside the assessment's "1 adult harmed by a child". The facts say
    which adults they count, as the facts form asks."""
    w = world(app)
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    facts_form = htmllib.unescape(client.get(f"/incidents/{iid}/facts").get_data(as_text=True))
    assert ("Adults who are not among the children of this incident, for example a member of "
            "staff. Anyone 18 or over added as one of the children is counted already.") \
        in facts_form
    assert save_facts(client, iid).status_code == 302
    mia = w["mia"]
    mia.dob = dt.date(2001, 2, 3)  # 25 when it happened
    db.session.commit()
    assert add_child(client, iid, mia, "harmed").status_code == 302
    assert add_child(client, iid, w["kai"], "harmed_others").status_code == 302
    page = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", client.get(
        f"/incidents/{iid}").get_data(as_text=True))).split())
    assert "1 adult harmed by a child" in page
    assert "Adults harmed, not among the children 0" in page
    assert "Adults harmed 0" not in page
    # An adult at risk, which makes adult social care a must, is said too (walk 16).
    assert save_facts(client, iid, adults_harmed="1", adults_at_risk="1").status_code == 302
    page = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", client.get(
        f"/incidents/{iid}").get_data(as_text=True))).split())
    assert "Adults harmed, not among the children 1, 1 of them an adult at risk" in page
