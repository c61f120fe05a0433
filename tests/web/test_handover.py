"""R4 per route through the real forms (CSRF on): each mandatory route needs its own record.

A referral sent to children's social care hands over `csc_referral` only: the incident cannot
close, and the dashboard keeps it under "Must be handed over", until the police report, the 999
call or the referral to adult social care is recorded too. Incidents are built so that their
mandatory routes are the same under rules versions 1 and 2 (adult involved: children's social
care and the police; immediate danger: 999; an adult at risk harmed: adult social care).
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from portal.models import (
    Addendum,
    AuditEvent,
    ChildRecordEntry,
    Incident,
    RouteHandover,
    db,
)
from tests import factories
from tests.helpers.incidents import add_child, save_facts, start, submit_v, tell_parents, world
from tests.helpers.signing_in import csrf_from, sign_in, submit
from tests.pdftext import extract
from tests.web import handover_forms

POLICE = {"happened_on": ["17", "11", "2026"], "happened_time": "11:00", "method": "101",
          "force": "Derbyshire Constabulary", "reference": "14/88321/26"}
CALL_999 = {"happened_on": ["17", "11", "2026"], "happened_time": "09:35",
            "caller": "Dana Lead, DSL", "reference": "INC-0417"}
ASC = {"happened_on": ["17", "11", "2026"], "happened_time": "12:10",
       "recipient": "Derbyshire County Council, Adult Care", "reference": "AC-2231"}
SLUGS = {"police": "police-report", "police_emergency": "999-call",
         "adult_social_care": "adult-social-care"}
FORMS = {"police": POLICE, "police_emergency": CALL_999, "adult_social_care": ASC}
CODES = ("csc_referral", "police_emergency", "adult_social_care", "cre_screening")


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def visible(html: str) -> str:
    """The page's words, without tags and attributes (codes may sit in data- attributes)."""
    body = html.split("<main", 1)[-1]
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


def incident(client: FlaskClient, w: dict[str, Any], **facts: Any) -> uuid.UUID:
    """An incident from the world's concern: physical abuse with `facts`, both children with
    their words and a decision each, so only handing over can stop it closing."""
    iid = start(client, w["concern"])
    assert save_facts(client, iid, types_sexual=[], types_non_sexual=["physical"],
                      **facts).status_code == 302
    assert add_child(client, iid, w["mia"], "harmed",
                     child_words="He pushed me into the wall.").status_code == 302
    assert add_child(client, iid, w["kai"], "harmed_others",
                     child_words_missing_reason="Refused to speak").status_code == 302
    for child in ("mia", "kai"):
        assert submit(client, f"/incidents/{iid}/decisions/new", {
            "kind": "internal_support", "child": str(w[child].id),
            "reasons": "Safety plan agreed with the child and their parents."},
        ).status_code == 302
        assert tell_parents(client, iid, w[child]).status_code == 302  # R9
    return iid


def mandatory(iid: uuid.UUID) -> list[str]:
    db.session.expire_all()
    found = db.session.get(Incident, iid)
    assert found is not None
    return list(found.mandatory_routes)


def close(client: FlaskClient, iid: uuid.UUID) -> Any:
    return submit_v(client, f"/incidents/{iid}/close",
                    {"reasons": "Every route handed over; support in place for both children."})


def refer(client: FlaskClient, iid: uuid.UUID) -> None:
    sent = handover_forms.hand_over(client, f"/incidents/{iid}/hand-over/derbyshire")
    assert sent.status_code == 302, text(sent)


def record(client: FlaskClient, iid: uuid.UUID, route: str, **changes: Any) -> Any:
    return submit(client, f"/incidents/{iid}/handing-over/{SLUGS[route]}",
                  {**FORMS[route], **changes})


def handover_count(client: FlaskClient) -> int:
    html = client.get("/dashboard").get_data(as_text=True)
    match = re.search(r'data-testid="count-handover">(\d+)<', html)
    assert match
    return int(match.group(1))


def handover_section(client: FlaskClient) -> str:
    html = text(client.get("/dashboard"))
    return html[html.index('id="handover"'):html.index('id="new-concerns"')]


def the_route_waits(client: FlaskClient, iid: uuid.UUID, route: str, label: str) -> None:
    """The incident cannot close for `route`, and the dashboard lists it for that route."""
    page = text(close(client, iid))
    assert f"You cannot close this incident until “{label}” has been handed over" in page
    assert "“Referral to children's social care” has been handed over" not in page
    assert handover_count(client) == 1
    section = handover_section(client)
    assert f"/incidents/{iid}" in section and label in section
    assert "Referral to children's social care" not in section


