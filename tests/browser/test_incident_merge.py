"""Two tabs of one DSL on one incident, at phone size (390 px), axe-core clean (issue 12, item 3).

Tab B adds Blackmail to the facts; tab A, opened before, changes the time it was reported and
saves: both survive and the page says the other save was the DSL's own other tab. Then both tabs
type "What happened": tab A is shown both texts, stacked, and chooses which to keep.

Invented names only.
"""

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



def incident_with_facts(seed: Seed, school: Org, dsl: Person) -> uuid.UUID:
    """An incident from a concern about two children, its facts saved (images shared, with
    coercion), reported yesterday at 09:30."""
    from tests.browser.test_concern_to_decision import born_aged

    today = dt.datetime.now(LONDON).date()
    kids = [seed.child(school, "Saoirse", "Vantongeren", born_aged(12, today)),
            seed.child(school, "Bartholomew", "Okonkwo-Reyes", born_aged(13, today))]

    return seed.incident(school, dsl, [(kids[0], "harmed", "derbyshire"),
                                       (kids[1], "harmed_others", "derbyshire")])


def checked(page: Page) -> None:
    assert_no_horizontal_scroll(page)
    check_axe(page)


def test_two_tabs_merge_and_a_conflict_asks(seed: Seed, new_page: Callable[..., Page],
                                            sign_in: Callable[..., None]) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Perpetua Halloran-Vesey")
    iid = incident_with_facts(seed, school, dsl)
    tab_a = new_page()
    sign_in(tab_a, dsl.email, dsl.password, dsl.totp_secret)
    tab_b = new_page(tab_of=tab_a)  # the same browser: same cookies, another tab

    facts = f"/incidents/{iid}/facts"
    tab_a.goto(facts)
    tab_b.goto(facts)
    tab_b.get_by_label("Blackmail", exact=True).check()
    tab_b.get_by_role("button", name="Save and continue").click()
    expect(tab_b.get_by_role("heading", name="The children")).to_be_visible()

    tab_a.get_by_label("Time", exact=True).fill("10:15")
    tab_a.get_by_role("button", name="Save and continue").click()
    expect(tab_a.get_by_role("heading", name="The children")).to_be_visible()
    note = tab_a.get_by_text("Your changes were saved together with those made at")
    expect(note).to_contain_text("by you in another tab or on another device: what else "
                                 "applies.")
    expect(tab_a.get_by_text("another DSL")).to_have_count(0)
    checked(tab_a)

    tab_a.goto(facts)  # both survived
    expect(tab_a.get_by_label("Blackmail", exact=True)).to_be_checked()
    expect(tab_a.get_by_label("Coercion or pressure", exact=True)).to_be_checked()
    expect(tab_a.get_by_label("Time", exact=True)).to_have_value("10:15")

    # Both tabs type what happened.
    summary = f"/incidents/{iid}/summary"
    tab_a.goto(summary)
    tab_b.goto(summary)
    tab_b.get_by_role("textbox", name="What happened").fill(
        "Bartholomew sent the image on to a group chat.")
    tab_b.get_by_role("button", name="Save").click()
    expect(tab_b.get_by_role("heading", name=re.compile("Incident I"))).to_be_visible()

    mine = "Saoirse told her form tutor at 09:15, upset."
    tab_a.get_by_role("textbox", name="What happened").fill(mine)
    tab_a.get_by_role("button", name="Save").click()
    expect(tab_a.get_by_role("heading", name="Choose which to keep")).to_be_visible()
    expect(tab_a.locator(".govuk-error-summary")).to_contain_text(
        "You saved this incident in another tab or on another device at")
    choice = tab_a.get_by_role("group", name="What happened: which do you want to keep?")
    expect(choice).to_contain_text("Bartholomew sent the image on to a group chat.")
    expect(choice).to_contain_text(mine)
    expect(tab_a.get_by_role("textbox", name="What happened")).to_have_value(mine)
    checked(tab_a)  # the page that asks: fits 390 px, axe-core clean

    tab_a.get_by_role("radio", name=re.compile("^Keep yours")).check()
    tab_a.get_by_role("button", name="Save").click()
    expect(tab_a.get_by_role("heading", name=re.compile("Incident I"))).to_be_visible()
    expect(tab_a.get_by_text(mine)).to_be_visible()
