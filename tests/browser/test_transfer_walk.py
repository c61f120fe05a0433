"""Issue 16's transfer walk in Chromium at phone size (390x844), axe-core clean on every page:
a DSL sends a child's file to the child's new school on the portal (choose the school, check
what will go, send) -> the receiving school's DSL is emailed (the email, delivered from the
outbox, names no child) -> signs in from its link, reads the file and accepts it into their
school's records -> the sending DSL sees the receipt. Invented names only.

The clock (`portal.services.referrals.utcnow`, which the transfer pages and the dashboard read)
is fixed at Thursday 14 May 2026, 10:00 in London.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal.services import referrals as referrals_service
from tests.browser.conftest import (
    Org,
    Person,
    Seed,
    assert_no_horizontal_scroll,
    check_axe,
    email_text,
    wait_for_email,
)

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 5, 14, 9, 0, tzinfo=dt.UTC)


def checked_page(page: Page) -> None:
    assert_no_horizontal_scroll(page)
    check_axe(page)


def incident_with(seed: Seed, school: Org, dsl: Person, child_id: uuid.UUID,
                  other_id: uuid.UUID, summary: str) -> None:
    from portal.models import Incident, IncidentChild, db

    def make() -> None:
        incident = Incident(school_id=school.id, reference=f"I{uuid.uuid4().hex[:5]}",
                            opened_by_id=dsl.id, opened_at=NOW - dt.timedelta(days=30),
                            types=["physical"])
        incident.summary = summary
        db.session.add(incident)
        db.session.flush()
        for position, (ident, role) in enumerate(((child_id, "harmed"), (other_id, "harmer"))):
            db.session.add(IncidentChild(incident_id=incident.id, child_id=ident,
                                         school_id=school.id, position=position, role=role,
                                         added_at=incident.opened_at))

    seed.run(make)


def test_send_alert_and_accept_on_a_phone(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed, mail_sink: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(referrals_service, "utcnow", lambda: NOW)
    tag = uuid.uuid4().hex[:6]
    oak = seed.school(name=f"Oakfield Academy {tag}")
    brook = seed.school(name=f"Brookside Primary {tag}")
    sender = seed.user("dsl", oak, display_name="Dana Fairweather")
    receiver = seed.user("dsl", brook, display_name="Rhys Penhallow")
    amira = seed.child(oak, "Amira", "Okonkwo", dt.date(2014, 2, 3))
    ben = seed.child(oak, "Benedikt", "Larkspur", dt.date(2013, 9, 9))
    incident_with(seed, oak, sender, amira.id, ben.id,
                  "Benedikt Larkspur pushed Amira Okonkwo over in the playground.")

    # ---- 1. Send: from the child's page, choose the school, check what goes, send ----------
    page = new_page()
    sign_in(page, sender.email, sender.password, sender.totp_secret)
    page.goto(f"/children/{amira.id}")
    checked_page(page)
    page.get_by_role("link", name="Send this file to the child's new school").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Send this child's file to their new school")
    checked_page(page)
    page.get_by_label(brook.name).check()
    page.get_by_role("button", name="Check what will be sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check what will be sent")
    # Named with its number and authority, as the choice was (two schools of one name).
    expect(page.get_by_test_id("to-school")).to_have_text(re.compile(
        rf"^{re.escape(brook.name)} \(school number \d{{6}}, Derbyshire County Council\)$"))
    checked_page(page)
    page.get_by_role("button", name="Send the file").click()
    expect(page.get_by_test_id("receipt")).to_have_text(f"Not yet accepted by {brook.name}")
    expect(page.get_by_test_id("clock")).to_contain_text("Due by 21 May 2026")
    checked_page(page)
    # Back: the check page again, loaded fresh (never "Confirm form resubmission"), saying the
    # file was sent; Forward: the transfer.
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This child's file has already been sent")
    assert "resubmission" not in page.content().lower()
    page.go_forward()
    expect(page.get_by_test_id("receipt")).to_have_text(f"Not yet accepted by {brook.name}")

    # ---- 2. The alert: an email to the receiving DSL, nothing about the child ---------------
    message = wait_for_email(mail_sink, receiver.email)
    text = email_text(message)
    for secret in ("Amira", "Okonkwo", "Benedikt", "Oakfield"):
        assert secret not in text and secret not in str(message["Subject"])
    match = re.search(r"/transfers/[0-9a-f-]{36}", text)
    assert match, text

    # ---- 3. Accept: the receiving DSL reads the file and accepts it --------------------------
    other = new_page()
    sign_in(other, receiver.email, receiver.password, receiver.totp_secret)
    other.goto("/dashboard")
    waiting = other.get_by_role("link", name=f"A child from {oak.name}: accept the file")
    expect(waiting).to_be_visible()
    checked_page(other)
    other.goto(match.group(0))
    expect(other.get_by_test_id("child-name")).to_contain_text("Amira Okonkwo")
    body = other.locator("main").inner_text()
    assert "BL (" in body and "Benedikt" not in body and "Larkspur" not in body
    checked_page(other)
    other.get_by_label("None of these: add the child to our school's records").check()
    other.get_by_role("button", name="Accept the file").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Amira Okonkwo")
    expect(other.get_by_test_id("received-link")).to_contain_text(oak.name)
    checked_page(other)

    # ---- 4. The sending DSL sees the receipt -------------------------------------------------
    page.reload()
    expect(page.get_by_test_id("receipt")).to_have_text(
        "Accepted by Rhys Penhallow on 14 May 2026 at 10:00am")
    checked_page(page)