def test_police_report_needed_after_the_referral(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=["adult_involved"])
    assert {"csc_referral", "police"} <= set(mandatory(iid))
    assert "adult_social_care" not in mandatory(iid)
    assert handover_count(client) == 1

    page = client.get(f"/incidents/{iid}").get_data(as_text=True)
    section = page[page.index('data-testid="handing-over"'):page.index("</section>",
                                                                         page.index('data-testid="handing-over"'))]
    words = visible(section)
    assert "Referral to children's social care" in words and "Report to the police" in words
    assert "Not yet recorded" in words and "Record the police report" in words
    for code in CODES:
        assert code not in words
    assert f"/incidents/{iid}/handing-over/police-report" in section
    # The referral's link opens its hand-over page (it went to "Who to call now", a walk).
    sends = re.findall(r'href="([^"]+)">Send the referral to ([^<]+)</a>', section)
    assert sends == [(f"/incidents/{iid}/hand-over/derbyshire", "Derbyshire County Council")]
    assert client.get(sends[0][0]).status_code == 200
    # The routes at the top lead there too: the police report's form itself, the referral to
    # "Handing over" (not "Who to call now", above the buttons).
    routes = page[:page.index('data-testid="handing-over"')]
    assert f'href="/incidents/{iid}/handing-over/police-report">Record the police report' in routes
    assert 'href="#handing-over">Hand over to the local authority' in routes

    refer(client, iid)
    # The referral hands over children's social care, never the police.
    the_route_waits(client, iid, "police", "Report to the police")
    page = text(client.get(f"/incidents/{iid}"))
    assert ("Referral sent to Derbyshire County Council: <a class=\"govuk-link\" "
            "href=\"#handover-heading\">read it, its answers, or send more information, under "
            "“Who to call now”</a>.") in page

    assert record(client, iid, "police").status_code == 302
    page = text(client.get(f"/incidents/{iid}"))
    assert ("Recorded: reported to Derbyshire Constabulary on 17 November 2026 at 11:00am by "
            "calling 101, reference 14/88321/26.") in page
    assert "Recorded by Dana Lead." in page
    assert handover_count(client) == 0
    assert close(client, iid).status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, iid).state == "closed"

    # The record is encrypted, audited, and in each child's chronology (others by initials).
    row = db.session.query(RouteHandover).filter_by(incident_id=iid).one()
    assert b"Derbyshire Constabulary" not in (row.force_enc or b"")
    assert row.method == "101" and row.reference == "14/88321/26"
    event = db.session.query(AuditEvent).filter_by(action="handover.recorded").one()
    assert event.detail["route"] == "police" and "Derbyshire" not in str(event.detail)
    entries = db.session.query(ChildRecordEntry).filter_by(kind="handing_over").all()
    assert {e.child_id for e in entries} == {w["mia"].id, w["kai"].id}
    kai_entry = next(e for e in entries if e.child_id == w["kai"].id)
    assert "Mia" not in kai_entry.body and f"MH ({w['mia'].reference})" in kai_entry.body
    assert "Reported to Derbyshire Constabulary on 17 November 2026 at 11:00am" in kai_entry.body
    child_file = text(client.get(f"/children/{w['kai'].id}"))
    assert "Handing over" in child_file and "Mia Harmed" not in child_file
    assert "Reported to Derbyshire Constabulary on 17 November 2026 at 11:00am" in child_file

    # Closed: no new records (the form sends the DSL back to the incident).
    assert client.get(f"/incidents/{iid}/handing-over/police-report").status_code == 302
    token = csrf_from(client.get(f"/incidents/{iid}/summary/correction"))
    late = client.post(f"/incidents/{iid}/handing-over/police-report",
                       data={"csrf_token": token, **POLICE})
    # Sent from a form opened before the close (another tab): refused in words, nothing
    # saved, and what was typed is still on the page (never dropped silently).
    assert late.status_code == 200
    assert "This incident has been closed, so this was not saved" in text(late)
    assert 'value="Derbyshire Constabulary"' in late.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(RouteHandover).filter_by(incident_id=iid).count() == 1


