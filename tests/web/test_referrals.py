"""The referrals feature through the browser's forms (CSRF on): which line now, consultation
calls, handover, the advisers' inbox, acknowledge and answer, cross-boundary cases, and 404 for
everyone outside."""

from __future__ import annotations

import datetime as dt
import html as html_text
import json
import re
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import notify
from portal.models import (
    AuditEvent,
    ChildRecordEntry,
    OutboxAttempt,
    OutboxMessage,
    Referral,
    ReferralResponse,
    db,
)
from portal.services import handover
from portal.services import referrals as service
from portal.services.packet import reference_for
from scripts.mailsink import MailSink
from tests import factories
from tests.helpers.signing_in import csrf_from, override_settings, sign_in
from tests.referral_data import incident, local
from tests.web import handover_forms

# Friday 20 November 2026, 19:00: every line is closed.
FRIDAY_EVENING = local("2026-11-20T19:00")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict:
    state = {"now": FRIDAY_EVENING}
    monkeypatch.setattr(service, "utcnow", lambda: state["now"])
    return state


def outbox_rows() -> list[OutboxMessage]:
    """Every email queued in the outbox, oldest first, as the database has it now."""
    return list(db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
        .execution_options(populate_existing=True)))


@pytest.fixture
def outbox(app: Flask) -> Callable[[], list[EmailMessage]]:
    """The referral emails delivered so far, in order: each one was queued in the outbox and
    has been sent from it (the test transport keeps every message it sends); nothing else was
    queued and nothing waits."""

    def delivered() -> list[EmailMessage]:
        rows = outbox_rows()
        assert all(row.kind in ("referral_sent", "referral_answered") for row in rows)
        assert all(row.state == "sent" and row.message is None for row in rows)
        messages = list(notify.outbox())
        assert len(messages) == len(rows)
        return messages

    return delivered


@pytest.fixture
def world(app: Flask, clock: dict) -> dict:
    derbyshire = factories.authority("derbyshire")
    darlington = factories.authority("darlington")
    school = factories.school("Oakfield Academy", "derbyshire")
    other_school = factories.school("Northgate College", "darlington")
    dsl = factories.user("dsl", org=school, email="dsl@oak.example", display_name="Dana Lead")
    dsl2 = factories.user("dsl", org=school, email="dsl2@oak.example")
    other_dsl = factories.user("dsl", org=other_school, email="dsl@north.example")
    adviser = factories.user("la_adviser", org=derbyshire, email="adv@derbys.example")
    darl_adviser = factories.user("la_adviser", org=darlington, email="adv@darl.example")
    mia = factories.child(school, "Mia", "Harbottle", dt.date(2014, 3, 2), la_code="derbyshire")
    kai = factories.child(school, "Kai", "Stenhouse", dt.date(2012, 1, 9), la_code="darlington")
    inc = incident(school, dsl, [(mia, "harmed"), (kai, "harmed_others")],
                   reported_at=local("2026-11-20T18:30"), immediate_danger=True,
                   words={mia.reference: "He kept asking."})
    db.session.commit()
    return {"derbyshire": derbyshire, "darlington": darlington, "school": school,
            "dsl": dsl, "dsl2": dsl2, "other_dsl": other_dsl, "adviser": adviser,
            "darl_adviser": darl_adviser, "mia": mia, "kai": kai, "incident": inc}


def lines_url(w: dict) -> str:
    return f"/incidents/{w['incident'].id}/lines"


def hand_over(client: FlaskClient, w: dict, code: str):
    """Fill in, preview and confirm the hand-over (issue 14)."""
    url = f"/incidents/{w['incident'].id}/hand-over/{code}"
    return handover_forms.hand_over(client, url)


def referral_to(w: dict, code: str) -> Referral:
    la = w[code]
    found = db.session.scalar(select(Referral).where(
        Referral.incident_id == w["incident"].id, Referral.local_authority_id == la.id))
    assert found is not None
    return found


def csc_referral(w: dict) -> handover.RouteState:
    """The state of the mandatory referral to children's social care (R4)."""
    states = handover.states_for([w["incident"]], service.utcnow())[w["incident"].id]
    return next(s for s in states if s.route == "csc_referral")


def test_which_line_now_out_of_hours_and_999_first(client: FlaskClient, world: dict) -> None:
    assert sign_in(client, world["dsl"]).status_code == 302
    page = client.get(lines_url(world))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # 999 first: immediate danger fired.
    assert "Call 999 first" in html and 'href="tel:999"' in html
    # Convening (the harmed child's authority, Derbyshire) first, then Darlington.
    assert html.index('data-testid="line-derbyshire"') < html.index('data-testid="line-darlington"')
    derbys = html[html.index('data-testid="line-derbyshire"'):
                  html.index('data-testid="line-darlington"')]
    assert "Convening authority" in derbys
    assert 'href="tel:01629535353"' in derbys
    assert "Closed now" in derbys and "Opens Monday 23 November at 8:00am" in derbys
    assert "Call Derbyshire" in derbys and 'href="tel:01629533190"' in derbys
    assert "01629 532600" in derbys  # the directory's caution about the older number
    darl = html[html.index('data-testid="line-darlington"'):]
    assert "Emergency Duty Team" in darl and "tel:01642524552" in darl
    assert "Opens Monday 23 November at 8:30am" in darl
    assert "Hand over to Derbyshire County Council" in html


def test_open_line_and_unconfirmed_numbers(client: FlaskClient, world: dict,
                                           clock: dict) -> None:
    clock["now"] = local("2026-11-23T10:00")  # Monday morning
    world["kai"].local_authority_code = "dorset"
    factories.authority("dorset")
    db.session.commit()
    sign_in(client, world["dsl"])
    html = client.get(lines_url(world)).get_data(as_text=True)
    derbys = html[html.index('data-testid="line-derbyshire"'):
                  html.index('data-testid="line-dorset"')]
    assert "Open now" in derbys and "Out of hours" not in derbys
    dorset = html[html.index('data-testid="line-dorset"'):]
    assert "Number not confirmed: check locally" in dorset
    assert "Opening hours not confirmed: check locally" in dorset
    assert "Out-of-hours number not confirmed: check locally" in dorset
    assert "tel:" not in dorset.split("Record a call")[0]


