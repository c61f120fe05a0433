"""What the sixth walk found on a phone (390 px): "Who to call now" said each unconfirmed number
or hours twice (in the box and again in a list below it), and a date's error summary always
went to the Day box with all three boxes in red, whichever box was wrong. Invented names only."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from portal.clock import LONDON
from tests.browser.conftest import Org, Person, Seed, assert_no_horizontal_scroll, check_axe

pytestmark = pytest.mark.browser


def incident_in_dorset(seed: Seed, school: Org, dsl: Person) -> uuid.UUID:
    """An incident whose harmed child lives in Dorset (number, hours and out-of-hours number
    all not confirmed in the directory); its facts saved."""
    from tests import factories
    from tests.browser.test_concern_to_decision import born_aged

    today = dt.datetime.now(LONDON).date()
    kids = [(seed.child(school, "Ottoline", "Brackenridge", born_aged(12, today)), "harmed",
             "dorset"),
            (seed.child(school, "Caspian", "Wetherell-Amadi", born_aged(13, today)),
             "harmed_others", "derbyshire")]

    seed.run(lambda: factories.authority("dorset"))
    return seed.incident(school, dsl, kids)


def test_each_warning_once_and_the_date_link_goes_to_the_wrong_box(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Marisol Pennington-Yeo")
    iid = incident_in_dorset(seed, school, dsl)
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)

    page.goto(f"/incidents/{iid}")
    dorset = page.get_by_test_id("line-dorset")
    expect(dorset).to_be_visible()
    for warning in ("Number not confirmed: check locally",
                    "Opening hours not confirmed: check locally",
                    "Out-of-hours number not confirmed: check locally"):
        expect(dorset.get_by_text(re.compile(r"^\s*" + re.escape(warning)))).to_have_count(1)
    expect(dorset.get_by_text(re.compile("not confirmed"))).to_have_count(3)
    expect(dorset.get_by_text("check your local procedures")).to_have_count(0)
    expect(dorset.get_by_text("check before relying on them")).to_have_count(0)
    # The number's warning is on screen with the line's name: the place a DSL reads first.
    dorset.locator("h3").scroll_into_view_if_needed()
    expect(dorset.get_by_test_id("phone-unconfirmed")).to_be_in_viewport()
    assert_no_horizontal_scroll(page)
    check_axe(page)

    # Only the month is missing: the summary's link goes to the Month box, only it is red.
    page.goto(f"/incidents/{iid}/facts")
    page.locator("#occurred_on-month").fill("")
    page.get_by_role("button", name="Save and continue").click()
    link = page.locator(".govuk-error-summary").get_by_role(
        "link", name="The date it happened must include a month")
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("#occurred_on-month")).to_be_focused()
    expect(page.locator("#occurred_on-month")).to_have_class(re.compile(r"govuk-input--error"))
    for box in ("day", "year"):
        assert "govuk-input--error" not in (
            page.locator(f"#occurred_on-{box}").get_attribute("class") or "")
    assert_no_horizontal_scroll(page)
    check_axe(page)