def test_999_call_needed_after_the_referral(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    # Immediate danger gives 999; an adult involved gives the referral (in rules 1 and 2 alike).
    iid = incident(client, w, immediate_danger="y", features=["adult_involved"])
    routes = mandatory(iid)
    assert {"police_emergency", "csc_referral"} <= set(routes)
    refer(client, iid)
    for route in set(routes) - {"csc_referral", "police_emergency"}:  # whatever else applies
        assert record(client, iid, route).status_code == 302
    the_route_waits(client, iid, "police_emergency", "Call 999 now")
    assert record(client, iid, "police_emergency").status_code == 302
    page = text(client.get(f"/incidents/{iid}"))
    assert ("Recorded: 999 called by Dana Lead, DSL on 17 November 2026 at 9:35am, incident "
            "number INC-0417.") in page
    assert handover_count(client) == 0
    assert close(client, iid).status_code == 302


def test_adult_social_care_needed_after_the_referral(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, adults_harmed="1", adults_at_risk="1")
    routes = mandatory(iid)
    assert {"adult_social_care", "csc_referral"} <= set(routes)
    refer(client, iid)
    for route in set(routes) - {"csc_referral", "adult_social_care"}:
        assert record(client, iid, route).status_code == 302
    the_route_waits(client, iid, "adult_social_care", "Referral to adult social care")
    assert record(client, iid, "adult_social_care").status_code == 302
    page = text(client.get(f"/incidents/{iid}"))
    assert ("Recorded: referred to Derbyshire County Council, Adult Care on 17 November 2026 at "
            "12:10pm, reference AC-2231.") in page
    assert close(client, iid).status_code == 302


def test_every_missing_route_is_listed_separately(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=["adult_involved"], immediate_danger="y")
    page = text(close(client, iid))
    for label in ("Referral to children's social care", "Report to the police", "Call 999 now"):
        assert f"You cannot close this incident until “{label}” has been handed over" in page
    assert "send the referral to Derbyshire County Council (the convening authority)" in page
    assert "record the 999 call: when, who called" in page


def test_refusals_keep_what_was_typed(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=["adult_involved"])
    # No reference and no reason.
    refused = record(client, iid, "police", reference="", no_reference_reason="")
    page = text(refused)
    assert refused.status_code == 200
    assert "There is a problem" in page and 'class="govuk-error-summary' in page
    assert "Enter the police reference, or why there is none yet" in page
    assert 'value="Derbyshire Constabulary"' in page and 'value="11:00"' in page
    assert re.search(r'value="101"\s+checked|checked[^>]*value="101"', page)
    # A time in the future.
    refused = record(client, iid, "police", happened_on=["1", "1", "2099"])
    page = text(refused)
    assert refused.status_code == 200
    assert "The date the police were told must be today or in the past" in page
    assert 'value="14/88321/26"' in page and 'value="2099"' in page
    # Nothing required given at all: each field says what it needs.
    refused = record(client, iid, "police", happened_on=["", "", ""], happened_time="",
                     method="", force="", reference="")
    page = text(refused)
    for message in ("Enter the date and time the police were told",
                    "Select how the police were told", "Enter which police force was told",
                    "Enter the police reference, or why there is none yet"):
        assert message in page
    refused = record(client, iid, "police_emergency", caller="")
    assert "Enter who made the 999 call" in text(refused)
    refused = record(client, iid, "adult_social_care", recipient="", happened_time="25:00")
    assert refused.status_code == 200 and "Enter the time like 10:15" in text(refused)
    db.session.expire_all()
    assert db.session.query(RouteHandover).count() == 0
    # With the reason instead of a reference, it is recorded.
    ok = record(client, iid, "police", reference="",
                no_reference_reason="The officer will call back with a crime number.")
    assert ok.status_code == 302
    page = text(client.get(f"/incidents/{iid}"))
    assert ("No police reference yet: The officer will call back with a crime number.") in page
    # Each child's chronology line ends the typed reason once, then who else was involved.
    lines = [e.body for e in
             db.session.query(ChildRecordEntry).filter_by(kind="handing_over").all()]
    # Who recorded it is the line's author, beside it, not in its words (where a pupil shared
    # the name, the words hid it as the pupil's).
    assert lines and all("with a crime number. Also involved" in line and ".." not in line
                         and "Recorded by" not in line and "Dana" not in line for line in lines)


def test_a_correction_keeps_the_original_record(app: Flask, client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=["adult_involved"])
    assert record(client, iid, "police").status_code == 302
    row = db.session.query(RouteHandover).filter_by(incident_id=iid).one()
    url = f"/incidents/{iid}/handing-over/records/{row.id}/correction"
    assert "Reported to Derbyshire Constabulary" in text(client.get(url))
    ok = submit(client, url, {"correction": "The reference is 14/88312/26.",
                              "reason": "Digits swapped when typing it in."})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(RouteHandover, row.id).reference == "14/88321/26"
    addendum = db.session.query(Addendum).filter_by(target_type="route_handover").one()
    assert addendum.target_id == row.id and addendum.field == "details"
    page = text(client.get(f"/incidents/{iid}"))
    assert "reference 14/88321/26" in page and "The reference is 14/88312/26." in page
    # The correction is on the record's line in each involved child's file too (walk 4).
    from sqlalchemy import select

    from portal.models import IncidentChild

    for child_id in db.session.scalars(select(IncidentChild.child_id).where(
            IncidentChild.incident_id == iid)):
        file_page = text(client.get(f"/children/{child_id}"))
        assert "14/88321/26" in file_page  # the original line, kept
        assert "The reference is 14/88312/26." in file_page
        assert "Digits swapped when typing it in." in file_page


def test_another_schools_dsl_gets_404(app: Flask, client: FlaskClient,
                                       other_client: FlaskClient) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=["adult_involved"])
    assert record(client, iid, "police").status_code == 302
    row = db.session.query(RouteHandover).filter_by(incident_id=iid).one()
    sign_in(other_client, w["other_dsl"])
    for slug in SLUGS.values():
        url = f"/incidents/{iid}/handing-over/{slug}"
        assert other_client.get(url).status_code == 404
        assert other_client.post(url, data=POLICE).status_code in (400, 404)
    correction = f"/incidents/{iid}/handing-over/records/{row.id}/correction"
    assert other_client.get(correction).status_code == 404
    # A route with no form of its own, or a code in the address, is not found either.
    for slug in ("csc_referral", "police", "consultation"):
        assert client.get(f"/incidents/{iid}/handing-over/{slug}").status_code == 404
    staff = app.test_client()
    sign_in(staff, w["staff"])
    assert staff.get(f"/incidents/{iid}/handing-over/police-report").status_code == 404