def test_each_unconfirmed_warning_said_once_in_the_box(client: FlaskClient, world: dict,
                                                       clock: dict) -> None:
    """Walk 6: an unconfirmed number, hours or out-of-hours number is said once, beside the
    number in the box, never again in a list of notes below it."""
    clock["now"] = local("2026-11-23T10:00")
    world["kai"].local_authority_code = "dorset"
    factories.authority("dorset")
    db.session.commit()
    sign_in(client, world["dsl"])
    html = client.get(lines_url(world)).get_data(as_text=True)
    dorset = html_text.unescape(html[html.index('data-testid="line-dorset"'):]
                                .split("Record a call")[0])
    assert dorset.count("not confirmed") == 3
    assert dorset.count("Number not confirmed: check locally") == 1
    assert dorset.count("Opening hours not confirmed: check locally") == 1
    assert dorset.count("Out-of-hours number not confirmed: check locally") == 1
    assert "check your local procedures" not in dorset
    assert "check before relying on them" not in dorset
    assert dorset.count("In immediate danger call 999") == 1
    # A note the box does not say (a confirmed out-of-hours number's caution) is still shown.
    derbys = html[html.index('data-testid="line-derbyshire"'):
                  html.index('data-testid="line-dorset"')]
    assert "01629 532600" in derbys


def test_bank_holiday_line_closed(client: FlaskClient, world: dict, clock: dict) -> None:
    clock["now"] = local("2026-12-25T10:00")  # Christmas Day, a Friday
    sign_in(client, world["dsl"])
    html = client.get(lines_url(world)).get_data(as_text=True)
    derbys = html[html.index('data-testid="line-derbyshire"'):]
    # 28 Dec 2026 is the substitute Boxing Day: the line next opens Tuesday 29 December.
    assert "Closed now" in derbys and "Opens Tuesday 29 December at 8:00am" in derbys


def test_record_a_call_joins_each_childs_chronology(client: FlaskClient, world: dict) -> None:
    sign_in(client, world["dsl"])
    url = f"/incidents/{world['incident'].id}/calls/new"
    page = client.get(url + "?authority=derbyshire")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page), "authority": "derbyshire",
            "called_on": ["20", "11", "2026"], "called_time": "18:45",
            "spoke_to": "Sam Duty, duty social worker",
            "advice": "Refer now; Mia Harbottle should not be left alone with Kai.",
            "decision": "Hand over tonight.", "reasons": ""}
    refused = client.post(url, data=data)
    assert refused.status_code == 200 and "Enter the reasons for the decision" in \
        refused.get_data(as_text=True)
    data["reasons"] = "It was just banter between them"
    refused = client.post(url, data=data)
    assert "dismissed as normal" in refused.get_data(as_text=True)
    data["reasons"] = "Coercion of a child under 13: a referral is required."
    done = client.post(url, data=data)
    assert done.status_code == 302
    entries = db.session.scalars(select(ChildRecordEntry).where(
        ChildRecordEntry.kind == "consultation_call")).all()
    assert {e.child_id for e in entries} == {world["mia"].id, world["kai"].id}
    kai_entry = next(e for e in entries if e.child_id == world["kai"].id)
    # R6: in Kai's file Mia appears by initials and reference only.
    assert "Mia" not in kai_entry.body and f"MH ({world['mia'].reference})" in kai_entry.body
    # Each part typed with its own full stop is one sentence ("tonight.. Reasons", a walk).
    assert ("Decision: Hand over tonight. Reasons: Coercion" in kai_entry.body
            and ".." not in kai_entry.body)
    assert "Spoke to: Sam Duty, duty social worker. Advice: Refer now;" in kai_entry.body
    assert kai_entry.occurred_at == local("2026-11-20T18:45")
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "consultation.recorded" in actions


def test_a_second_authoritys_hand_over_starts_from_the_parents_agreement_sent(
        client: FlaskClient, world: dict) -> None:
    """A walk: handing over to Darlington asked again whether each child's parents agree,
    minutes after the referral to Derbyshire had said. Its form starts from what that referral
    sent, says so, and can still be changed."""
    sign_in(client, world["dsl"])
    mia, kai = world["mia"].reference, world["kai"].reference
    url = f"/incidents/{world['incident'].id}/hand-over/darlington"
    first = client.get(url).get_data(as_text=True)
    assert "Filled in as the referral to" not in first
    assert not re.search(rf'name="agree_{mia}"[^>]*checked', first)
    assert handover_forms.hand_over(
        client, f"/incidents/{world['incident'].id}/hand-over/derbyshire",
        {f"agree_{kai}": "not_asked",
         f"agree_why_{kai}": "His mother is abroad until Friday; we will ask then."},
    ).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert ("Filled in as the referral to Derbyshire County Council gave it. Change it if it "
            "is no longer right.") in page
    assert re.search(rf'name="agree_{mia}"[^>]*value="yes"[^>]*checked', page)
    assert re.search(rf'name="agree_{kai}"[^>]*value="not_asked"[^>]*checked', page)
    assert "His mother is abroad until Friday; we will ask then." in html_text.unescape(page)
    # Changed for this authority, the check page says the first referral still says otherwise
    # and to tell that authority (walk 8: consent withdrawn reached one authority only); it
    # sends what the DSL chose.
    changed = {f"agree_{kai}": "yes",
               f"agree_why_{kai}": "His mother is abroad until Friday; we will ask then."}
    shown = html_text.unescape(handover_forms.preview(client, url, changed).get_data(
        as_text=True))
    warning = shown[shown.index('data-testid="agreement-changed"'):]
    warning = " ".join(re.sub(r"<[^>]+>", " ", warning[:warning.index("</div>")]).split()
                       ).replace(" .", ".")  # (a link's end)
    assert ("What this referral says of the parents\u2019 agreement for Kai Stenhouse differs from "
            "what the referral to Derbyshire County Council said. Sending this one does not "
            "change that one: tell Derbyshire County Council too, on 01629 535353, and once "
            "this one is sent, send it to them as more information on their referral.") \
        in warning
    first = referral_to(world, "derbyshire")
    assert f'href="/referrals/{first.id}/more-information"' in shown
    assert world["mia"].given_name not in warning  # her answer is the same
    assert handover_forms.hand_over(client, url, changed).status_code == 302
    sent = json.loads(referral_to(world, "darlington").packet)
    assert {c["ref"]: c["parents_agree"]["answer"] for c in sent["children"]} == {
        mia: "yes", kai: "yes"}
    # A "yes" goes without the reason still in its box (walk 9: "Yes, they agree. Why: his
    # mother is abroad", filled in from the first referral).
    assert all(c["parents_agree"]["why"] is None for c in sent["children"])


