"""Small things that undo trust (issue 12, item 6), on a phone (390px) unless said otherwise:
Back after "Hide this page" never shows a portal page, sign out is one tap from any signed-in
page, the accounts list stacks at 320px, and the confirmation page asks in plain words."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NEUTRAL_URL, Person, Seed, check_axe

pytestmark = pytest.mark.browser

# Every portal page that starts loading reports, when its DOM is ready, whether it was already
# blanked by "Hide this page" (an init script runs before the page's own scripts).
_REPORT_PORTAL_PAGES = """
document.addEventListener('DOMContentLoaded', () => {
  if (location.protocol === 'http:' && window.notePortalPage) {
    window.notePortalPage(JSON.stringify({
      path: location.pathname,
      hidden: document.documentElement.classList.contains('portal-hiding'),
      visible: getComputedStyle(document.body).visibility !== 'hidden',
    }));
  }
});
"""


def test_back_after_hide_this_page_never_shows_a_portal_page(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school()
    staff = seed.user("staff", school)
    page = new_page()
    seen: list[dict[str, object]] = []
    page.context.expose_function("notePortalPage", lambda note: seen.append(json.loads(note)))
    page.context.add_init_script(_REPORT_PORTAL_PAGES)

    # Three portal pages in this tab's history: sign-in, home, change password.
    sign_in(page, staff.email, staff.password)
    page.get_by_role("link", name="Change your password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    for _ in range(100):  # the page's own report arrives asynchronously
        if any(note["path"] == "/account/password" for note in seen):
            break
        page.wait_for_timeout(50)
    assert seen[-1] == {"path": "/account/password", "hidden": False, "visible": True}
    seen.clear()
    committed: list[str] = []
    page.on("framenavigated", lambda frame: committed.append(frame.url)
            if frame == page.main_frame else None)

    page.get_by_role("button", name="Hide this page").tap()
    page.wait_for_url(NEUTRAL_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Weather")

    # Back, and Back again: each portal page reached that way replaces itself with the neutral
    # page before it is drawn.
    for _ in range(2):
        page.go_back()
        page.wait_for_url(NEUTRAL_URL)
        expect(page.get_by_role("heading", level=1)).to_have_text("Weather")
        assert "safeguard" not in page.content().lower()
    # Back did reach the portal's pages (home, then sign-in, which sends a signed-in person on
    # to home), and each left at once; any that got as far as its DOM being ready was blank.
    portal = [url for url in committed if url.startswith("http://")]
    assert [re.sub(r"^http://[^/]+", "", url) for url in portal] == ["/home", "/home"]
    assert committed[-1] == NEUTRAL_URL
    assert all(note["hidden"] and not note["visible"] for note in seen), seen

    # Opening the portal afresh (the address bar) shows it again: hiding is not a trap.
    page.goto("/home")
    expect(page.get_by_role("heading", level=1)).to_contain_text("signed in")


def test_sign_out_is_one_tap_from_a_page_deep_in_the_portal(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school)
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto("/children")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Children")

    sign_out = page.locator("header").get_by_role("button", name="Sign out")
    # In the header, on screen at 390px without opening "Menu".
    expect(sign_out).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    box = sign_out.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    check_axe(page)

    sign_out.tap()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_text("You've signed out")).to_be_visible()
    page.goto("/children")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_signed_out_pages_offer_no_sign_out(page: Page) -> None:
    page.goto("/sign-in")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def _admin(seed: Seed) -> Person:
    """An administrator with a long name and a long email address (unique to the test)."""
    import uuid

    from tests import factories

    email = f"augusta.pendlebury-throssell.{uuid.uuid4().hex[:8]}@administrators.example.test"

    def make() -> Person:
        u = factories.user("admin", display_name="Augusta Pendlebury-Throssell", email=email)
        return Person(id=u.id, email=u.email, role="admin", totp_secret=u.totp_secret,
                      display_name=u.display_name)

    return seed.run(make)


def test_the_accounts_list_stacks_at_320_without_sideways_scrolling(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school(name="St Bartholomew-the-Less Church of England Voluntary Aided Primary")
    seed.user("staff", school, display_name="Maximilian Fotheringham-Whitlock")
    admin = _admin(seed)
    page = new_page(viewport={"width": 320, "height": 640})
    sign_in(page, admin.email, admin.password, admin.totp_secret)
    page.goto("/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    expect(page.get_by_text(admin.email)).to_be_visible()

    widths = page.evaluate("""() => ({
        page: document.scrollingElement.scrollWidth, inner: window.innerWidth,
        table: document.querySelector('table').scrollWidth,
        tableBox: document.querySelector('table').clientWidth})""")
    assert widths["page"] <= widths["inner"], widths
    # The rows stack: the table does not scroll sideways inside its own box either.
    assert widths["table"] <= widths["tableBox"], widths
    # Each line says which column it is.
    row = page.get_by_role("row").filter(has_text=admin.display_name)
    label = row.locator("td[data-label='Email address']").evaluate(
        "td => getComputedStyle(td, '::before').content")
    assert "Email address" in label
    check_axe(page)

    for path in ("/admin/schools", "/admin/authorities"):
        page.goto(path)
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), path
        check_axe(page)


def test_disable_account_asks_first_on_a_phone(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school()
    staff = seed.user("staff", school, display_name="Cressida Vanstone")
    admin = _admin(seed)
    page = new_page()
    sign_in(page, admin.email, admin.password, admin.totp_secret)
    page.goto(f"/admin/users/{staff.id}")
    page.get_by_role("button", name="Disable account").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Disable Cressida Vanstone's account?")
    check_axe(page)
    page.get_by_role("link", name="No, go back to Cressida Vanstone's account").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cressida Vanstone")
    expect(page.get_by_text("Active", exact=True)).to_be_visible()

    page.get_by_role("button", name="Disable account").tap()
    page.get_by_role("button", name="Yes, disable the account").tap()
    expect(page.get_by_text("Cressida Vanstone's account is disabled")).to_be_visible()
    expect(page.get_by_role("button", name="Enable account")).to_be_visible()
