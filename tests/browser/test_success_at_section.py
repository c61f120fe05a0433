"""A form that returns to a section of the incident page shows its success message there, on
a phone (walk 4: the message for a parents record, a review or a hand-over record was at the
top of a page scrolled 2,300 to 6,000 px down, so it was never seen)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe

pytestmark = pytest.mark.browser


def test_the_parents_record_says_saved_where_the_dsl_lands(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    school = seed.school(name=f"Heron Lane Primary {uuid.uuid4().hex[:6]}")
    dsl = seed.user("dsl", school, display_name="Ngozi Ashworth-Ó Dálaigh")
    harmed = seed.child(school, "Søren", "Achterberg", dt.date(2015, 4, 2))
    harmer = seed.child(school, "Yusuf", "Calloway", dt.date(2013, 8, 9))

    def make() -> uuid.UUID:
        from portal.models import Child, School, User, db
        from tests.referral_data import incident

        return incident(db.session.get(School, school.id), db.session.get(User, dsl.id),
                        [(db.session.get(Child, harmed.id), "harmed"),
                         (db.session.get(Child, harmer.id), "harmed_others")]).id

    incident_id = seed.run(make)
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/incidents/{incident_id}/children/{harmed.id}/parents")
    page.get_by_label("No, they were not told").check()
    page.get_by_role("group", name="If they were not told, why not?").get_by_role(
        "radio").first.check()
    page.get_by_label("More detail").fill("Telling them now would put Søren at more risk.")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident_id}#children$"))
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("Parents or carers recorded for Søren Achterberg")
    expect(banner).to_be_in_viewport()
    # Shown at the section, just under its heading.
    heading_bottom = page.locator("#children").evaluate(
        "h => h.getBoundingClientRect().bottom")
    banner_top = banner.evaluate("b => b.getBoundingClientRect().top")
    assert 0 <= banner_top - heading_bottom < 80
    assert_no_horizontal_scroll(page)
    check_axe(page)


def test_what_happened_says_saved_where_the_dsl_lands(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    """Walk 5: saving "What happened" (and the facts) showed no confirmation at all."""
    school = seed.school(name=f"Kestrel Row Primary {uuid.uuid4().hex[:6]}")
    dsl = seed.user("dsl", school, display_name="Aoife Brannigan-Okafor")
    harmed = seed.child(school, "Ilse", "Vandermeer", dt.date(2015, 1, 20))

    def make() -> uuid.UUID:
        from portal.models import Child, School, User, db
        from tests.referral_data import incident

        return incident(db.session.get(School, school.id), db.session.get(User, dsl.id),
                        [(db.session.get(Child, harmed.id), "harmed")]).id

    incident_id = seed.run(make)
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/incidents/{incident_id}/facts")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/incidents/{incident_id}/children$"))
    saved = page.locator(".govuk-notification-banner--success")
    expect(saved).to_contain_text("The facts are saved")
    expect(saved).to_be_in_viewport()

    page.goto(f"/incidents/{incident_id}/summary")
    page.get_by_label("What happened").fill("Ilse told her teacher at lunch on Monday.")
    page.get_by_role("button", name="Save").click()
    # The last step: the incident page from its top (what must be done first), saying so.
    expect(page).to_have_url(re.compile(rf"/incidents/{incident_id}$"))
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("What happened is saved")
    expect(banner).to_be_in_viewport()
    expect(page.get_by_test_id("summary-original")).to_contain_text("Ilse told her teacher")
    assert_no_horizontal_scroll(page)
    check_axe(page)