def test_full_flow_handover_acknowledge_decide(
        client: FlaskClient, other_client: FlaskClient, world: dict,
        outbox: Callable[[], list[EmailMessage]], clock: dict) -> None:
    sign_in(client, world["dsl"])
    assert not csc_referral(world).done
    # The page says what sending it does, in words (R4): the referral to children's social
    # care is made once Darlington, Kai's authority, has its own too.
    form = client.get(f"/incidents/{world['incident'].id}/hand-over/derbyshire")
    assert ("Sending this referral makes your referral to children\u2019s social care, once "
            "Darlington Borough Council has its own.") in form.get_data(as_text=True)
    assert "mandatory route" not in form.get_data(as_text=True)
    # An adviser whose account awaits approval cannot open a referral: not emailed one (a
    # second copy of who is told sent the new referral to them, and more information not).
    waiting = factories.user("la_adviser", org=world["derbyshire"], email="new@derbys.example")
    waiting.approval = "awaiting_admin"
    db.session.commit()
    response = hand_over(client, world, "derbyshire")
    assert response.status_code == 302
    referral = referral_to(world, "derbyshire")
    assert referral.convening and referral.state == "sent" and referral.schema_version == 2
    # Sent to the convening authority; Darlington (Kai's authority) still needs its own, and
    # its page says sending it completes the referral (it said "hand over to it too").
    darlington = client.get(f"/incidents/{world['incident'].id}/hand-over/darlington")
    assert ("The convening authority is Derbyshire County Council, which has its referral. "
            "Sending this referral makes your referral to children\u2019s social care.") \
        in darlington.get_data(as_text=True)
    state = csc_referral(world)
    assert state.sent_to == (world["derbyshire"].name,)
    assert not state.done and state.missing == (world["darlington"].name,)
    # Advisers of Derbyshire are alerted with a link and nothing about the children.
    sent = outbox()
    assert [m["To"] for m in sent] == ["adv@derbys.example"]
    assert sent[0]["Subject"] == "New referral in the safeguarding portal"
    assert f"/referrals/{referral.id}" in sent[0].get_content()
    for secret in ("Mia", "Kai", "Harbottle", "Oakfield", world["incident"].reference):
        assert secret not in sent[0].get_content() and secret not in sent[0]["Subject"]
        assert secret not in sent[0].as_string()
    # Handing over twice to one authority is refused (redirects to the referral).
    again = client.get(f"/incidents/{world['incident'].id}/hand-over/derbyshire")
    assert again.status_code == 302 and str(referral.id) in again.headers["Location"]

    sign_in(other_client, world["adviser"])
    inbox = other_client.get("/referrals").get_data(as_text=True)
    assert service.local_label(referral.sent_at) in inbox
    assert f"R-{referral.id.hex[:8].upper()}" in inbox and "Oakfield Academy" in inbox
    page = other_client.get(f"/referrals/{referral.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Harbottle" in html and "He kept asking." in html
    assert "convening authority for this case" in html
    ack = other_client.post(f"/referrals/{referral.id}/acknowledge",
                            data={"csrf_token": csrf_from(page)})
    assert ack.status_code == 302
    db.session.refresh(referral)
    assert referral.state == "acknowledged" and referral.acknowledged_at is not None

    # Strategy meeting: SEPARATE_SOCIAL_WORKERS applies, so both social workers are required.
    answer_url = f"/referrals/{referral.id}/answer"
    form = other_client.get(answer_url)
    assert "Social worker for the child who harmed" in form.get_data(as_text=True)
    data = {"csrf_token": csrf_from(form), "outcome": "strategy_meeting",
            "reasons": "Strategy meeting to plan for both children.",
            "strategy_meeting_on": ["23", "11", "2026"], "strategy_meeting_time": "10:00",
            "social_worker_harmed": "Alex Rivers", "social_worker_harmed_others": ""}
    refused = other_client.post(answer_url, data=data)
    assert refused.status_code == 200
    assert "Enter the social worker for the child who harmed" in refused.get_data(as_text=True)
    data["social_worker_harmed_others"] = "alex  rivers"
    refused = other_client.post(answer_url, data=data)
    assert "need different social workers" in refused.get_data(as_text=True)
    data["social_worker_harmed_others"] = "Jo Banks"
    done = other_client.post(answer_url, data=data)
    assert done.status_code == 302
    db.session.refresh(referral)
    assert referral.state == "answered" and referral.outcome == "strategy_meeting"
    assert referral.strategy_meeting_at == local("2026-11-23T10:00")
    stored = db.session.scalar(select(ReferralResponse))
    assert stored is not None and json.loads(stored.workers or "{}") == {
        "social_worker_harmed": "Alex Rivers", "social_worker_harmed_others": "Jo Banks"}
    # The DSLs are alerted, with a link only (one email each, and to nobody else).
    answered = outbox()[1:]
    assert sorted(m["To"] for m in answered) == ["dsl2@oak.example", "dsl@oak.example"]
    for alert in answered:
        assert alert["Subject"] == "A local authority has answered a referral"
        assert "Mia" not in alert.get_content()
        assert f"/referrals/{referral.id}" in alert.get_content()
        # The reference to quote on the phone: R- and eight hex digits, nothing about anyone.
        assert f"answered referral {reference_for(referral.id)}," in alert.get_content()
        for secret in ("Mia", "Kai", "Harbottle", "Alex Rivers", "Jo Banks",
                       world["incident"].reference):
            assert secret not in alert.as_string()

    # The DSL sees the decision and the next due date on the incident's handover panel.
    html = client.get(lines_url(world)).get_data(as_text=True)
    assert "Strategy meeting arranged" in html and "Alex Rivers" in html
    assert "Next due:" in html
    # Derbyshire: ICPC within 15 days of Mon 23 Nov = Tue 8 Dec 2026.
    assert "Tuesday 8 December 2026" in html
    dsl_view = client.get(f"/referrals/{referral.id}")
    assert dsl_view.status_code == 200 and "Jo Banks" in dsl_view.get_data(as_text=True)
    # Audit: codes and ids only, on both chains.
    events = db.session.scalars(select(AuditEvent)).all()
    actions = {(e.org_id, e.action) for e in events}
    assert (str(world["school"].id), "referral.sent") in actions
    assert (str(world["derbyshire"].id), "referral.sent") in actions
    assert (str(world["derbyshire"].id), "referral.acknowledged") in actions
    assert (str(world["derbyshire"].id), "referral.answered") in actions
    assert not any("Harbottle" in json.dumps(e.detail) for e in events)


def test_exports(client: FlaskClient, world: dict) -> None:
    sign_in(client, world["dsl"])
    hand_over(client, world, "derbyshire")
    referral = referral_to(world, "derbyshire")
    ref = f"R-{referral.id.hex[:8].upper()}"
    pdf = client.get(f"/referrals/{referral.id}/packet.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and ref.encode() in pdf.data
    assert f'filename="referral-{ref}.pdf"' in pdf.headers["Content-Disposition"]
    assert pdf.headers["Cache-Control"] == "no-store"
    data = client.get(f"/referrals/{referral.id}/packet.json")
    assert data.status_code == 200 and data.json["schema_version"] == 2
    assert data.json["reference"] == ref


def test_other_authority_and_other_school_get_404(client: FlaskClient,
                                                  other_client: FlaskClient,
                                                  world: dict) -> None:
    sign_in(client, world["dsl"])
    hand_over(client, world, "derbyshire")
    referral = referral_to(world, "derbyshire")
    sign_in(other_client, world["darl_adviser"])
    assert f"R-{referral.id.hex[:8].upper()}" not in other_client.get("/referrals").get_data(
        as_text=True)
    token = csrf_from(other_client.get("/account/password"))
    for url in (f"/referrals/{referral.id}", f"/referrals/{referral.id}/packet.pdf",
                f"/referrals/{referral.id}/packet.json", f"/referrals/{referral.id}/answer"):
        assert other_client.get(url).status_code == 404, url
    for url in (f"/referrals/{referral.id}/acknowledge", f"/referrals/{referral.id}/answer",
                f"/referrals/{referral.id}/milestone"):
        assert other_client.post(url, data={"csrf_token": token}).status_code == 404, url
    # An adviser cannot reach the school's incident pages either.
    assert other_client.get(lines_url(world)).status_code == 404


def test_other_schools_dsl_gets_404(app: Flask, world: dict) -> None:
    first, second = app.test_client(), app.test_client()
    sign_in(first, world["dsl"])
    hand_over(first, world, "derbyshire")
    referral = referral_to(world, "derbyshire")
    sign_in(second, world["other_dsl"])
    inc = world["incident"].id
    for url in (lines_url(world), f"/incidents/{inc}/calls/new",
                f"/incidents/{inc}/hand-over/derbyshire", f"/referrals/{referral.id}",
                f"/referrals/{referral.id}/packet.pdf", "/referrals"):
        assert second.get(url).status_code == 404, url
    # A DSL cannot act as the authority on their own school's referral.
    token = csrf_from(first.get("/account/password"))
    assert first.post(f"/referrals/{referral.id}/acknowledge",
                      data={"csrf_token": token}).status_code == 404
    assert first.get(f"/referrals/{referral.id}/answer").status_code == 404
    assert first.get("/referrals").status_code == 404


def test_cross_boundary_two_referrals(client: FlaskClient, other_client: FlaskClient,
                                      app: Flask, world: dict) -> None:
    sign_in(client, world["dsl"])
    # Handing to the non-convening authority alone does not hand over the referral route.
    assert hand_over(client, world, "darlington").status_code == 302
    state = csc_referral(world)
    assert not state.done and state.missing == (world["derbyshire"].name,)
    assert "(the convening authority)" in state.owed
    assert hand_over(client, world, "derbyshire").status_code == 302
    # Every authority involved has its own referral, the convening one included.
    assert csc_referral(world).done
    derbys, darl = referral_to(world, "derbyshire"), referral_to(world, "darlington")
    assert derbys.convening and not darl.convening
    # Each packet is encrypted for its own authority and says who convenes.
    assert service.read_packet(darl)["convening_authority"]["local_authority"] == "derbyshire"
    assert service.read_packet(darl)["to"]["convening"] is False
    assert derbys.packet_enc != darl.packet_enc

    sign_in(other_client, world["darl_adviser"])
    inbox = other_client.get("/referrals").get_data(as_text=True)
    assert f"R-{darl.id.hex[:8].upper()}" in inbox
    assert f"R-{derbys.id.hex[:8].upper()}" not in inbox
    page = other_client.get(f"/referrals/{darl.id}").get_data(as_text=True)
    assert "The convening authority for this case is Derbyshire County Council" in page
    assert other_client.get(f"/referrals/{derbys.id}").status_code == 404

    third = app.test_client()
    sign_in(third, world["adviser"])
    inbox = third.get("/referrals").get_data(as_text=True)
    assert f"R-{derbys.id.hex[:8].upper()}" in inbox
    assert f"R-{darl.id.hex[:8].upper()}" not in inbox
    assert third.get(f"/referrals/{darl.id}").status_code == 404
    # The DSL sees both on the incident's panel.
    html = client.get(lines_url(world)).get_data(as_text=True)
    # Each reference on one line (it broke after "R-" on a phone: a walk).
    assert html.count('Read referral <span class="portal-nowrap">R-') == 2


def test_inbox_puts_overdue_first(client: FlaskClient, world: dict, clock: dict) -> None:
    school, dsl = world["school"], world["dsl"]
    older = incident(school, dsl, [(world["mia"], "harmed"), (world["kai"], "harmed_others")],
                     reported_at=local("2026-11-09T09:00"))
    db.session.commit()
    # Sent 9 Nov (due 13 Nov: overdue on 20 Nov); sent 20 Nov (due 25 Nov).
    old, _ = service.hand_over(older, "derbyshire", dsl, now=local("2026-11-09T10:00"))
    new, _ = service.hand_over(world["incident"], "derbyshire", dsl,
                               now=local("2026-11-20T18:50"))
    db.session.commit()
    sign_in(client, world["adviser"])
    html = client.get("/referrals").get_data(as_text=True)
    assert 'data-testid="group-overdue"' in html
    assert html.index(f"row-{old.id}") < html.index('data-testid="group-new"') < \
        html.index(f"row-{new.id}")
    overdue = html[html.index('data-testid="group-overdue"'):html.index('data-testid="group-new"')]
    assert "Overdue" in overdue and str(old.id) in overdue and str(new.id) not in overdue


def test_no_further_action_needs_reasons_and_no_dismissive_language(
        client: FlaskClient, world: dict) -> None:
    referral, _ = service.hand_over(world["incident"], "derbyshire", world["dsl"],
                                    now=FRIDAY_EVENING)
    db.session.commit()
    sign_in(client, world["adviser"])
    url = f"/referrals/{referral.id}/answer"
    page = client.get(url)
    data = {"csrf_token": csrf_from(page), "outcome": "no_further_action", "reasons": ""}
    assert "Enter the advice and the reasons" in client.post(url, data=data).get_data(
        as_text=True)
    data["reasons"] = "Boys will be boys."
    assert "dismissed as normal" in client.post(url, data=data).get_data(as_text=True)
    data["reasons"] = "Parents engaged; school safety plan in place; reviewed with police."
    assert client.post(url, data=data).status_code == 302
    db.session.refresh(referral)
    assert referral.outcome == "no_further_action" and referral.state == "answered"
    # Answering a new referral acknowledges it too.
    assert referral.acknowledged_at is not None


def test_an_answer_about_several_children_says_which_child_it_is_for(
        client: FlaskClient, world: dict) -> None:
    """Nothing is chosen for the adviser: "Every child in this referral" was ticked before they
    chose, so an answer sent without choosing was recorded for every child, over each child's
    own answer (second walk). With two children the page asks, and keeps what was typed."""
    referral, _ = service.hand_over(world["incident"], "derbyshire", world["dsl"],
                                    now=FRIDAY_EVENING)
    db.session.commit()
    sign_in(client, world["adviser"])
    url = f"/referrals/{referral.id}/answer"
    page = client.get(url).get_data(as_text=True)
    assert not re.search(r'name="child"[^>]*checked', page)
    asked = re.search(r'<input[^>]*name="child_asked"[^>]*value="1"', page)
    assert asked, "the page says it asked"
    data = {"csrf_token": csrf_from(page), "child_asked": "1", "outcome": "early_help",
            "reasons": "Early help for Zoë\u2019s family; 王 Wei\u2019s school will support him."}
    refused = client.post(url, data=data)
    assert refused.status_code == 200
    shown = html_text.unescape(refused.get_data(as_text=True))
    assert "Choose which child this is for, or every child" in shown
    assert data["reasons"] in shown
    db.session.refresh(referral)
    assert referral.state == "sent"
    done = client.post(url, data={**data, "child": world["mia"].reference})
    assert done.status_code == 302


def test_strategy_meeting_needs_a_date(client: FlaskClient, world: dict) -> None:
    referral, _ = service.hand_over(world["incident"], "derbyshire", world["dsl"],
                                    now=FRIDAY_EVENING)
    db.session.commit()
    sign_in(client, world["adviser"])
    url = f"/referrals/{referral.id}/answer"
    page = client.get(url)
    html = client.post(url, data={"csrf_token": csrf_from(page), "outcome": "strategy_meeting",
                                  "reasons": "Meeting needed.", "social_worker_harmed": "A B",
                                  "social_worker_harmed_others": "C D"}).get_data(as_text=True)
    assert "Enter the date of the strategy meeting" in html
    # A mistyped year (before the referral was sent) is refused, what was typed kept.
    html = client.post(url, data={"csrf_token": csrf_from(page), "outcome": "strategy_meeting",
                                  "reasons": "Meeting needed for Zoë and 王 Wei.",
                                  "strategy_meeting_on": ["1", "1", "2020"],
                                  "strategy_meeting_time": "10:00", "social_worker_harmed": "A B",
                                  "social_worker_harmed_others": "C D"}).get_data(as_text=True)
    assert "The strategy meeting must be on or after the day the referral was sent" in \
        html_text.unescape(html)
    assert "Meeting needed for Zoë and 王 Wei." in html_text.unescape(html)
    db.session.refresh(referral)
    assert referral.strategy_meeting_at is None and referral.state == "sent"


MEETING = local("2026-11-23T10:00")  # the Monday after FRIDAY_EVENING


def _meeting_arranged(world: dict, clock: dict | None = None) -> Referral:
    """The world's incident handed to Derbyshire, answered with a strategy meeting; with
    `clock`, moved on to the afternoon of the meeting (what follows it is recorded then)."""
    referral, _ = service.hand_over(world["incident"], "derbyshire", world["dsl"],
                                    now=FRIDAY_EVENING)
    service.record_answer(referral, world["adviser"], outcome="strategy_meeting",
                          reasons="Plan for both.", strategy_meeting_at=MEETING,
                          social_worker_harmed="A B", social_worker_harmed_others="C D",
                          now=FRIDAY_EVENING)
    db.session.commit()
    if clock is not None:
        clock["now"] = MEETING + dt.timedelta(hours=4)
    return referral


def test_milestones_stop_the_clock(client: FlaskClient, world: dict, clock: dict) -> None:
    referral = _meeting_arranged(world)
    clock["now"] = local("2026-12-09T10:00")  # the ICPC was due by 8 Dec
    view = service.referral_view(referral, None, clock["now"])
    assert view.overdue
    sign_in(client, world["adviser"])
    page = client.get(f"/referrals/{referral.id}")
    response = client.post(f"/referrals/{referral.id}/milestone", data={
        "csrf_token": csrf_from(page), "kind": "icpc_held", "note": ""})
    assert response.status_code == 302
    assert not service.referral_view(referral, None, clock["now"]).overdue


def test_a_refused_milestone_keeps_the_notes_typed_and_says_why_beside_them(
        client: FlaskClient, world: dict, clock: dict) -> None:
    """"No conference needed" without a reason, or with a reason that passes the behaviour off
    as normal, is refused on the referral's page itself: the problem beside the notes, linked
    from the summary at the top, and every word typed still there (a redirect lost them)."""
    referral = _meeting_arranged(world, clock)
    sign_in(client, world["adviser"])
    url = f"/referrals/{referral.id}"

    def send(note: str) -> str:
        response = client.post(f"{url}/milestone", data={
            "csrf_token": csrf_from(client.get(url)), "kind": "icpc_not_needed", "note": note})
        assert response.status_code == 400
        return response.get_data(as_text=True)

    empty = send("")
    assert "Enter why a child protection conference is not needed" in empty
    assert 'class="govuk-error-summary' in empty and 'href="#note"' in empty
    typed = "Zoë\u2019s family agreed a plan with 王 Wei\u2019s school — it was just banter"
    page = send(typed)
    assert "never normal" in html_text.unescape(page)  # R3, beside the notes
    assert html_text.escape(typed, quote=False) in page  # kept as typed
    assert re.search(r'value="icpc_not_needed"[^>]*checked', page)  # the choice kept too
    assert not db.session.scalars(select(ReferralResponse).where(
        ReferralResponse.referral_id == referral.id,
        ReferralResponse.outcome == "icpc_not_needed")).all()  # nothing recorded
    # The address that page was shown at, opened again: the referral's page.
    again = client.get(f"{url}/milestone")
    assert again.status_code == 303 and again.headers["Location"].endswith(url)


def _meeting_due(page: str) -> str:
    """The strategy meeting's line of a referral page's timescales, as words."""
    item = page[page.index("<strong>Strategy meeting</strong>"):]
    return " ".join(re.sub(r"<[^>]+>", " ", item[:item.index("</li>")]).split()).replace(" :", ":")


def test_nothing_that_follows_the_strategy_meeting_is_recorded_before_it(
        client: FlaskClient, world: dict, clock: dict) -> None:
    """The minutes sent, or a conference held or not needed, on the Saturday before Monday's
    meeting: the page says when the meeting is and offers none of them; sent all the same
    (an older page, a crafted form), each is refused with the reason and nothing is recorded.
    On the afternoon of the meeting they are offered (a walk recorded minutes ahead of it)."""
    referral = _meeting_arranged(world)
    clock["now"] = local("2026-11-21T11:00")
    sign_in(client, world["adviser"])
    url = f"/referrals/{referral.id}"
    page = client.get(url).get_data(as_text=True)
    ahead = " ".join(html_text.unescape(re.sub(r"<[^>]+>", " ", re.search(
        r'data-testid="meeting-ahead">(.*?)</p>', page, re.S).group(1))).split())
    assert ahead.startswith("The strategy meeting is arranged for Monday 23 November 2026")
    # Its timescale is met by arranging it, but it has not been held: "Arranged", not "Done"
    # (a walk read "Done" as held).
    assert _meeting_due(page).startswith("Strategy meeting: due Wednesday 25 November 2026 "
                                         "Arranged Arranged for Monday 23 November 2026")
    for kind in ("minutes_sent", "icpc_held", "icpc_not_needed"):
        assert f'value="{kind}"' not in page
        response = client.post(f"{url}/milestone", data={
            "csrf_token": csrf_from(page), "kind": kind, "note": "Minutes typed on Saturday."})
        assert response.status_code == 400
        shown = html_text.unescape(response.get_data(as_text=True))
        assert "record this once it has taken place" in shown
        assert "Minutes typed on Saturday." in shown  # kept as typed
        assert re.search(rf'value="{kind}"[^>]*checked', shown)  # the choice too
    assert not db.session.scalars(select(ReferralResponse).where(
        ReferralResponse.referral_id == referral.id,
        ReferralResponse.outcome.in_(["minutes_sent", "icpc_held", "icpc_not_needed"]))).all()
    clock["now"] = MEETING + dt.timedelta(hours=2)
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="meeting-ahead"' not in page
    assert _meeting_due(page).startswith("Strategy meeting: due Wednesday 25 November 2026 Done")
    assert all(f'value="{kind}"' in page
               for kind in ("minutes_sent", "icpc_held", "icpc_not_needed"))


def test_a_milestone_from_a_page_opened_before_another_was_recorded_is_refused(
        client: FlaskClient, world: dict, clock: dict) -> None:
    """Two tabs of the same referral: the minutes recorded in one, then the other sends the
    same, or a conference held in one and "not needed" in the other. The second is refused
    with the page showing what is recorded now, its choice and notes kept; sent again from
    that page, it is recorded (a walk saw both recorded, each "Recorded")."""
    referral = _meeting_arranged(world, clock)
    sign_in(client, world["adviser"])
    url = f"/referrals/{referral.id}"

    def fields(page: str) -> dict[str, str]:
        seen = re.search(r'<input[^>]*name="seen"[^>]*value="(\d+)"', page)
        assert seen, "the page says how many responses it shows"
        return {"csrf_token": csrf_from(page), "seen": seen.group(1)}

    def recorded(kind: str) -> int:
        return len(db.session.scalars(select(ReferralResponse).where(
            ReferralResponse.referral_id == referral.id,
            ReferralResponse.outcome == kind)).all())

    tab_a = client.get(url).get_data(as_text=True)
    tab_b = client.get(url).get_data(as_text=True)
    sent = client.post(f"{url}/milestone", data={**fields(tab_a), "kind": "minutes_sent",
                                                 "note": "Sent on Monday."})
    assert sent.status_code == 302
    note = "Zoë\u2019s conference held with everyone — 王 Wei\u2019s school there too."
    refused = client.post(f"{url}/milestone", data={**fields(tab_b), "kind": "icpc_held",
                                                    "note": note})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Something was recorded on this referral after you opened this page" in \
        html_text.unescape(page)
    assert html_text.escape(note, quote=False) in page
    assert re.search(r'value="icpc_held"[^>]*checked', page)
    assert recorded("icpc_held") == 0 and recorded("minutes_sent") == 1
    # The page now offers what can still happen: not the minutes again.
    assert 'value="minutes_sent"' not in page
    # Sent again from the page that now shows the minutes sent: the adviser's choice.
    again = client.post(f"{url}/milestone", data={**fields(page), "kind": "icpc_held",
                                                  "note": note})
    assert again.status_code == 302 and recorded("icpc_held") == 1
    # A conference held is never also "not needed", from a page or not.
    shown = client.get(url).get_data(as_text=True)
    assert 'value="icpc_not_needed"' not in shown and 'value="icpc_held"' not in shown
    assert "Record what happened next" not in shown  # nothing left to record here
    # Steps after the answer are the referral's, never "for every child"; who recorded them.
    assert shown.count('data-testid="answer-for"') == 1  # the answer's only
    assert "Recorded by " in shown
    late = client.post(f"{url}/milestone", data={
        "csrf_token": csrf_from(shown), "kind": "icpc_not_needed", "note": "Not needed."})
    assert late.status_code == 400 and recorded("icpc_not_needed") == 0
    assert "Whether a conference was needed is already recorded" in html_text.unescape(
        late.get_data(as_text=True))


def test_navigation_has_the_inbox_for_advisers(client: FlaskClient, world: dict) -> None:
    sign_in(client, world["adviser"])
    html = client.get("/home").get_data(as_text=True)
    assert re.search(r'href="/referrals"', html)


def test_dsl_list_puts_overdue_first(world: dict) -> None:
    from portal.access import referrals_visible_to

    dsl = world["dsl"]
    new, _ = service.hand_over(world["incident"], "darlington", dsl,
                               now=local("2026-11-20T18:50"))
    older = incident(world["school"], dsl, [(world["mia"], "harmed")],
                     reported_at=local("2026-11-09T09:00"))
    old, _ = service.hand_over(older, "derbyshire", dsl, now=local("2026-11-09T10:00"))
    db.session.commit()
    rows = service.referral_list(referrals_visible_to(dsl), FRIDAY_EVENING)
    assert [r.referral.id for r in rows] == [old.id, new.id]
    assert rows[0].overdue and not rows[1].overdue
    # An adviser's list holds only their own authority's referral.
    rows = service.referral_list(referrals_visible_to(world["darl_adviser"]), FRIDAY_EVENING)
    assert [r.referral.id for r in rows] == [new.id]


def test_alerts_go_through_the_portal_mail_sender(app: Flask, world: dict) -> None:
    referral_id = uuid.uuid4()
    batches = notify.queue_referral_alerts([service.Alert(
        kind=service.REFERRAL_SENT_ALERT, referral_id=referral_id,
        org_id=str(world["derbyshire"].id), to=("a@example.test", "b@example.test"))])
    # Queued in the transaction, sent only after it commits.
    assert notify.outbox() == []
    rows = outbox_rows()
    assert [r.state for r in rows] == ["waiting", "waiting"]
    assert "a@example.test" in (rows[0].message or "") + (rows[1].message or "")
    db.session.commit()
    assert notify.deliver_now(batches).ok
    messages = notify.outbox()
    assert [m["To"] for m in messages] == ["a@example.test", "b@example.test"]
    assert all(m["Auto-Submitted"] == "auto-generated" for m in messages)
    assert all(f"/referrals/{referral_id}" in m.get_content() for m in messages)
    assert [r.state for r in outbox_rows()] == ["sent", "sent"]
    # A change rolled back leaves no email behind.
    notify.queue_referral_alerts([service.Alert(
        kind=service.REFERRAL_ANSWERED_ALERT, referral_id=referral_id,
        org_id=str(world["school"].id), to=("c@example.test",))])
    db.session.rollback()
    assert len(outbox_rows()) == 2


def test_referral_alerts_sent_while_the_mail_server_is_down_arrive_later(
        app: Flask, client: FlaskClient, other_client: FlaskClient, world: dict,
        tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail").start()
    port = sink.port
    override_settings(app, mail_enabled=True, mail_host=sink.host, mail_port=port)
    sink.stop()  # the mail server is down

    sign_in(client, world["dsl"])
    response = hand_over(client, world, "derbyshire")
    assert response.status_code == 302
    page = html_text.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Handed over to Derbyshire County Council" in page
    assert "We could not email Derbyshire County Council's advisers yet" in page
    assert "The portal will keep trying" in page
    referral = referral_to(world, "derbyshire")  # the referral is safe whatever the mail does

    sign_in(other_client, world["adviser"])
    url = f"/referrals/{referral.id}/answer"
    form = other_client.get(url)
    answered = other_client.post(url, data={
        "csrf_token": csrf_from(form), "outcome": "no_further_action",
        "reasons": "Parents engaged; school safety plan in place."})
    assert answered.status_code == 302
    waiting = outbox_rows()
    assert [(r.kind, r.state, r.last_error) for r in waiting] == [
        ("referral_sent", "waiting", "ConnectionRefusedError"),
        ("referral_answered", "waiting", "ConnectionRefusedError"),
        ("referral_answered", "waiting", "ConnectionRefusedError")]

    with MailSink(tmp_path / "mail2", port=port) as back:  # the server is back
        notify.send_round(now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31))
        received = back.wait_for(3)
    by_to = {m["To"]: m for m in received}
    assert sorted(by_to) == ["adv@derbys.example", "dsl2@oak.example", "dsl@oak.example"]
    assert by_to["adv@derbys.example"]["Subject"] == "New referral in the safeguarding portal"
    assert by_to["dsl@oak.example"]["Subject"] == "A local authority has answered a referral"
    for message in received:
        assert f"/referrals/{referral.id}" in message.get_content()
        for secret in ("Mia", "Kai", "Harbottle", "Oakfield", "Parents engaged",
                       world["incident"].reference):
            assert secret not in message.as_string()
    assert [r.state for r in outbox_rows()] == ["sent", "sent", "sent"]
    outcomes = sorted(a.outcome for a in db.session.scalars(select(OutboxAttempt)))
    assert outcomes == ["failed"] * 3 + ["sent"] * 3
    # Audited on the chain of the organisation told: the failure, then the delivery.
    events = {(e.org_id, e.action) for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "referral",
        AuditEvent.action.in_(["referral.alert_failed", "referral.alerted"])))}
    assert events == {(str(world["derbyshire"].id), "referral.alert_failed"),
                      (str(world["derbyshire"].id), "referral.alerted"),
                      (str(world["school"].id), "referral.alert_failed"),
                      (str(world["school"].id), "referral.alerted")}