def test_closed_under_the_old_rule_stays_closed_open_ones_are_listed(
    app: Flask, client: FlaskClient
) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    old = incident(client, w, features=["adult_involved"])
    refer(client, old)
    # Closed before this change, when the referral counted for every route.
    db.session.expire_all()
    closed = db.session.get(Incident, old)
    assert closed is not None
    closed.state = "closed"
    db.session.commit()
    assert handover_count(client) == 0
    page = text(client.get(f"/incidents/{old}"))
    assert "Closed incident" in page and "Record the police report" not in page
    # An open incident with the same facts now waits for its police report.
    second = incident(client, w, features=["adult_involved"])
    refer(client, second)
    assert handover_count(client) == 1
    assert f"/incidents/{second}" in handover_section(client)
    assert f"/incidents/{old}" not in handover_section(client)
    db.session.expire_all()
    assert db.session.get(Incident, old).state == "closed"


OUTSIDE = {"happened_on": ["17", "11", "2026"], "happened_time": "12:30", "method": "phone",
           "recipient": "Sam Patel, Children's Advice and Duty Service", "reference": "CH-4471"}


def test_an_authority_off_the_portal_gets_its_referral_recorded(
    app: Flask, client: FlaskClient
) -> None:
    """Every authority involved needs its own referral (R4); one that no longer uses the portal
    is referred through its own front door and the referral recorded here."""
    w = world(app)
    dorset = factories.authority("dorset")
    db.session.commit()
    sign_in(client, w["dsl"])
    iid = start(client, w["concern"])
    assert save_facts(client, iid, types_sexual=[], types_non_sexual=["physical"],
                      features=["adult_involved"]).status_code == 302
    assert add_child(client, iid, w["mia"], "harmed",
                     child_words="He pushed me into the wall.").status_code == 302
    assert add_child(client, iid, w["kai"], "harmed_others", local_authority="dorset",
                     child_words_missing_reason="Refused to speak").status_code == 302
    for child in ("mia", "kai"):
        assert submit(client, f"/incidents/{iid}/decisions/new", {
            "kind": "internal_support", "child": str(w[child].id),
            "reasons": "Safety plan agreed with the child and their parents."},
        ).status_code == 302
        assert tell_parents(client, iid, w[child]).status_code == 302
    dorset.active = False  # Dorset stops using the portal
    db.session.commit()
    refer(client, iid)
    assert record(client, iid, "police").status_code == 302
    page = text(close(client, iid))
    assert "does not use the portal" in page  # still owed: Dorset's referral

    url = f"/incidents/{iid}/handing-over/referral-outside-the-portal"
    html = text(client.get(f"/incidents/{iid}"))
    assert f"{url}?authority=dorset" in html and "Record the referral made to Dorset" in html
    # An authority on the portal is referred through it, never recorded as outside.
    refused = submit(client, url, {**OUTSIDE, "authority": "derbyshire"})
    assert refused.status_code == 200
    assert "only be recorded for an authority involved that does not use" in text(refused)
    # No reference and no reason: refused, and what was typed stays.
    refused = submit(client, url, {**OUTSIDE, "authority": "dorset", "reference": ""})
    assert refused.status_code == 200
    assert "Enter the referral's reference, or why there is none yet" in text(refused)
    assert "Sam Patel, Children's Advice and Duty Service" in text(refused)

    assert submit(client, url, {**OUTSIDE, "authority": "dorset"}).status_code == 302
    page = text(client.get(f"/incidents/{iid}"))
    assert ("Recorded: referral made outside the portal to Dorset Council on 17 November 2026 "
            "at 12:30pm by phone, to Sam Patel, Children's Advice and Duty Service, reference "
            "CH-4471.") in page
    assert "dorset" not in visible(page.split('data-testid="handing-over"')[1].split(
        "</section>")[0])
    assert close(client, iid).status_code == 302


