"""A DSL triages a concern without opening an incident, in Chromium at phone size (390x844),
axe-core clean throughout (issue 13).

The dashboard lists the new concern; the DSL opens it, reads it whole (the long account folded
behind "Show all", which opens without any script), is refused a reason that calls it banter, then
records it as a safeguarding concern of another kind with its other route. The concern leaves the
"new" list and stays in the child's file with its outcome. Invented names only.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe

pytestmark = pytest.mark.browser

WHAT = ("At registration Tamsin said there is often no food at home in the evenings and that "
        "she looks after her little brother until late. " * 8).strip()
WORDS = "Most nights it's just toast, Mum works till ten."


def checked(page: Page) -> None:
    assert_no_horizontal_scroll(page)
    check_axe(page)


def test_a_dsl_triages_a_concern_without_an_incident_on_a_phone(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    school = seed.school(name=f"Brackenfold Primary {random.randrange(10**6):06d}")
    staff = seed.user("staff", school, display_name="Orla Penhaligon")
    dsl = seed.user("dsl", school, display_name="Kwabena Salterton")
    kid = seed.child(school, "Tamsin", "Vellacott-Rhee", dt.date(2015, 3, 9))

    def concern() -> Any:
        from portal.models import Concern, ConcernChild, db

        c = Concern(school_id=school.id, raised_by_id=staff.id, state="submitted",
                    occurred_on=dt.date.today(),
                    submitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        c.what_happened = WHAT
        c.child_words = WORDS
        c.where = "Classroom 4"
        db.session.add(c)
        db.session.flush()
        db.session.add(ConcernChild(concern_id=c.id, child_id=kid.id))
        return c.id

    concern_id = seed.run(concern)

    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto("/dashboard")
    link = page.locator(f"a[href$='/concerns/{concern_id}/triage']").first
    expect(link).to_be_visible()
    checked(page)
    link.click()

    # Read it whole: the child by name, the long account folded behind "Show all".
    expect(page.get_by_role("heading", level=1)).to_contain_text("Raised by Orla Penhaligon on")
    expect(page.get_by_role("link", name=f"{kid.full_name} ({kid.reference})")).to_be_visible()
    expect(page.get_by_test_id("child-words")).to_contain_text("Mum works till ten")
    more = page.get_by_test_id("what-happened-more")
    expect(more).to_be_visible()
    checked(page)
    more.locator("summary").click()
    expect(more.locator(".govuk-details__text")).to_contain_text("until late")
    checked(page)

    # A reason that dismisses it as banter is refused, and says why.
    page.get_by_role("radio", name="No further action").check()
    page.get_by_label("Reasons for this decision").fill("Just banter about tea, nothing more.")
    page.get_by_role("button", name="Record without an incident").click()
    expect(page.get_by_role("alert")).to_contain_text("You wrote “banter”")
    checked(page)

    # Recorded as a concern at home, passed to the local authority's front door.
    page.get_by_role("radio", name="A safeguarding concern of another kind").check()
    page.get_by_label("Reasons for this decision").fill(
        "Neglect at home, not harm between children. Referred to the front door.")
    page.get_by_role("radio", name="A concern at home").check()
    page.get_by_role("radio", name="The local authority's front door (children's social care)"
                     ).check()
    yesterday = dt.date.today() - dt.timedelta(days=1)
    page.get_by_label("Day").fill(str(yesterday.day))
    page.get_by_label("Month").fill(str(yesterday.month))
    page.get_by_label("Year").fill(str(yesterday.year))
    page.get_by_label("Time", exact=True).fill("16:30")
    page.get_by_label("Reference (optional)").fill("MASH-30417")
    page.get_by_role("button", name="Record without an incident").click()

    expect(page.get_by_text("Recorded without an incident.")).to_be_visible()
    outcome = page.get_by_test_id("outcome")
    expect(outcome).to_contain_text("A safeguarding concern of another kind (a concern at home)")
    expect(outcome).to_contain_text("MASH-30417")
    expect(page.get_by_role("button", name="Record without an incident")).to_have_count(0)
    checked(page)

    # It has left the "new" list, and is in the child's file with its outcome.
    page.goto("/dashboard")
    expect(page.locator(f"a[href$='/concerns/{concern_id}/triage']")).to_have_count(0)
    page.goto(f"/children/{kid.id}")
    expect(page.get_by_text("Recorded without an incident").first).to_be_visible()
    expect(page.get_by_text("MASH-30417")).to_be_visible()
    checked(page)
