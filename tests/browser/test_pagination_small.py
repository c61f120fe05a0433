"""Pagination on a phone (walk 5): at 390px GOV.UK's pagination showed "1 3 Next" on page 1 of 3
(it hides every number but the first, the last and the current one on small screens), so page 2
seemed to be missing. The portal's list (first, last, the current page and its neighbours, gaps
marked) is shown at every width; each number is a link a keyboard reaches and a screen reader
names."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe

pytestmark = pytest.mark.browser


def _shown(nav: object) -> list[str]:
    """The page numbers (and gaps) a sighted reader sees, in order."""
    return nav.locator(".govuk-pagination__item").evaluate_all(  # type: ignore[attr-defined]
        "items => items.filter(i => i.getBoundingClientRect().width > 0)"
        ".map(i => i.textContent.trim())")


def test_every_page_number_is_shown_and_reachable_at_390(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    school = seed.school(name=f"Linnet Green Primary {uuid.uuid4().hex[:6]}")
    dsl = seed.user("dsl", school, display_name="Oluwaseun Hartigan")
    staff = seed.user("staff", school, display_name="Sam Staff")
    kid = seed.child(school, "Pádraig", "Nakamura-Ellis", dt.date(2014, 6, 11))

    def lines(count: int) -> Callable[[], None]:
        def add() -> None:
            from portal.models import Child, School, User, db
            from tests.floodfile import add_lines

            add_lines(db.session.get(School, school.id), db.session.get(User, staff.id),
                      db.session.get(Child, kid.id), count)
        return add

    seed.run(lines(120))  # 50 a page: three pages
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/children/{kid.id}?page=1")
    nav = page.get_by_role("navigation", name="Pages of the chronology")
    assert _shown(nav) == ["1", "2", "3"]  # not "1 3"
    expect(nav.get_by_role("link", name="Page 1")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Page 2")).to_be_visible()
    expect(nav.get_by_role("link", name="Next")).to_be_visible()
    assert_no_horizontal_scroll(page)
    check_axe(page)
    # By keyboard: Tab reaches "Page 2" (after "Page 1"), Enter follows it.
    nav.get_by_role("link", name="Page 1").focus()
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Page 2")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]page=2\b"))
    nav = page.get_by_role("navigation", name="Pages of the chronology")
    expect(nav.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")
    assert _shown(nav) == ["1", "2", "3"]

    seed.run(lines(200))  # seven pages (320 lines, 50 a page): the gaps are marked
    page.goto(f"/children/{kid.id}?page=1")
    nav = page.get_by_role("navigation", name="Pages of the chronology")
    assert _shown(nav) == ["1", "2", "\u22ef", "7"]
    page.goto(f"/children/{kid.id}?page=4")
    assert _shown(nav) == ["1", "\u22ef", "3", "4", "5", "\u22ef", "7"]
    assert_no_horizontal_scroll(page)
    check_axe(page)