def test_the_referral_tells_the_authority_what_was_already_handed_over(
    app: Flask, client: FlaskClient
) -> None:
    """A police report recorded before the handover travels with the referral, in words."""
    from portal.models import Referral
    from portal.services.packet import packet_pdf
    from portal.services.referrals import read_packet

    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=["adult_involved"])
    assert record(client, iid, "police", reference="",
                  no_reference_reason="The officer will call back with a crime number."
                  ).status_code == 302
    refer(client, iid)
    db.session.expire_all()
    referral = db.session.query(Referral).filter_by(incident_id=iid).one()
    packet = read_packet(referral)
    handed = packet["school_actions"]["handed_over"]
    assert [h["route"] for h in handed] == ["police"]
    assert handed[0]["text"] == (
        "Reported to Derbyshire Constabulary on 17 November 2026 at 11:00am by calling 101. No "
        "police reference yet: The officer will call back with a crime number.")
    page = visible(client.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "Handed over: Report to the police . Reported to Derbyshire Constabulary" in " ".join(
        page.split())
    assert "Nothing recorded before the handover" not in page
    # The reason typed with its own full stop ends once ("...crime number.. Recorded by").
    assert "with a crime number. Recorded by" in page and ".." not in page
    assert "Handed over: Report to the police" in extract(packet_pdf(packet))


def test_a_time_typed_as_on_a_phone_is_understood(app: Flask, client: FlaskClient) -> None:
    """'11am' on the police report means 11:00; a time that is not one says how to write it."""
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=["adult_involved"])
    bad = record(client, iid, "police", happened_time="9.30 in the morning",
                 happened_on=["31", "11", "2026"])
    assert bad.status_code == 200
    assert "Enter the time like 10:15" in text(bad)
    # The summary's link for a date goes to its day box, so keyboard focus lands in it.
    assert 'href="#happened_on-day"' in bad.get_data(as_text=True)
    assert 'id="happened_on-day"' in bad.get_data(as_text=True)
    assert "characters" not in text(bad)
    assert record(client, iid, "police", happened_time="11am").status_code == 302
    page = text(client.get(f"/incidents/{iid}"))
    assert "Recorded: reported to Derbyshire Constabulary on 17 November 2026 at 11:00am" in page



