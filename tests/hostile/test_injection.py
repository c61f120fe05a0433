"""Stored XSS and template injection typed into every text field, then read back in every view,
export and email that shows it: inert everywhere. SQL injection in every search, sort and query
parameter: no 500, no extra rows, no SQL text. NUL bytes in plaintext columns. Both backends.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import notify
from portal.models import Child, Concern, LocalAuthority, Referral, School, db
from portal.services import incidents as incident_service
from tests import factories
from tests.helpers.access import urls
from tests.helpers.pdfs import pdf_shows, pdf_text
from tests.helpers.signing_in import csrf_from, sign_in, submit
from tests.hostile import (
    ESCAPED_SCRIPT,
    EVALUATED,
    FULL,
    NAME,
    SCRIPT,
    SHORT,
    assert_inert_html,
    assert_no_leak,
)
from tests.referral_data import incident as make_incident
from tests.web import handover_forms
from tests.web.test_access_matrix import world as matrix_world


def errors(body: str) -> list[str]:
    found = re.findall(r'class="govuk-error-message"[^>]*>(.*?)</p>', body, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", f).split()) for f in found]


def ok(response: Any, what: str) -> str:
    body = response.get_data(as_text=True)
    # 303: a post that succeeded redirects (POST-redirect-GET).
    assert response.status_code in (200, 302, 303), f"{what}: {response.status_code} {errors(body)}"
    assert_no_leak(body, what)
    return body


def today_parts(days_ago: int = 0) -> list[str]:
    from portal.clock import today as london_today

    d = london_today() - dt.timedelta(days=days_ago)
    return [str(d.day), str(d.month), str(d.year)]






def assert_plain_email(message: EmailMessage, where: str) -> None:
    assert message.get_content_type() == "text/plain", f"{where}: not a plain-text email"
    assert not message.is_multipart()
    text = message.get_content() + str(message["Subject"])
    for marker in EVALUATED:
        assert marker not in text, f"{where}: template evaluated ({marker!r})"
    assert_no_leak(text, where)


# ---------------------------------------------------------------------------------------------
# Stored XSS and template injection


def test_payloads_in_every_text_field_are_inert_in_every_view(
    app: Flask, client: FlaskClient
) -> None:
    other_client = app.test_client()
    la = factories.authority("derbyshire")
    factories.authority("darlington")
    admin = factories.user("admin")
    db.session.commit()
    admin_client = app.test_client()
    assert sign_in(admin_client, admin).status_code == 302

    # Administration: organisation names.
    ok(submit(admin_client, "/admin/schools/new",
              {"name": FULL, "urn": "123456", "authority": str(la.id)}), "add school")
    ok(submit(admin_client, "/admin/authorities/new",
              {"directory_code": "", "code": "xss-shire", "name": FULL}), "add authority")
    ok(submit(admin_client, "/admin/users/new",
              {"email": "named@example.test", "display_name": NAME, "role": "la_adviser",
               "school": "", "authority": str(la.id), "password": ""}), "add user")
    for url in ("/admin/schools", "/admin/authorities", "/admin/users", "/admin/"):
        assert_inert_html(ok(admin_client.get(url), url), url, shown=url != "/admin/")

    school = db.session.scalar(select(School).where(School.urn == "123456"))
    assert school is not None and school.name == FULL
    staff = factories.user("staff", org=school, display_name=NAME)
    dsl = factories.user("dsl", org=school, display_name=NAME, email="dsl@oak.example")
    adviser = factories.user("la_adviser", org=la)
    mia = factories.child(school, NAME, SHORT, dt.date(2014, 3, 2))
    kai = factories.child(school, "Kai", "Stenhouse", dt.date(2012, 1, 9))
    db.session.commit()

    # A member of staff raises a concern, naming a new child too.
    assert sign_in(client, staff).status_code == 302
    notify.outbox().clear()
    sent = submit(client, "/concerns/new", {
        "child_ids": [str(mia.id)], "what_happened": FULL, "child_words": FULL,
        "child_words_missing_reason": "", "occurred_on": today_parts(), "when_text": FULL,
        "where": FULL, "online": "no", "urgent": "yes", "new_given": NAME,
        "new_family": SHORT + " Junior",
        "new_dob_unknown": "y", "submit": "y"})
    assert sent.status_code == 302, errors(sent.get_data(as_text=True))
    concern_url = sent.headers["Location"]
    assert_inert_html(ok(client.get(concern_url), "concern page"), "concern page")
    assert_inert_html(ok(client.get("/concerns/mine"), "your concerns"), "your concerns",
                      shown=False)
    concern_alerts = list(notify.outbox())
    assert concern_alerts, "the DSL was alerted"
    for message in concern_alerts:
        assert_plain_email(message, "concern alert")

    # The DSL's incident: summary, the child's words, the concern, decisions, addenda, a call.
    incident = make_incident(school, dsl, [(mia, "harmed"), (kai, "harmed_others")],
                             summary=FULL, words={mia.reference: FULL}, concern_text=FULL)
    db.session.commit()
    assert sign_in(other_client, dsl).status_code == 302
    dsl_client = other_client
    base = f"/incidents/{incident.id}"
    route = incident_service.latest_assessment(incident).routes[0]
    ok(submit(dsl_client, f"{base}/decisions/new",
              {"kind": "take_route", "route": route, "child": "", "what": FULL[:500],
               "reasons": FULL}), "decision")
    ok(submit(dsl_client, f"{base}/summary/correction", {"correction": FULL, "reason": FULL}),
       "summary correction")
    from portal.models import Decision

    decision = db.session.scalar(select(Decision).where(Decision.incident_id == incident.id))
    assert decision is not None
    ok(submit(dsl_client, f"{base}/decisions/{decision.id}/correction",
              {"correction": FULL, "reason": FULL}), "decision correction")
    ok(submit(dsl_client, f"{base}/children/{mia.id}",
              {"version": str(incident.version), "role": "harmed", "dob": ["2", "3", "2014"],
               "local_authority": "derbyshire", "same_school": "y", "household": SHORT,
               "child_words": FULL, "child_words_missing_reason": ""}), "child in incident")
    called = submit(dsl_client, f"{base}/calls/new?authority=derbyshire", {
        "authority": "derbyshire", "called_on": today_parts(1), "called_time": "10:00",
        "spoke_to": FULL, "advice": FULL, "decision": FULL, "reasons": FULL},
        form_url=f"{base}/calls/new?authority=derbyshire")
    assert called.status_code == 302, errors(called.get_data(as_text=True))
    # The hand-over's own text (issue 14): the DSL's contact details, the parents' answer and
    # the covering note, through the preview (its hidden fields carry the payloads back).
    preview = handover_forms.preview(dsl_client, f"{base}/hand-over/derbyshire", {
        "role": NAME, "phone": SHORT, "availability": FULL, "covering_note": FULL,
        f"agree_{mia.reference}": "no", f"agree_why_{mia.reference}": FULL})
    ok(preview, "hand-over preview")
    assert_inert_html(preview.get_data(as_text=True), "hand-over preview")
    handed = handover_forms.confirm(dsl_client, f"{base}/hand-over/derbyshire", preview)
    assert handed.status_code == 302, errors(handed.get_data(as_text=True))
    referral = db.session.scalar(select(Referral).where(Referral.incident_id == incident.id))
    assert referral is not None

    # The adviser: inbox, the referral, the answer and a milestone note.
    adviser_client = app.test_client()
    assert sign_in(adviser_client, adviser).status_code == 302
    rurl = f"/referrals/{referral.id}"
    assert_inert_html(ok(adviser_client.get("/referrals"), "inbox"), "inbox")
    ok(submit(adviser_client, f"{rurl}/answer", {
        "outcome": "csc_assessment", "reasons": FULL, "social_worker": FULL,
        "social_worker_harmed": FULL, "social_worker_harmed_others": NAME,
        "other_workers": FULL, "strategy_meeting_on": ["", "", ""],
        "strategy_meeting_time": ""}), "answer")
    ok(submit(adviser_client, f"{rurl}/milestone", {"kind": "cin_review_held", "note": FULL},
              form_url=rurl), "milestone")
    assert_inert_html(ok(adviser_client.get(rurl), "referral (adviser)"), "referral (adviser)")

    # Every DSL view that shows them (these show only the school's name in the header, or
    # only children's initials: still checked inert).
    start_url = f"/incidents/new?concern={uuid.UUID(concern_url.rsplit('/', 1)[1])}"
    not_shown = {"/home", f"{base}/facts", f"/children/{kai.id}", "/dashboard", start_url}
    for url in (base, f"{base}/children", f"{base}/lines", f"{base}/summary", f"{base}/facts",
                f"/children/{mia.id}", f"/children/{mia.id}/print", f"/children/{kai.id}",
                "/dashboard", rurl,
                f"{base}/decisions/new", f"{base}/close",
                start_url, concern_url, "/home"):
        body = ok(dsl_client.get(url), url)
        assert_inert_html(body, url, shown=url not in not_shown)
    body = ok(submit(dsl_client, "/children", {"name": NAME + " " + SHORT}), "search")
    assert_inert_html(body, "search", shown=True)

    # Exports: JSON carries the text exactly, as data; the PDF draws it as text.
    for who in (dsl_client, adviser_client):
        packet = who.get(f"{rurl}/packet.json")
        assert packet.status_code == 200 and packet.mimetype == "application/json"
        raw = packet.get_data(as_text=True)
        for marker in EVALUATED:
            assert marker not in raw
        data = json.loads(raw)
        assert data["incident"]["summary"] == FULL
        assert data["children"][0]["child_words"] == FULL
        assert data["school_actions"]["consultation_calls"][0]["advice"] == FULL
        assert data["from"]["school"]["name"] == FULL
        pdf = who.get(f"{rurl}/packet.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        assert pdf.data.rstrip().endswith(b"%%EOF")
        text = pdf_text(pdf.data)
        assert pdf_shows(text, SCRIPT) and pdf_shows(text, "T[{{7*7}}]")
        for marker in EVALUATED:
            assert marker not in text

    # Every alert email sent along the way.
    messages = list(notify.outbox())
    assert len(messages) > len(concern_alerts), "referral alerts were sent too"
    for message in messages:
        assert_plain_email(message, f"email {message['Subject']}")


def test_payload_in_the_search_box_is_shown_escaped(app: Flask, client: FlaskClient) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    db.session.commit()
    sign_in(client, dsl)
    for url in ("/children",):
        response = submit(client, url, {"name": FULL})
        assert response.status_code in (200, 400)
        body = response.get_data(as_text=True)
        assert_no_leak(body, url)
        assert SCRIPT not in body and ESCAPED_SCRIPT in body
        for marker in EVALUATED:
            assert marker not in body


# ---------------------------------------------------------------------------------------------
# SQL injection

SQLI = [
    "' OR '1'='1", "' OR 1=1 --", "\" OR \"\"=\"", "'; DROP TABLE children; --",
    "Harbottle' --", "%' OR name LIKE '%", "1) UNION SELECT NULL,NULL--", "name ASC; --",
    "(SELECT 1)", "1; SELECT pg_sleep(0)", "\x00", "\\", "%", "_", "' || '", "Mia\x00Harbottle",
    "desc, (select 1)", "oldest' --",
]


def test_sql_injection_in_child_searches_finds_nothing(app: Flask, client: FlaskClient) -> None:
    other_client = app.test_client()
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school)
    children = [factories.child(school, g, f) for g, f in
                (("Mia", "Harbottle"), ("Kai", "Stenhouse"), ("Ava", "Ormond"))]
    incident = make_incident(school, dsl, [(children[0], "harmed")])
    db.session.commit()
    refs = [c.reference for c in children]
    sign_in(client, dsl)
    # A real search finds exactly one child (so "finds nothing" below means something).
    dsl_token = csrf_from(client.get("/children"))

    def search(url: str, name: str) -> Any:
        return client.post(url, data={"csrf_token": dsl_token, "name": name})

    body = ok(search("/children", "Mia Harbottle"), "search")
    assert "1 child matches your search" in body and refs[0] in body
    sign_in(other_client, staff)
    token = csrf_from(other_client.get("/concerns/new"))
    # A DSL finds a child by any word of the name (issue 13), punctuation ignored: these two
    # payloads carry Mia's name as words, so they may find her (and only her); every other
    # payload finds no child at all.
    naming_mia = {"Harbottle' --", "Mia\x00Harbottle"}
    for payload in SQLI:
        body = ok(search("/children", payload), f"children search {payload!r}")
        if payload in naming_mia:
            results = body.split("Recent children")[0]  # the page also lists recent children
            assert ("1 child matches your search" in results
                    or "No children match your search" in results), payload
            assert refs[1] not in results and refs[2] not in results, f"{payload!r} found others"
        else:
            assert "No children match your search" in body, f"{payload!r} found children"
        body = ok(search(f"/incidents/{incident.id}/children", payload), "incident search")
        assert refs[1] not in body and refs[2] not in body, f"{payload!r} found children"
        response = other_client.post("/concerns/new", data={
            "csrf_token": token, "child_search": payload, "find": "y"}, follow_redirects=True)
        body = ok(response, f"concern name search {payload!r}")
        # Nothing found: "no child found", or, for one word, "enter both names" (staff find a
        # child by full name only).
        assert not any(ref in body for ref in refs), f"{payload!r} found children"
        assert ("No child found with that name" in body
                or "first name and family name" in body), f"{payload!r} gave no message"
        assert not any(ref in body for ref in refs), f"{payload!r} found children"
    assert db.session.scalar(select(Child).where(Child.id == children[0].id)) is not None
    assert len(db.session.scalars(select(Child)).all()) == 3


def test_sql_injection_in_sort_order_and_query_parameters(app: Flask) -> None:
    """Every GET route, for every role, with hostile sort/order/search parameters."""
    data = matrix_world(app)
    hostile = "&".join(f"{key}={quote(value)}" for key, value in (
        ("sort", "name; DROP TABLE users; --"), ("order", "' OR '1'='1"),
        ("name", "' OR 1=1 --"), ("q", "\x00'\""), ("page", "-1 UNION SELECT 1"),
        ("concern", "' OR '1'='1"), ("route", "x' --"), ("child", "1 OR 1=1"),
        ("kind", "'; --"), ("authority", "' OR ''='"), ("limit", "99999999999999999999")))
    for who in ("staff", "dsl", "la_adviser", "admin"):
        client = app.test_client()
        assert sign_in(client, data["users"][who]).status_code == 302
        for endpoint, method, url, _has_id in urls(app, data["ids_for"][who]):
            if method != "GET" or endpoint in ("auth.sign_in_code", "auth.sign_in_enrol"):
                continue
            response = client.get(f"{url}?{hostile}")
            assert response.status_code < 500, f"{who} GET {url}?…: {response.status_code}"
            assert_no_leak(response.get_data(as_text=True), f"{who} {url}")
    # Nothing was dropped or changed.
    from portal.models import User

    assert len(db.session.scalars(select(User)).all()) == len(data["users"])
    assert len(db.session.scalars(select(Concern)).all()) == 2


def test_hostile_ids_and_codes_in_paths_are_404(app: Flask, client: FlaskClient) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    child = factories.child(school)
    incident = make_incident(school, dsl, [(child, "harmed")])
    db.session.commit()
    sign_in(client, dsl)
    for payload in ("' OR '1'='1", "1 OR 1=1", "derbyshire' --", "%00", "..%2f..%2f"):
        for url in (f"/incidents/{incident.id}/hand-over/{quote(payload, safe='%')}",
                    f"/children/{quote(payload, safe='%')}",
                    f"/incidents/new?concern={quote(payload)}"):
            response = client.get(url)
            assert response.status_code == 404, f"{url}: {response.status_code}"
            assert_no_leak(response.get_data(as_text=True), url)


# ---------------------------------------------------------------------------------------------
# NUL and other control characters in plaintext columns (PostgreSQL refuses NUL in text)


@pytest.mark.parametrize("value", ["Oak\x00field", "Oak\x1bfield", "Oak\u202efield"])
def test_control_characters_in_organisation_and_account_names(
    app: Flask, client: FlaskClient, value: str
) -> None:
    la = factories.authority("derbyshire")
    admin = factories.user("admin")
    db.session.commit()
    sign_in(client, admin)
    for url, fields in (
        ("/admin/schools/new", {"name": value, "urn": "654321", "authority": str(la.id)}),
        ("/admin/authorities/new", {"directory_code": "", "code": "ctl-shire", "name": value}),
        (f"/admin/authorities/{la.id}", {"line": value, "phone": "", "hours_mon": ""}),
        ("/admin/users/new", {"email": f"a{uuid.uuid4().hex[:6]}@example.test",
                              "display_name": value, "role": "admin", "password": ""}),
    ):
        response = submit(client, url, fields)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        assert_no_leak(response.get_data(as_text=True), url)
    for url in ("/admin/schools", "/admin/authorities", "/admin/users"):
        assert client.get(url).status_code == 200
    signed_out = app.test_client()
    response = submit(signed_out, "/sign-in", {"email": f"a{value}@example.test",
                                               "password": value})
    assert response.status_code == 200 and "Enter a correct email address" in \
        response.get_data(as_text=True)
    assert db.session.scalars(select(LocalAuthority)).all()
