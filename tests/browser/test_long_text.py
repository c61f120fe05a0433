"""A 5,000-word disclosure on a phone (issue 14, item 4): the narratives are folded after a few
lines with "Show all" (a <details>, no script needed), the actions stay within two screens of the
top on the incident page and the adviser's referral page, the adviser reads the summary and the
routes before the full account, and the child's file stays short. 390 px, axe-clean.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe
from tests.browser.test_referral_walk import adviser_of, hsb_incident
from tests.referral_data import local

pytestmark = pytest.mark.browser

SCREEN = 844  # the phone's height (tests/browser/conftest.py PHONE)
SENTENCE = "She said he kept following her after school and asking for pictures again. "
LONG = (SENTENCE * 400).strip()  # 5,200 words
assert len(LONG.split()) >= 5000


def top_of(locator: Locator) -> float:
    """Where an element starts, in px from the top of the page."""
    box = locator.evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    return float(box)


def handed_over(seed: Seed, incident_id: uuid.UUID, dsl_id: uuid.UUID) -> uuid.UUID:
    from portal import notify
    from portal.models import Incident, User, db
    from portal.services import referrals

    def make() -> uuid.UUID:
        incident = db.session.get(Incident, incident_id)
        dsl = db.session.get(User, dsl_id)
        assert incident is not None and dsl is not None
        referral, alerts = referrals.hand_over(incident, "darlington", dsl,
                                               now=local("2026-11-21T09:40"))
        notify.queue_referral_alerts(alerts)
        return referral.id

    return seed.run(make)


def test_a_5000_word_disclosure_keeps_the_actions_near_the_top(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    school = seed.school(la_code="darlington")
    dsl = seed.user("dsl", school, display_name="Dana Lead")
    harmed = seed.child(school, "Maisie", "Kettlewell", dt.date(2015, 4, 2), "darlington")
    harmer = seed.child(school, "Rory", "Blackwood", dt.date(2013, 1, 9), "darlington")
    incident_id, _ = hsb_incident(seed, school, dsl, harmed, harmer, summary=LONG, words=LONG)
    referral_id = handed_over(seed, incident_id, dsl.id)

    page = new_page()
    sign_in(page, dsl.email, totp_secret=dsl.totp_secret)
    page.goto(f"/incidents/{incident_id}")
    # The actions are at the top, whatever the length of what was said.
    record = page.get_by_role("link", name="Record a decision", exact=True)
    assert top_of(record) < 2 * SCREEN
    assert top_of(page.locator("#decisions")) < 8 * SCREEN  # not 19,000 px down
    # Each long narrative shows a few lines and "Show all"; opening it shows every word.
    summary = page.get_by_test_id("summary-original")
    expect(summary.get_by_text("Show all")).to_be_visible()
    summary.get_by_text("Show all").click()
    full = summary.locator(".govuk-details__text")
    expect(full).to_be_visible()
    assert len(full.inner_text().split()) >= 5000
    assert_no_horizontal_scroll(page)
    check_axe(page)

    # The child's file: the account is folded there too.
    page.goto(f"/children/{harmed.id}")
    expect(page.get_by_text("Show all").first).to_be_visible()
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 8 * SCREEN, f"the child's file is {height} px tall"
    assert_no_horizontal_scroll(page)
    check_axe(page)

    # The adviser: summary, routes and the decision's button before the full account.
    adviser = adviser_of(seed, "darlington", "Alex Byrne")
    adv = new_page()
    sign_in(adv, adviser.email, totp_secret=adviser.totp_secret)
    adv.goto(f"/referrals/{referral_id}")
    answer = adv.get_by_test_id("record-answer")
    assert top_of(answer) < 2 * SCREEN
    summary_list = adv.get_by_test_id("referral-summary")
    expect(summary_list).to_contain_text("Sexual harassment")
    expect(summary_list).to_contain_text("No consent")
    routes = adv.get_by_test_id("routes")
    expect(routes).to_contain_text("Referral to children's social care (must)")
    full_account = adv.locator("#full-account")
    assert top_of(summary_list) < top_of(routes) < top_of(full_account)
    assert top_of(answer) < top_of(full_account)
    assert top_of(full_account) < 5 * SCREEN
    expect(adv.get_by_test_id("packet-summary").get_by_text("Show all")).to_be_visible()
    assert_no_horizontal_scroll(adv)
    check_axe(adv)
