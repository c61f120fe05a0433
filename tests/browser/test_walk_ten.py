"""What the tenth walk found on a phone (390 px): a paged child's file lost ", incident I0001" on
referral lines when the incident's own line was on another page; a child's given name and the
first part of a hyphenated family name typed in a narrative came out as two labels ("م (C0005)
م (C0005)"); a referral about two children read "Answered (Early help)" once the adviser answered
for one. Each page here fits the phone and is axe-core clean. Invented names only.

With WALK_SCREENSHOTS set to a folder, each page is saved there as a PNG."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe
from tests.browser.test_referral_walk import adviser_of, hsb_incident, saturday_clock
from tests.referral_data import local

pytestmark = pytest.mark.browser
__all__ = ["saturday_clock"]  # the fixture, used by name

OPENED = local("2026-11-21T09:00")


def checked(page: Page, name: str) -> None:
    assert_no_horizontal_scroll(page)
    check_axe(page)
    folder = os.environ.get("WALK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_walk_ten_on_a_phone(seed: Seed, new_page: Callable[..., Page],
                             sign_in: Callable[..., None],
                             saturday_clock: dt.datetime) -> None:
    from portal.models import ChildRecordEntry, Incident, IncidentChild, User, db
    from portal.services import referrals

    school = seed.school(la_code="darlington")
    dsl = seed.user("dsl", school, display_name="Rosalind Achterberg")
    adviser = adviser_of(seed, "darlington", "Ptolemy Vance")
    zainab = seed.child(school, "Zainab", "Ellery-Hughes", dt.date(2015, 4, 2), "darlington")
    other = seed.child(school, "محمد", "王-Øyvind Ñúñez", dt.date(2013, 1, 9), "darlington")
    incident_id, reference = hsb_incident(
        seed, school, dsl, zainab, other,
        "Zainab said محمد 王 followed her to the gate.", "He would not stop.")

    def hand_over_and_answer() -> str:
        incident = db.session.get(Incident, incident_id)
        user, la_user = db.session.get(User, dsl.id), db.session.get(User, adviser.id)
        assert incident is not None and user is not None and la_user is not None
        incident.opened_at = OPENED
        db.session.execute(update(IncidentChild).where(IncidentChild.incident_id == incident_id)
                           .values(added_at=OPENED))
        for i in range(60):  # notes after the incident's line, before the referral's
            entry = ChildRecordEntry(school_id=school.id, child_id=zainab.id, kind="note",
                                     author_id=dsl.id,
                                     occurred_at=OPENED + dt.timedelta(seconds=30 * (i + 1)))
            entry.body = f"Checked in with Zainab at break ({i + 1})."
            db.session.add(entry)
        referral, _ = referrals.hand_over(incident, "darlington", user, now=saturday_clock)
        referrals.record_answer(
            referral, la_user, outcome="early_help", child_ref=zainab.reference,
            reasons="Early help for Zainab and her family.",
            now=saturday_clock + dt.timedelta(minutes=5))
        return str(referral.id)

    referral_id = seed.run(hand_over_and_answer)

    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/children/{zainab.id}")
    for heading in ("Referral sent", "Referral answered"):
        line = page.locator(".portal-event", has=page.get_by_role("heading", name=heading))
        expect(line.locator(".portal-event__meta")).to_contain_text(f", incident {reference}")
    expect(page.get_by_role("heading", name=f"Incident {reference}")).to_have_count(0)
    checked(page, "1-file-page-1")
    page.goto(f"/children/{zainab.id}?page=2")
    summary = page.locator(".portal-event", has=page.get_by_role(
        "heading", name=f"Incident {reference}"))
    expect(summary).to_contain_text(f"Zainab said م ({other.reference}) followed her")
    checked(page, "2-file-page-2-one-label")

    page.goto(f"/incidents/{incident_id}")
    expect(page.get_by_text("Status: Answered for 1 of 2 children")).to_be_visible()
    checked(page, "3-incident-status")
    page.goto(f"/referrals/{referral_id}")
    expect(page.get_by_test_id("status")).to_have_text(
        "Answered for 1 of 2 children (Early help)")
    checked(page, "4-referral-status")

    page = new_page()
    sign_in(page, adviser.email, adviser.password, adviser.totp_secret)
    page.goto("/referrals")
    expect(page.get_by_text("Status: Answered for 1 of 2 children (Early help)")).to_be_visible()
    checked(page, "5-inbox-status")
