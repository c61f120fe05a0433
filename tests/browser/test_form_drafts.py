"""Idle expiry in the middle of a decision, or of an adviser's answer, loses nothing (issue 12.1).

Chromium at phone size (390x844), axe-core clean: the DSL (or adviser) types, autosave keeps it,
the session idles out (its last activity moved back in the database), they press the button:
the portal says what they typed has been saved, they sign in again and are back on the same
form with every word, and nothing was recorded in between. Invented names only.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe
from tests.browser.test_referral_walk import adviser_of, hsb_incident
from tests.referral_data import local

pytestmark = pytest.mark.browser


def checked_page(page: Page) -> None:
    assert_no_horizontal_scroll(page)
    check_axe(page)


def _incident(seed: Seed) -> tuple[object, object, uuid.UUID]:
    school = seed.school(name=f"Wrenfold Primary {uuid.uuid4().hex[:6]}", la_code="derbyshire")
    dsl = seed.user("dsl", school, display_name="Octavia Brannigan-Shaw")
    harmed = seed.child(school, "Tamsin", "Orlovska", dt.date(2015, 3, 2), la_code="derbyshire")
    harmer = seed.child(school, "Rufus", "Delacombe", dt.date(2013, 6, 9), la_code="derbyshire")
    incident_id, _ = hsb_incident(seed, school, dsl, harmed, harmer,
                                  "Comments in the lunch queue.", "He wouldn't stop.")
    return school, dsl, incident_id


def _count(seed: Seed, model_name: str) -> int:
    from sqlalchemy import func, select

    import portal.models as models

    model = getattr(models, model_name)
    return int(seed.run(lambda: models.db.session.scalar(
        select(func.count()).select_from(model))) or 0)


def test_idle_expiry_mid_decision_loses_nothing(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    _, dsl, incident_id = _incident(seed)
    reasons = ("Spoke to both families this afternoon. Support in school: a trusted adult for "
               "Tamsin at lunch, Rufus's timetable changed so they do not share the queue.")
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)  # type: ignore[attr-defined]
    url = f"/incidents/{incident_id}/decisions/new"
    page.goto(url)
    checked_page(page)
    page.get_by_label("Support in school").check()
    page.get_by_label("Child", exact=True).select_option(index=1)
    child = page.get_by_label("Child", exact=True).input_value()
    page.get_by_label("Reasons for this decision").fill(reasons)
    # Autosave caught it (and counted as activity).
    expect(page.get_by_role("status").filter(has_text="Draft kept at")).to_be_visible(timeout=15000)
    decisions_before = _count(seed, "Decision")

    assert seed.age_sessions(dsl.email, minutes=31) >= 1  # type: ignore[attr-defined]
    page.get_by_role("button", name="Record decision").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.get_by_text("what you typed has been saved")).to_be_visible()
    checked_page(page)
    assert _count(seed, "Decision") == decisions_before  # nothing recorded

    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)  # type: ignore[attr-defined]
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    expect(page.get_by_label("Reasons for this decision")).to_have_value(reasons)
    expect(page.get_by_label("Support in school")).to_be_checked()
    expect(page.get_by_label("Child", exact=True)).to_have_value(child)
    expect(page.get_by_text("It has not been saved or sent yet")).to_be_visible()
    checked_page(page)

    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Decision recorded")).to_be_visible()
    assert _count(seed, "Decision") == decisions_before + 1


def test_idle_expiry_mid_answer_loses_nothing(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    _, dsl, incident_id = _incident(seed)
    adviser = adviser_of(seed, "derbyshire", "Hildegard Oyelaran")

    def refer() -> uuid.UUID:
        from portal.models import Incident, User, db
        from portal.services import referrals

        inc = db.session.get(Incident, incident_id)
        user = db.session.get(User, dsl.id)  # type: ignore[attr-defined]
        assert inc is not None and user is not None
        referral, _ = referrals.hand_over(inc, "derbyshire", user,
                                          now=local("2026-11-21T10:00"))
        return referral.id

    referral_id = seed.run(refer)
    answer = ("Single assessment. A social worker will visit Tamsin's family this week; the "
              "school should keep the lunchtime plan and tell us of anything new at once.")
    page = new_page()
    sign_in(page, adviser.email, adviser.password, adviser.totp_secret)
    url = f"/referrals/{referral_id}/answer"
    page.goto(url)
    checked_page(page)
    page.get_by_label("Advice and reasons").fill(answer)
    page.get_by_label("Social worker for the child harmed").fill("Cosima Adeyemi-Ward")
    expect(page.get_by_role("status").filter(has_text="Draft kept at")).to_be_visible(timeout=15000)

    # Counted from here: the live portal is shared with the other browser tests, whose order
    # may put a referral's answer before this one.
    responses_before = _count(seed, "ReferralResponse")
    assert seed.age_sessions(adviser.email, minutes=31) >= 1
    page.get_by_role("button", name="Send the answer to the school").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.get_by_text("what you typed has been saved")).to_be_visible()
    assert _count(seed, "ReferralResponse") == responses_before  # nothing sent

    sign_in(page, adviser.email, adviser.password, adviser.totp_secret)
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    expect(page.get_by_label("Advice and reasons")).to_have_value(answer)
    expect(page.get_by_label("Social worker for the child harmed")
           ).to_have_value("Cosima Adeyemi-Ward")
    checked_page(page)


def test_a_restored_draft_is_discarded_and_stays_discarded(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    """A DSL thought better of what they typed: "Discard what you typed" shows the page as
    saved, and typing just before pressing it does not bring the draft back as the page goes."""
    _, dsl, incident_id = _incident(seed)
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)  # type: ignore[attr-defined]
    url = f"/incidents/{incident_id}/decisions/new"
    page.goto(url)
    reasons = page.get_by_label("Reasons for this decision")
    reasons.fill("Perhaps a referral — ask Ms Nakamura (中村) first.")
    expect(page.get_by_role("status").filter(has_text="Draft kept at")).to_be_visible(timeout=15000)

    page.goto(url)
    expect(page.get_by_text("It has not been saved or sent yet")).to_be_visible()
    expect(reasons).to_have_value("Perhaps a referral — ask Ms Nakamura (中村) first.")
    checked_page(page)
    reasons.fill("Typed again and not yet saved")  # the page would save this as it goes
    page.get_by_role("button", name="Discard what you typed").click()
    expect(page.get_by_text("What you typed is discarded. The page shows what is saved.")
           ).to_be_visible()
    expect(reasons).to_have_value("")
    checked_page(page)
    page.goto(url)
    expect(reasons).to_have_value("")
    expect(page.get_by_text("It has not been saved or sent yet")).to_have_count(0)
    expect(page.get_by_role("button", name="Discard what you typed")).to_have_count(0)
