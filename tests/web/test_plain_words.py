"""Plain words on every page, the PDF and the emails (issue 14, items 2 and 5).

One incident carries every code: every type and feature, a child in every role (five children in
three local authorities, two in one household), every trigger and consideration, a decision of
every kind (one about each route), a consultation call, the referral handed over through the
form, the adviser's answer for one child and every milestone after it. Then every page of the
app a DSL, a member of staff, the adviser and an administrator can open (the GET routes of the
url map, with this world's ids), the referral's PDF and every email sent are read as a person
reads them: none may show a raw code, a procedure's file number or an ISO date or time.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import notify
from portal.incidents.views import ROUTE_SLUGS
from portal.models import (
    Assessment,
    Concern,
    ConcernChild,
    Decision,
    Incident,
    IncidentChild,
    IncidentConcern,
    Referral,
    ReferralResponse,
    db,
)
from portal.rules import AdultHarmed, ChildFacts, IncidentFacts, assess
from portal.rules.vocabulary import (
    CONSIDERATIONS,
    DECISION_LABELS,
    FEATURES,
    ROLES,
    ROUTES,
    TRIGGER_LABELS,
    TRIGGERS,
    TYPES,
)
from portal.services import referrals as service
from portal.services.localtime import directory_from_db
from tests import factories
from tests.helpers.signing_in import csrf_from, sign_in, submit
from tests.referral_data import local
from tests.web import handover_forms
from tests.wordcheck import NOT_WORDS as WORDS_EXEMPT
from tests.wordcheck import pdf_text, problems, visible_text

NOT_WORDS = WORDS_EXEMPT | {"auth.set_up"}  # a set-up link needs its token


def _incident(w: dict[str, Any]) -> Incident:
    school, dsl = w["school"], w["dsl"]
    kids = w["kids"]
    households = {"harmed": "home-1", "harmed_others": "home-1"}
    facts = IncidentFacts(
        occurred_on=dt.date(2026, 11, 16), reported_at=dt.datetime(2026, 11, 17, 9, 30),
        types=frozenset(TYPES), features=frozenset(FEATURES), online=True, sexual_activity=True,
        immediate_danger=True, crime_suspected=True, arrested=False,
        adults_harmed=(AdultHarmed(at_risk=True),),
        children=tuple(ChildFacts(ref=c.reference, role=role, dob=c.dob,  # type: ignore[arg-type]
                                  local_authority=c.local_authority_code or "",
                                  send=bool(c.send), household=households.get(role))
                       for role, c in kids.items()),
    )
    result = assess(facts, directory_from_db())
    assert set(result.triggers) == set(TRIGGERS)
    assert set(result.considerations) == set(CONSIDERATIONS)
    school.next_incident_number += 1
    inc = Incident(
        school_id=school.id, reference="I0001", opened_by_id=dsl.id,
        occurred_on=facts.occurred_on, reported_at=local("2026-11-17T09:30"), online=True,
        sexual_activity=True, immediate_danger=True, crime_suspected=True, arrested=False,
        adults_harmed=[{"at_risk": True}], types=sorted(TYPES), features=sorted(FEATURES),
        mandatory_routes=list(result.mandatory_routes),
    )
    inc.summary = "Seen by the lunch supervisor on the field. " * 3
    db.session.add(inc)
    db.session.flush()
    for position, (role, child) in enumerate(kids.items()):
        ic = IncidentChild(incident_id=inc.id, child_id=child.id, school_id=school.id,
                           position=position, role=role, household=households.get(role))
        ic.child_words = f"{child.given_name} said it happened at break."
        db.session.add(ic)
    concern = Concern(school_id=school.id, raised_by_id=w["staff"].id, state="picked_up",
                      occurred_on=facts.occurred_on, submitted_at=local("2026-11-17T09:00"))
    concern.what_happened = "Two pupils were seen by the fence."
    db.session.add(concern)
    db.session.flush()
    db.session.add(IncidentConcern(incident_id=inc.id, concern_id=concern.id))
    for child in kids.values():
        db.session.add(ConcernChild(concern_id=concern.id, child_id=child.id))
    assessment = Assessment(
        incident_id=inc.id, school_id=school.id, incident_version=1,
        rules_version=result.rules_version, triggers=list(result.triggers),
        routes=list(result.routes), mandatory_routes=list(result.mandatory_routes),
        considerations=list(result.considerations))
    assessment.result = json.dumps(result.as_json())
    db.session.add(assessment)
    # A decision of every kind; each route is named by one; the support decisions each for a
    # child. The review reviews the "no further action" one.
    at = local("2026-11-18T10:05")
    routes = iter(ROUTES)
    decisions: dict[str, Decision] = {}
    for kind in DECISION_LABELS:
        route = next(routes, "consultation") if kind in ("take_route", "handed_over",
                                                         "decline_route") else None
        d = Decision(school_id=school.id, incident_id=inc.id, kind=kind, route=route,
                     decided_by_id=dsl.id, decided_at=at,
                     child_id=kids["harmed"].id if kind in ("internal_support",
                                                            "no_further_action",
                                                            "early_help") else None,
                     review_on=dt.date(2026, 12, 14) if kind in ("internal_support",
                                                                 "no_further_action") else None)
        d.what = f"{DECISION_LABELS[kind]} recorded."
        d.reasons = "Talked through with the deputy DSL."
        decisions[kind] = d
        db.session.add(d)
    for route in ROUTES:  # every route named by a decision
        d = Decision(school_id=school.id, incident_id=inc.id, kind="take_route", route=route,
                     decided_by_id=dsl.id, decided_at=at, child_id=kids["both"].id)
        d.what, d.reasons = "Route taken.", "The procedure says so."
        db.session.add(d)
    db.session.flush()
    review = decisions["review"]
    review.reviews_id, review.review_outcome = decisions["no_further_action"].id, "again"
    w["decision"] = decisions["internal_support"]
    w["concern"] = concern
    return inc


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    derbyshire = factories.authority("derbyshire")
    factories.authority("derby-city")
    factories.authority("darlington")
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school, email="dsl@oak.example", display_name="Dana Lead")
    staff = factories.user("staff", org=school, email="teacher@oak.example",
                           display_name="Pat Teacher")
    adviser = factories.user("la_adviser", org=derbyshire, email="adv@derbys.example",
                             display_name="Alex Byrne")
    admin = factories.user("admin", email="admin@portal.example", display_name="Ada Min")
    kids = {
        "harmed": factories.child(school, "Mia", "Harbottle", dt.date(2014, 3, 2)),
        "harmed_others": factories.child(school, "Kai", "Stenhouse", dt.date(2010, 1, 9),
                                         la_code="derby-city"),
        "both": factories.child(school, "Noor", "Fairweather", dt.date(2017, 6, 1),
                                la_code="darlington", send=True),
        "involved": factories.child(school, "Ivo", "Pennant", dt.date(2013, 2, 2)),
        "witness": factories.child(school, "Wren", "Castell", dt.date(2012, 2, 2)),
    }
    assert set(kids) == set(ROLES)
    w: dict[str, Any] = {"derbyshire": derbyshire, "school": school, "dsl": dsl,
                         "staff": staff, "adviser": adviser, "admin": admin, "kids": kids}
    w["incident"] = _incident(w)
    service.record_call(w["incident"], dsl, authority_code="derbyshire",
                        called_at=local("2026-11-17T10:15"), spoke_to="Sam Patel, duty worker",
                        advice="Refer today.", decision="Referral to be sent.",
                        reasons="The children's ages.", now=local("2026-11-17T10:30"))
    db.session.commit()
    return w


def _hand_over_and_answer(app: Flask, w: dict[str, Any],
                          monkeypatch: pytest.MonkeyPatch) -> Referral:
    dsl_client, adviser_client = app.test_client(), app.test_client()
    assert sign_in(dsl_client, w["dsl"]).status_code == 302
    url = f"/incidents/{w['incident'].id}/hand-over/derbyshire"
    assert handover_forms.hand_over(dsl_client, url).status_code == 302
    referral = db.session.scalar(select(Referral).where(
        Referral.incident_id == w["incident"].id))
    assert referral is not None
    assert sign_in(adviser_client, w["adviser"]).status_code == 302
    meeting = dt.date.today() + dt.timedelta(days=2)
    response = submit(adviser_client, f"/referrals/{referral.id}/answer", {
        "child": w["kids"]["harmed"].reference, "outcome": "strategy_meeting",
        "reasons": "A strategy meeting for Mia: the school should keep the safety plan.",
        "strategy_meeting_on": [str(meeting.day), str(meeting.month), str(meeting.year)],
        "strategy_meeting_time": "10:00",
        "social_worker_harmed": "Jo Harmon", "social_worker_harmed_others": "Lee Other"})
    shown = " ".join(visible_text(response.get_data(as_text=True)).split())
    assert response.status_code == 302, shown[:3000]
    view = f"/referrals/{referral.id}"

    def milestone(kind: str) -> None:
        response = submit(adviser_client, f"/referrals/{referral.id}/milestone",
                          {"kind": kind, "note": "Nothing to add: the plan is working."},
                          form_url=view)
        assert response.status_code == 302

    # What can follow a strategy meeting, once it has taken place (a conference is held or not
    # needed, never both: icpc_held is on tests/web/test_referrals.py's pages), then the other
    # child's assessment and its review.
    after_meeting = dt.datetime.combine(meeting, dt.time(12, 0), tzinfo=dt.UTC)
    monkeypatch.setattr(service, "utcnow", lambda: after_meeting)
    milestone("minutes_sent")
    milestone("icpc_not_needed")
    response = submit(adviser_client, f"/referrals/{referral.id}/answer", {
        "child": w["kids"]["harmed_others"].reference, "outcome": "csc_assessment",
        "reasons": "An assessment of Kai's needs, with the family.",
        "social_worker_harmed": "Jo Harmon", "social_worker_harmed_others": "Lee Other"})
    assert response.status_code == 302, visible_text(response.get_data(as_text=True))[:3000]
    milestone("cin_review_held")
    return referral


def _urls(app: Flask, w: dict[str, Any], referral: Referral) -> list[tuple[str, str]]:
    ids = {
        "incident_id": w["incident"].id, "child_id": w["kids"]["harmed"].id,
        "referral_id": referral.id, "concern_id": w["concern"].id,
        "decision_id": w["decision"].id, "authority_id": w["derbyshire"].id,
        "user_id": w["dsl"].id, "code": "derbyshire",
    }
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_WORDS:
            continue
        if rule.endpoint == "incidents.record_route":
            out += [(rule.endpoint, f"/incidents/{w['incident'].id}/handing-over/{slug}")
                    for slug in ROUTE_SLUGS.values()]
            continue
        if not set(rule.arguments) <= set(ids):
            continue  # an id this world has none of (an attachment, a set-up token)
        with app.test_request_context():
            from flask import url_for

            out.append((rule.endpoint, url_for(rule.endpoint, **{
                a: ids[a] for a in rule.arguments})))
    return out


def test_every_page_pdf_and_email_in_plain_words(app: Flask, world: dict[str, Any],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    referral = _hand_over_and_answer(app, world, monkeypatch)
    urls = _urls(app, world, referral)
    assert len(urls) > 40
    found: list[str] = []
    read: dict[str, set[str]] = {}
    for role in ("dsl", "staff", "adviser", "admin"):
        client = app.test_client()
        assert sign_in(client, world[role]).status_code == 302
        for endpoint, url in urls:
            response = client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            read.setdefault(role, set()).add(endpoint)
            found += [f"{role} {url}: {p}"
                      for p in problems(visible_text(response.get_data(as_text=True)))]
        if role in ("dsl", "adviser"):
            pdf = client.get(f"/referrals/{referral.id}/packet.pdf")
            assert pdf.status_code == 200
            text = pdf_text(pdf.data)
            # Every type, joined as one sentence: after the first, each as it reads mid-sentence
            # ("... and sexual harassment"; walk 10).
            assert "sexual harassment" in " ".join(text.split()) and "Derby City Council" in text
            found += [f"{role} PDF: {p}" for p in problems(text)]
    # The pages that matter were really read, by each role that may open them.
    assert {"incidents.show", "incidents.dashboard", "children.file", "children.print_file",
            "referrals.view", "referrals.incident_lines", "incidents.decide", "incidents.review",
            "concerns.view", "concerns.triage", "incidents.facts"} <= read["dsl"]
    assert {"referrals.inbox", "referrals.view", "referrals.answer"} <= read["adviser"]
    assert {"concerns.new", "concerns.mine", "auth.home"} <= read["staff"]
    assert {"admin.overview", "admin.users", "admin.authorities"} <= read["admin"]
    emails = notify.outbox()
    assert emails, "the handover and the answer each email"
    for message in emails:
        body = message.get_body(("plain",))
        text = f"{message['Subject']}\n{body.get_content() if body else ''}"
        found += [f"email {message['Subject']}: {p}" for p in problems(text)]
    assert not found, "\n".join(found)


def test_adviser_answer_carries_name_role_and_child_in_plain_words(
        app: Flask, client: FlaskClient, world: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    referral = _hand_over_and_answer(app, world, monkeypatch)
    answer = db.session.scalars(select(ReferralResponse).where(
        ReferralResponse.referral_id == referral.id,
        ReferralResponse.outcome == "strategy_meeting")).one()
    assert answer.child_ref == world["kids"]["harmed"].reference
    assert sign_in(client, world["dsl"]).status_code == 302
    page = visible_text(client.get(f"/referrals/{referral.id}").get_data(as_text=True))
    card = page[page.index("Strategy meeting arranged,"):]
    card = " ".join(card.split())
    assert card.startswith("Strategy meeting arranged, ")
    assert "For Mia Harbottle (C0001)." in card
    assert ("Answered by Alex Byrne, local authority adviser, Derbyshire County Council"
            in card)
    # The school's own decisions in the packet, each with the child it is for.
    flat = re.sub(r"\s+([,.:;])", r"\1", " ".join(page.split()))
    assert "Support in school, for Mia Harbottle (C0001), by Dana Lead" in flat
    assert "Lives in Derby City Council" in " ".join(page.split())
    # The answer is in Mia's file only, with who answered; not in Kai's.
    mia = visible_text(client.get(f"/children/{world['kids']['harmed'].id}").get_data(
        as_text=True))
    kai = visible_text(client.get(f"/children/{world['kids']['harmed_others'].id}").get_data(
        as_text=True))
    assert "for this child: Strategy meeting arranged" in " ".join(mia.split())
    assert "Answered by Alex Byrne, local authority adviser" in " ".join(mia.split())
    assert "Strategy meeting arranged" not in kai


def test_answer_for_a_child_outside_the_referral_is_refused(
        app: Flask, client: FlaskClient, world: dict[str, Any]) -> None:
    dsl_client = app.test_client()
    assert sign_in(dsl_client, world["dsl"]).status_code == 302
    assert handover_forms.hand_over(
        dsl_client, f"/incidents/{world['incident'].id}/hand-over/derbyshire").status_code == 302
    referral = db.session.scalar(select(Referral))
    assert referral is not None
    assert sign_in(client, world["adviser"]).status_code == 302
    response = submit(client, f"/referrals/{referral.id}/answer", {
        "child": "C9999", "outcome": "early_help", "reasons": "Early help for the family."})
    assert response.status_code == 200
    assert "Choose a child named in this referral, or every child" in response.get_data(
        as_text=True)
    assert db.session.scalars(select(ReferralResponse)).all() == []
    # Without a choice (a form from before the question existed) it is for every child.
    page = client.get(f"/referrals/{referral.id}/answer")
    response = client.post(f"/referrals/{referral.id}/answer", data={
        "csrf_token": csrf_from(page), "outcome": "early_help",
        "reasons": "Early help for the family."})
    assert response.status_code == 302
    saved = db.session.scalars(select(ReferralResponse)).one()
    assert saved.child_ref is None
    page = visible_text(client.get(f"/referrals/{referral.id}").get_data(as_text=True))
    assert "For every child in this referral." in " ".join(page.split())


def test_sources_link_to_the_rules_page(client: FlaskClient, world: dict[str, Any]) -> None:
    assert sign_in(client, world["dsl"]).status_code == 302
    html = client.get(f"/incidents/{world['incident'].id}").get_data(as_text=True)
    links = set(re.findall(r'href="(/how-the-portal-decides#[\w-]+)"', html))
    assert "/how-the-portal-decides#immediate-danger" in links
    assert "/how-the-portal-decides#6-considerations" in links
    rules = client.get("/how-the-portal-decides").get_data(as_text=True)
    for link in links:
        assert f'id="{link.split("#")[1]}"' in rules
    assert "<script" not in rules.split('data-testid="rules-document"')[1].split("</main>")[0]
    assert client.get("/how-the-portal-decides").status_code == 200
    # Every reason to act has its place on the page, in words: no code, no procedure's file
    # number (it showed the technical document until a walk of 1 December).
    for code in TRIGGER_LABELS:
        assert f'id="{code.lower().replace("_", "-")}"' in rules, code
    assert 'id="how-sources-are-cited"' in rules
    assert problems(visible_text(rules)) == []
    # Signed out: sign in first.
    app_client = client.application.test_client()
    assert app_client.get("/how-the-portal-decides").status_code == 302


@pytest.mark.parametrize("seen", [
    "Types: sexual_harassment", "Lives in: derbyshire", "Lives in: derby-city",
    "Decision (internal_support, 2026-11-29T22:35:03Z)", "Source: 000, 004",
    "feature no_consent", "IMMEDIATE_DANGER", "Happened on 2026-11-16",
    "whether the parents or carers were told (R9)",
])
def test_the_check_finds_what_the_issue_saw(seen: str) -> None:
    """The examples of issue 14 are each caught (the check above can fail)."""
    assert problems(seen)


@pytest.mark.parametrize("fine", [
    "Lives in Derbyshire County Council", "adv@derbyshire.example", "Call 0300 123 4567",
    "Sexual harassment", "Online", "17 November 2026 at 10:15am", "Referral R-E47DA836",
])
def test_the_check_passes_plain_words(fine: str) -> None:
    assert problems(fine) == []