def test_dsl_dashboard_lists_the_schools_referrals_with_next_due(app, client) -> None:
    from portal.models import Referral, db
    from tests import factories
    from tests.helpers.signing_in import sign_in

    school = factories.school()
    dsl = factories.user("dsl", org=school)
    harmed = factories.child(school, given="Petra", family="Example")
    inc = incident(school, dsl, [(harmed, "harmed")])
    db.session.add(Referral(incident_id=inc.id, school_id=school.id,
                            local_authority_id=school.local_authority_id, sent_by_id=dsl.id,
                            convening=True))
    db.session.commit()
    sign_in(client, dsl)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Referrals" in page and "Derbyshire County Council" in page
    assert "Next due" in page
    # The status follows the authority's name as a sentence does, with no space before it.
    assert re.search(r"Derbyshire County Council</a>: \w", page), page


def test_inbox_caps_answered_referrals_but_never_work_still_to_do(app, client) -> None:
    import datetime as dt

    from portal.models import Referral, db
    from tests import factories
    from tests.helpers.signing_in import sign_in

    school = factories.school()
    dsl = factories.user("dsl", org=school)
    adviser = factories.user("la_adviser", org=school.local_authority)
    harmed = factories.child(school, given="Petra", family="Example")
    inc = incident(school, dsl, [(harmed, "harmed")])
    start = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    for n in range(23):
        db.session.add(Referral(
            incident_id=inc.id, school_id=school.id, local_authority_id=school.local_authority_id,
            sent_by_id=dsl.id, state="answered", outcome="no_further_action",
            sent_at=start + dt.timedelta(days=n),
            answered_at=start + dt.timedelta(days=n, hours=1)))
    db.session.add(Referral(incident_id=inc.id, school_id=school.id,
                            local_authority_id=school.local_authority_id, sent_by_id=dsl.id))
    db.session.commit()
    sign_in(client, adviser)
    page = client.get("/referrals").get_data(as_text=True)
    answered = page.split('data-testid="group-answered"')[1].split("</ul>")[0]
    assert answered.count('data-testid="row-') == 20
    assert "Show all 23 answered referrals" in page
    assert 'data-testid="group-new"' in page  # work still to do is always listed
    everything = client.get("/referrals?answered=all").get_data(as_text=True)
    answered = everything.split('data-testid="group-answered"')[1].split("</ul>")[0]
    assert answered.count('data-testid="row-') == 23


