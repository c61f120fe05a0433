"""After a child's file is sent to another school the sending school's copy is read-only, yet
what was already open must be finished (R1: nothing lost or stuck): a concern about the child is
still dealt with, and the mandatory referral of an incident the child shared with others is
still handed over. New decisions, parent contacts and chronology notes about the child are
still refused."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import (
    ChildRecordEntry,
    Concern,
    ConcernChild,
    ConcernOutcome,
    Decision,
    FileTransfer,
    Referral,
    db,
)
from tests import factories
from tests.helpers.concerns import good_fields, post_form
from tests.helpers.incidents import make_concern
from tests.helpers.signing_in import csrf_from, sign_in, submit
from tests.web.test_referrals import clock, hand_over, world  # noqa: F401 (fixtures)

REASONS = ("Spoke with Mia and her form tutor: a falling-out over a game, settled the same "
           "day; nothing to suggest harm.")


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def sent(world: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    w = world
    staff = factories.user("staff", org=w["school"])
    w["concern"] = make_concern(w["school"], staff, [w["mia"]])
    brook = factories.school("Brookside Primary", "derbyshire")
    db.session.add(FileTransfer(child_id=w["mia"].id, from_school_id=w["school"].id,
                                to_school_id=brook.id, moved_on=dt.date(2026, 11, 20),
                                sent_by_id=w["dsl"].id,
                                sent_at=dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)))
    db.session.commit()
    return w


def test_the_sending_school_hands_over_the_referral_of_a_shared_incident(
        client: FlaskClient, sent: dict[str, Any]) -> None:
    sign_in(client, sent["dsl"])
    done = hand_over(client, sent, "derbyshire")
    assert done.status_code == 302, _text(done)[:2000]
    assert db.session.scalar(select(Referral).where(
        Referral.incident_id == sent["incident"].id)) is not None


def test_the_sending_school_deals_with_a_concern_raised_before_the_send(
        client: FlaskClient, sent: dict[str, Any]) -> None:
    sign_in(client, sent["dsl"])
    done = submit(client, f"/concerns/{sent['concern'].id}/triage",
                  {"kind": "no_further_action", "reasons": REASONS})
    assert done.status_code == 302, _text(done)[:2000]
    assert db.session.scalar(select(ConcernOutcome)) is not None


def test_a_concern_raised_after_the_send_is_kept_and_the_dsl_told_to_pass_it_on(
        app: Flask, client: FlaskClient, sent: dict[str, Any]) -> None:
    """A walk: staff of the school the child had not yet left raised a concern about her after
    her file was sent, and lost it to "read-only" (R1: a concern is never refused or lost). It
    is kept, with its line in her chronology; the DSL reading it is told to pass it on."""
    staff = factories.user("staff", org=sent["school"])
    db.session.commit()
    sign_in(client, staff)
    typed = "Mia had a bruise on her arm today and said she is scared to go home."
    done = post_form(client, good_fields(child_ids=[str(sent["mia"].id)], what_happened=typed))
    assert done.status_code == 302, _text(done)[:3000]
    concern = db.session.scalar(select(Concern).join(ConcernChild).where(
        ConcernChild.child_id == sent["mia"].id, Concern.raised_by_id == staff.id))
    assert concern is not None and concern.what_happened == typed
    assert db.session.scalar(select(ChildRecordEntry).where(
        ChildRecordEntry.child_id == sent["mia"].id,
        ChildRecordEntry.kind == "concern_raised",
        ChildRecordEntry.source_id == concern.id)) is not None
    dsl = app.test_client()
    sign_in(dsl, sent["dsl"])
    # The page the DSLs' email links to says it too (not to the staff who raised it).
    assert "pass this concern on to its designated safeguarding lead" in _text(
        dsl.get(f"/concerns/{concern.id}"))
    assert "pass this concern on" not in _text(client.get(f"/concerns/{concern.id}"))
    page = _text(dsl.get(f"/concerns/{concern.id}/triage"))
    assert (f'data-testid="sent-{sent["mia"].reference}">Their file was sent to their new '
            "school: pass this concern on to its designated safeguarding lead.") in page


def test_new_decisions_about_the_sent_child_are_still_refused(
        client: FlaskClient, sent: dict[str, Any]) -> None:
    sign_in(client, sent["dsl"])
    refused = submit(client, f"/incidents/{sent['incident'].id}/decisions/new", {
        "kind": "internal_support", "child": str(sent["mia"].id),
        "reasons": "Safety plan agreed with the child and their parents."})
    assert "read-only" in _text(refused)
    assert db.session.scalar(select(Decision).where(Decision.child_id == sent["mia"].id)) is None


def test_read_only_pages_hide_the_forms_that_would_refuse(
        client: FlaskClient, sent: dict[str, Any]) -> None:
    mia = sent["mia"]
    sign_in(client, sent["dsl"])
    page = _text(client.get(f"/children/{mia.id}"))
    for url in (f"/children/{mia.id}/merge", f"/children/{mia.id}/send-outside",
                f"/children/{mia.id}/from-previous-school"):
        assert f'href="{url}' not in page, url
    for words in ("Merge with another record", "Send the file to a school not on the portal",
                  "Add the file from the previous school"):
        assert words not in page, words
    assert "read-only" in page
    incident = _text(client.get(f"/incidents/{sent['incident'].id}"))
    assert f"/decisions/new?child={mia.id}" not in incident
    assert f"/children/{mia.id}/parents" not in incident
    assert "You can still hand this incident over" in incident
    # Kai's file was not sent: his links stay.
    assert f"child={sent['kai'].id}" in incident


def test_the_send_confirm_page_warns_of_what_is_still_open(
        client: FlaskClient, world: dict[str, Any]) -> None:  # noqa: F811
    w = world
    staff = factories.user("staff", org=w["school"])
    make_concern(w["school"], staff, [w["mia"]])
    brook = factories.school("Brookside Primary", "derbyshire")
    factories.user("dsl", org=brook)  # someone there to receive it
    db.session.commit()
    sign_in(client, w["dsl"])
    url = f"/children/{w['mia'].id}/transfer"
    page = client.get(url)
    confirm = client.post(url, data={"csrf_token": csrf_from(page), "school": str(brook.id),
                                     "moved_on": ["20", "11", "2026"]}, follow_redirects=True)
    text = _text(confirm)
    assert "Check what will be sent" in text, text[:3000]
    assert "1 concern about this child is not yet dealt with." in text
    assert f"Incident {w['incident'].reference}: not yet handed over" in text
    assert "the new school will not see what you add after sending" in text
