"""What the tenth walk found on a phone (390 px) that only a browser shows: a line left empty
under the "must" warning of a route on the incident page, between the warning and the link to
hand the route over. Invented names only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe
from tests.browser.test_concern_to_decision import born_aged, london_today

pytestmark = pytest.mark.browser


def test_the_link_follows_the_must_warning_without_a_gap_on_a_phone(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Philomena Ashcombe-Oduya")
    today = london_today()
    kid = seed.child(school, "Tamsin", "Rowbotham", born_aged(13, today))
    other = seed.child(school, "Eamon", "Quarrie-Lindqvist", born_aged(14, today))
    iid = seed.incident(school, dsl, [(kid, "harmed", "derbyshire"),
                                      (other, "harmed_others", "derbyshire")])
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/incidents/{iid}")
    items = page.locator('[data-testid="routes"] li').filter(
        has=page.locator(".govuk-warning-text"))
    assert items.count() >= 1
    for n in range(items.count()):
        item = items.nth(n)
        warning = item.locator(".govuk-warning-text").bounding_box()
        link = item.get_by_role("link").first.bounding_box()
        assert warning is not None and link is not None
        gap = link["y"] - (warning["y"] + warning["height"])
        # The link's own line follows the warning: no empty line (about 25 px) nor the
        # warning's usual bottom margin (20 px) between them.
        assert 0 <= gap <= 10, f"{gap:.0f} px between the warning and its link"
    assert_no_horizontal_scroll(page)
    check_axe(page)