def test_an_answer_for_one_child_is_not_shown_as_the_whole_referrals(
        client: FlaskClient, other_client: FlaskClient, world: dict, clock: dict) -> None:
    """Walk 10: a referral about Mia and Kai showed "Answered (Early help)" once the adviser
    answered for Mia only. Everywhere its status shows, it says how far it is answered."""
    sign_in(client, world["dsl"])
    assert hand_over(client, world, "derbyshire").status_code == 302
    referral = referral_to(world, "derbyshire")
    assert referral.children == 2 and referral.children_answered is None
    sign_in(other_client, world["adviser"])
    answer_url = f"/referrals/{referral.id}/answer"

    def answer(child: str, outcome: str) -> None:
        form = other_client.get(answer_url)
        done = other_client.post(answer_url, data={
            "csrf_token": csrf_from(form), "child": child, "outcome": outcome,
            "reasons": "Support agreed with the family after talking it through.",
            "social_worker_harmed": "Alex Rivers", "social_worker_harmed_others": "Jo Banks"})
        assert done.status_code == 302, done.get_data(as_text=True)[:2000]

    def shown(target: FlaskClient, url: str) -> str:
        page = target.get(url)
        assert page.status_code == 200
        return " ".join(html_text.unescape(
            re.sub(r"<[^>]+>", "", page.get_data(as_text=True))).split())

    view, lines = f"/referrals/{referral.id}", lines_url(world)
    answer(world["mia"].reference, "early_help")
    db.session.refresh(referral)
    # Kai has no answer yet: his decision is still due, so the referral is not settled (it
    # was, and left the DSL's dashboard and the adviser's work to do: walk of 1 December).
    assert not referral.settled
    still = service.referral_view(referral, None, clock["now"]).items
    assert [item.code for item in still if not item.done] == ["strategy_meeting"]
    assert "Answered for 1 of 2 children (Early help)" in shown(client, "/dashboard")

    def group_of(referral_id: object) -> str:
        """The inbox heading a referral is listed under."""
        inbox = other_client.get("/referrals").get_data(as_text=True)
        for key in re.findall(r'data-testid="group-([a-z_]+)"', inbox):
            listed = inbox.split(f'data-testid="group-{key}"')[1].split("</ul>")[0]
            if f'data-testid="row-{referral_id}"' in listed:
                return key
        return ""

    # Kai's decision is awaited: listed as such, not under "Answered" (a walk).
    assert group_of(referral.id) == "awaiting_decision"
    assert "Status: Answered for 1 of 2 children (Early help)" in shown(other_client,
                                                                        "/referrals")
    for target, url in ((other_client, view), (client, view)):
        page = shown(target, url)
        assert "Answered for 1 of 2 children (Early help)" in page
        assert "Answered (Early help)" not in page
    assert "Status: Answered for 1 of 2 children (Early help)" in shown(client, lines)

    # Kai's answer keeps the referral running (an assessment): listed on the dashboard too.
    answer(world["kai"].reference, "csc_assessment")
    db.session.refresh(referral)
    assert not referral.settled and referral.children_answered == 2
    every = ("Answered for every child (latest answer, for one child: Children's social "
             "care assessment)")
    assert f"Status: {every}" in shown(other_client, "/referrals")
    assert every in shown(client, "/dashboard")
    assert group_of(referral.id) == "answered"  # each child has an answer
    # One colon: the status and its latest answer read as one sentence, not "x: y: z".
    for target, url in ((client, lines), (client, view), (other_client, view)):
        assert f"{every}" in shown(target, url)
        assert "every child: latest" not in shown(target, url)

    # An answer for every child is true of the whole referral again.
    answer("", "no_further_action")
    db.session.refresh(referral)
    assert referral.children_answered is None
    assert "Status: Answered (No further action)" in shown(other_client, "/referrals")
    assert "Answered (No further action)" in shown(client, view)


