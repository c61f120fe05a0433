"""Issue 13, item 3, on a phone (390 px): a DSL finds a child by the start of a name without
accents, and merges a second record of the same child; staff adding the child again are asked
"Is it one of these children?". Every page axe-clean."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Person, Seed, assert_no_horizontal_scroll, check_axe

pytestmark = pytest.mark.browser


def _staff_add_zoe_again(page: Page, staff: Person, sign_in: Callable[..., None]) -> Locator:
    """Staff sign in and add "zoe o suilleabhain" (date of birth not known) to a concern: the
    question the portal asks."""
    sign_in(page, staff.email, staff.password, staff.totp_secret)
    page.goto("/concerns/new")
    page.get_by_label("Given name").fill("zoe")
    page.get_by_label("Family name").fill("o suilleabhain")
    page.get_by_label("I do not know their date of birth").check()
    page.get_by_role("button", name="Add child").click()
    return page.get_by_test_id("possible-matches")


def test_a_dsl_finds_and_merges_a_child_added_twice(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Dana Lead")
    staff = seed.user("staff", school)
    zoe = seed.child(school, "Zoë", "Ó Súilleabháin", dt.date(2014, 6, 2))
    again = seed.child(school, "Zoe", "O Suilleabhain", dt.date(2014, 6, 2))

    # Staff adding her again are asked first.
    page = new_page()
    panel = _staff_add_zoe_again(page, staff, sign_in)
    expect(panel).to_contain_text("Is it one of these children?")
    expect(panel).to_contain_text(f"Zoë Ó Súilleabháin ({zoe.reference})")
    check_axe(page)
    assert_no_horizontal_scroll(page, 390)

    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto("/children")
    page.get_by_label("Child's name").fill("zoe o suil")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("2 children match your search")).to_be_visible()
    check_axe(page)
    assert_no_horizontal_scroll(page, 390)

    page.goto(f"/children/{zoe.id}")
    page.get_by_role("link", name="Merge with another record of this child").click()
    page.get_by_role("link", name=re.compile(f"Compare with .*{again.reference}")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Merge {zoe.reference} and {again.reference}")
    check_axe(page)
    assert_no_horizontal_scroll(page, 390)
    page.get_by_label("Why are these the same child?").fill(
        "Same date of birth and class; the class teacher confirmed it.")
    page.get_by_role("button", name="Merge the records").click()
    expect(page).to_have_url(re.compile(f"/children/{zoe.id}$"))
    expect(page.get_by_text(f"Record {again.reference} merged into this file on")).to_be_visible()
    check_axe(page)
    page.goto(f"/children/{again.id}")
    expect(page).to_have_url(re.compile(f"/children/{zoe.id}$"))


def test_the_children_list_on_a_phone_keeps_each_name_whole(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    """At 390 px the list of children was a five-column table: names broke mid-word ("Kwam|e
    Asant|ewaa") and the header ran past the edge (a walk of 1 December). Each child is now a
    card: the name whole on its line, each detail led by its column's name."""
    school = seed.school()
    dsl = seed.user("dsl", school)
    kwame = seed.child(school, "Kwame", "Asantewaa-Boateng", dt.date(2012, 2, 29))
    seed.child(school, "Tobias", "Wrenfield", dt.date(2013, 9, 1))
    seed.child(school, "小龙", "李", dt.date(2014, 1, 5))

    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto("/children")
    link = page.get_by_role("link", name=re.compile("Kwame Asantewaa-Boateng"))
    expect(link).to_be_visible()
    assert link.evaluate("e => e.getClientRects().length") == 1  # one line, not broken
    card = page.locator("tr", has=link)
    # Each detail led by its column's name (drawn from data-label, so not in the text).
    expect(card.locator('td[data-label="Reference"]')).to_have_text(kwame.reference)
    expect(card.locator('td[data-label="Date of birth"]')).to_have_text("29 February 2012")
    box = card.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
    if os.environ.get("PORTAL_TEST_SHOTS"):
        page.screenshot(path=os.environ["PORTAL_TEST_SHOTS"], full_page=True)
    check_axe(page)
    assert_no_horizontal_scroll(page, 390)


def test_staff_add_the_next_child_while_asked_about_the_first(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    """Walk 9: the next child typed into the same boxes dropped the child asked about, and the
    concern went with one child. The one asked about is held by the question until answered."""
    school = seed.school()
    staff = seed.user("staff", school)
    seed.child(school, "Zoë", "Ó Súilleabháin", dt.date(2014, 6, 2))
    page = new_page()
    panel = _staff_add_zoe_again(page, staff, sign_in)
    expect(panel).to_contain_text("You typed zoe o suilleabhain, date of birth not known.")
    expect(page.get_by_label("Given name")).to_have_value("")
    check_axe(page)
    assert_no_horizontal_scroll(page, 390)

    page.get_by_label("Given name").fill("小龙")
    page.get_by_label("Family name").fill("李")
    born = page.get_by_role("group", name="Date of birth")
    born.get_by_label("Day").fill("3")
    born.get_by_label("Month").fill("4")
    born.get_by_label("Year").fill("2014")
    page.get_by_role("button", name="Add child").click()
    added = page.get_by_role("group", name="Children you've added")
    expect(added).to_contain_text("李小龙")
    expect(panel).to_contain_text("You typed zoe o suilleabhain")

    panel.get_by_role("button", name="No, add a new child").click()
    expect(added).to_contain_text("zoe o suilleabhain (new to the portal)")
    expect(added).to_contain_text("李小龙")
    expect(page.get_by_test_id("possible-matches")).to_have_count(0)
    check_axe(page)
