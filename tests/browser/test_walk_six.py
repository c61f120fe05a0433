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
    from tests.browser.test_concern_to_decision import born_aged

    today = dt.datetime.now(LONDON).date()
    kids = [(seed.child(school, "Ottoline", "Brackenridge", born_aged(12, today)), "harmed",
             "dorset"),
            (seed.child(school, "Caspian", "Wetherell-Amadi", born_aged(13, today)),
             "harmed_others", "derbyshire")]

    def make() -> uuid.UUID:
        from portal.models import Child, Concern, ConcernChild, User, db
        from portal.services import incidents as svc
        from tests import factories

        factories.authority("dorset")
        user = db.session.get(User, dsl.id)
        assert user is not None
        now = dt.datetime.now(dt.UTC)
        concern = Concern(school_id=school.id, raised_by_id=user.id, state="submitted",
                          occurred_on=today - dt.timedelta(days=1),
                          submitted_at=now - dt.timedelta(hours=2))
        concern.what_happened = "An image was passed round at lunch."
        db.session.add(concern)
        db.session.flush()
        for kid, _, _ in kids:
            db.session.add(ConcernChild(concern_id=concern.id, child_id=kid.id))
        incident = svc.open_incident(user, [concern], now)
        svc.save_facts(user, incident, incident.version, svc.FactsInput(
            occurred_on=today - dt.timedelta(days=1),
            reported_at_local=dt.datetime.combine(today - dt.timedelta(days=1),
                                                  dt.time(9, 30)),
            types=frozenset({"nudes_sharing"}), features=frozenset({"coercion"})), now)
        for kid, role, la in kids:
            child = db.session.get(Child, kid.id)
            svc.save_child(user, incident, incident.version, child, svc.ChildInput(
                role=role, dob=kid.dob, local_authority=la), now)
        return incident.id

    return seed.run(make)


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