def test_calls_at_the_same_minute_are_in_the_same_order_in_each_childs_file(
        client: FlaskClient, world: dict, clock: dict) -> None:
    """A walk: two calls typed at the same minute were in one order in one child's file and
    the other order in the other's (each child's line of a call is its own row, and lines at
    the same time were ordered by the row's id); then, in the same order in both, but not the
    order they were recorded, and the same whichever way round the file was read."""
    sign_in(client, world["dsl"])
    url = f"/incidents/{world['incident'].id}/calls/new"
    for n in range(1, 6):
        page = client.get(url + "?authority=derbyshire")
        data = {"csrf_token": csrf_from(page), "authority": "derbyshire",
                "called_on": ["20", "11", "2026"], "called_time": "18:45",
                "spoke_to": f"Duty worker number {n}", "advice": "Refer now.",
                "decision": "Hand over tonight.",
                "reasons": "Coercion of a child under 13: a referral is required."}
        assert client.post(url, data=data).status_code == 302
        clock["now"] += dt.timedelta(seconds=40)  # each recorded a little after the last

    def order(child: Any, newest_first: bool) -> list[str]:
        shown = client.get(f"/children/{child.id}" + ("" if newest_first else "?order=oldest"))
        return re.findall(r"Duty worker number (\d)", shown.get_data(as_text=True))

    # In the order they were recorded, each way round, as the incident's own list has them.
    for newest_first, recorded in ((True, list("54321")), (False, list("12345"))):
        assert order(world["mia"], newest_first) == recorded
        assert order(world["kai"], newest_first) == recorded
    calls = client.get(f"/incidents/{world['incident'].id}").get_data(as_text=True)
    assert re.findall(r"Duty worker number (\d)", calls) == list("54321")
