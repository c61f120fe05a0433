"""What the seventh walk found on a phone (390 px): "Concerns you've raised" said "Sent" twice in
each row; the header marked a section only on the section's own page (not on an incident's page
or a child's file); the date boxes did not tell a screen reader which box was wrong, and kept a
year typed in full-width digits as typed. Each page here is axe-core clean and fits the phone.
Invented names only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe, menu_link
from tests.browser.test_concern_to_decision import born_aged, london_today

pytestmark = pytest.mark.browser


def checked(page: Page) -> None:
    assert_no_horizontal_scroll(page)
    check_axe(page)


def test_your_concerns_say_sent_once_on_a_phone(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    school = seed.school()
    staff = seed.user("staff", school, display_name="Ambrose Quillfeather")
    kid = seed.child(school, "Philippa", "Dunmore-Achebe", born_aged(11, london_today()))
    seed.concern(school, staff, [kid])
    page = new_page()
    sign_in(page, staff.email, staff.password, staff.totp_secret)
    page.goto("/concerns/mine")
    row = page.get_by_test_id("concern-row")
    expect(row).to_have_count(1)
    status = row.locator('td[data-label="Status"]')
    expect(status).to_have_text("Sent: waiting for a safeguarding lead")
    assert status.inner_text().count("Sent") == 1
    checked(page)


def test_the_header_marks_the_section_of_an_incident_and_a_childs_file(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Temperance Aldous-Nwosu")
    today = london_today()
    kid = seed.child(school, "Isadora", "Penhaligon", born_aged(12, today))
    other = seed.child(school, "Lorcan", "Abernethy-Sato", born_aged(13, today))
    iid = seed.incident(school, dsl, [(kid, "harmed", "derbyshire"),
                                      (other, "harmed_others", "derbyshire")])
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)

    page.goto(f"/incidents/{iid}")
    expect(menu_link(page, "Dashboard")).to_be_visible()
    expect(menu_link(page, "Dashboard")).to_have_attribute("aria-current", "true")
    expect(page.locator("nav[aria-label=Menu] [aria-current]")).to_have_count(1)
    checked(page)

    page.goto(f"/children/{kid.id}")
    expect(menu_link(page, "Children")).to_have_attribute("aria-current", "true")
    expect(page.locator("nav[aria-label=Menu] [aria-current]")).to_have_count(1)
    checked(page)

    page.goto("/dashboard")
    expect(menu_link(page, "Dashboard")).to_have_attribute("aria-current", "page")
    checked(page)


def test_the_wrong_date_box_is_marked_and_full_width_digits_read(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Cordelia Fenwright")
    today = london_today()
    kid = seed.child(school, "Oswin", "Thackeray-Mbeki", born_aged(12, today))
    other = seed.child(school, "Perdita", "Illingworth", born_aged(13, today))
    iid = seed.incident(school, dsl, [(kid, "harmed", "derbyshire"),
                                      (other, "harmed_others", "derbyshire")])
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/incidents/{iid}/facts")
    wide = "".join(chr(0xFF10 + int(d)) for d in str(today.year))  # a Japanese keyboard's year
    page.locator("#occurred_on-day").fill("16")
    page.locator("#occurred_on-month").fill("")
    page.locator("#occurred_on-year").fill(wide)
    page.get_by_role("button", name="Save and continue").click()

    summary = page.get_by_role("link", name="The date it happened must include a month")
    expect(summary).to_be_visible()
    expect(page.locator("#occurred_on-month")).to_have_attribute("aria-invalid", "true")
    for box in ("day", "year"):
        expect(page.locator(f"#occurred_on-{box}")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#occurred_on-year")).to_have_value(str(today.year))
    checked(page)
