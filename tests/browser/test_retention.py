"""Retention at phone size (390 px), axe-core clean (issue 16 part 4): the DSL follows the
dashboard's link to the files due for review, keeps one (reasons required) and destroys
another after its confirm page; the tombstone is listed. Invented names only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    Org,
    Person,
    Seed,
    assert_no_horizontal_scroll,
    check_axe,
    page_problems,
)

pytestmark = pytest.mark.browser


def closed_incident_about(seed: Seed, school: Org, dsl: Person, given: str,
                          family: str) -> str:
    """A child born in 2000 (review due in 2025) with a closed incident; their reference."""
    kid = seed.child(school, given, family, dt.date(2000, 3, 1))

    def make() -> None:
        from portal.models import Child, School, User, db
        from tests.referral_data import incident

        inc = incident(db.session.get(School, school.id), db.session.get(User, dsl.id),
                       [(db.session.get(Child, kid.id), "harmed")])
        inc.state = "closed"

    seed.run(make)
    return kid.reference


def test_keep_and_destroy_at_phone_size(seed: Seed, new_page: Callable[..., Page],
                                        sign_in: Callable[..., None]) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Nkechi Adeyemi-Lowe")
    closed_incident_about(seed, school, dsl, "Ottilie", "Brannagh")
    gone = closed_incident_about(seed, school, dsl, "Ezekiel", "Thorncastle")
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)

    page.goto("/dashboard")
    page.get_by_role("link", name="Retention: files due for review").click()
    expect(page.get_by_role("heading", name="Files due for review")).to_be_visible()
    expect(page.get_by_test_id("count-due")).to_have_text("2")
    assert_no_horizontal_scroll(page)
    check_axe(page)

    # Keep Ottilie's file: without reasons it is refused, and says why.
    page.get_by_role("link", name=re.compile(r"^Keep")).first.click()
    page_problems(page).allow(r"status of 400")  # the refused form answers 400 on purpose
    page.get_by_role("button", name="Keep the file").click()
    expect(page.get_by_text("Enter why the file is being kept").first).to_be_visible()
    assert_no_horizontal_scroll(page)
    check_axe(page)
    page.get_by_label("Why the file is being kept").fill(
        "Her sister's case is still open with children's social care")
    next_year = str(dt.date.today().year + 1)
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("9")
    page.get_by_label("Year").fill(next_year)
    page.get_by_role("button", name="Keep the file").click()
    expect(page.get_by_text("kept until its next review")).to_be_visible()
    expect(page.get_by_test_id("count-due")).to_have_text("1")

    # Destroy Ezekiel's: the confirm page names him and what goes.
    page.get_by_role("link", name=re.compile(r"^destroy")).first.click()
    expect(page.get_by_role("heading", name=re.compile("Destroy the file of Ezekiel "
                                                       "Thorncastle"))).to_be_visible()
    expect(page.get_by_test_id("will-destroy")).to_contain_text(
        "1 incident about this child alone.")
    assert_no_horizontal_scroll(page)
    check_axe(page)
    page.get_by_role("button", name="Destroy this file").click()
    expect(page.get_by_text(f"File {gone} destroyed").first).to_be_visible()
    tombstones = page.get_by_test_id("tombstones")
    expect(tombstones).to_contain_text("by Nkechi Adeyemi-Lowe")
    expect(tombstones).not_to_contain_text("Thorncastle")
    expect(page.get_by_test_id("count-due")).to_have_text("0")
    assert_no_horizontal_scroll(page)
    check_axe(page)