def test_a_child_in_immediate_danger_comes_first_on_the_dashboard(
    app: Flask, client: FlaskClient
) -> None:
    """A concern marked urgent and an incident still owing its 999 call are listed first,
    flagged in words, whatever their age on the list."""
    from tests.helpers.incidents import make_concern

    w = world(app)
    sign_in(client, w["dsl"])
    calm = incident(client, w, features=["adult_involved"])  # older, no danger
    later = make_concern(w["school"], w["staff"], [w["mia"]])
    later.urgent = True
    db.session.commit()
    danger = start(client, later)
    assert save_facts(client, danger, types_sexual=[], types_non_sexual=["physical"],
                      immediate_danger="y").status_code == 302
    assert add_child(client, danger, w["mia"], "harmed",
                     child_words="He has a knife.").status_code == 302
    urgent_concern = make_concern(w["school"], w["staff"], [w["kai"]])
    urgent_concern.urgent = True
    older = make_concern(w["school"], w["staff"], [w["kai"]],
                         submitted_at=dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC))
    db.session.commit()
    html = text(client.get("/dashboard"))
    pending = html[html.index('id="handover"'):html.index('id="new-concerns"')]
    assert pending.index(f"/incidents/{danger}") < pending.index(f"/incidents/{calm}")
    assert "Immediate danger: call 999" in pending.split(f"/incidents/{calm}")[0]
    concerns = html[html.index('id="new-concerns"'):]
    assert concerns.index(f"concern={urgent_concern.id}") < concerns.index(f"concern={older.id}")
    assert "Immediate danger: call 999" in concerns.split("</li>")[0]
    assert "Immediate danger: call 999" not in concerns.split(f"concern={older.id}")[1].split(
        "</li>")[0]


def route_item(page: str, route: str) -> str:
    """The incident page's item for `route` under "What you must and may do"."""
    start_at = page.index(f'<li data-route="{route}">')
    return page[start_at:page.index("</li>", start_at)]


def test_a_route_handed_over_says_when_and_to_whom_instead_of_the_links(
        app: Flask, client: FlaskClient) -> None:
    """Walk 10: the "Hand over" link stayed under a route already handed over, and a line was
    left empty under the "must" warning."""
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=["adult_involved"])
    page = text(client.get(f"/incidents/{iid}"))
    waiting = route_item(page, "csc_referral")
    assert "You must take this route" in waiting and "Hand over to the local authority" in waiting
    # The link follows the warning directly: no empty line (a <br> after its block) between.
    assert not re.search(r"govuk-warning-text.*?</div>\s*<br>", waiting, re.S)

    refer(client, iid)
    assert record(client, iid, "police").status_code == 302
    page = text(client.get(f"/incidents/{iid}"))
    referral = route_item(page, "csc_referral")
    assert "Handed over" in referral
    assert re.search(r"Referral sent to Derbyshire County Council on \d+ \w+ 2026 at "
                     r"\d+:\d\d[ap]m", referral), referral
    assert "Hand over to the local authority" not in referral
    assert "You must take this route" not in referral
    police = route_item(page, "police")
    assert "Handed over" in police
    assert "Reported to Derbyshire Constabulary on 17 November 2026 at 11:00am" in police
    assert "Record the police report" not in police and "/handing-over/" not in police


def test_a_police_report_to_consider_opens_its_own_form(app: Flask, client: FlaskClient) -> None:
    """A walk: "Record that you took this route: Report to the police" opened a general
    decision form (with a review date) when the route was one to consider; the police report
    has a form of its own."""
    w = world(app)
    sign_in(client, w["dsl"])
    iid = incident(client, w, features=[], crime_suspected="y")
    assert "police" not in mandatory(iid)
    page = client.get(f"/incidents/{iid}").get_data(as_text=True)
    routes = page[:page.index('data-testid="handing-over"')] \
        if 'data-testid="handing-over"' in page else page
    assert "Report to the police" in visible(routes)  # to consider: a crime, a child over 10
    assert f'href="/incidents/{iid}/handing-over/police-report">Record the police report' in routes
    assert "decisions/new?route=police&amp;kind=handed_over" not in routes
    # Talking it through with the consultation line is taken by recording the call: its form,
    # then shown as taken (a walk: "Record that you took this route" after the call).
    assert "Talk it through with the consultation line" in visible(routes)
    assert (f'href="/incidents/{iid}/calls/new">Record a call to the consultation line'
            in routes)
    from portal.services import referrals as referral_service
    incident_row = db.session.get(Incident, iid)
    referral_service.record_call(
        incident_row, w["dsl"], authority_code="derbyshire",
        called_at=dt.datetime(2026, 11, 17, 10, 15, tzinfo=dt.UTC), spoke_to="Sam Duty",
        advice="Keep them apart", decision="No referral", reasons="The facts",
        now=dt.datetime(2026, 11, 17, 10, 30, tzinfo=dt.UTC))
    db.session.commit()
    page = client.get(f"/incidents/{iid}").get_data(as_text=True)
    routes = visible(page[:page.index('data-testid="handing-over"')])
    assert "Record a call to the consultation line" not in routes
    assert "Call to Derbyshire County Council recorded, 17 November 2026 at 10:15am" in routes
