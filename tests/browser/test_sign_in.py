"""Signing in, keyboard use, "Hide this page" and the portal without JavaScript, in Chromium at
phone size (390x844). Every page checked is axe-core clean."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import unquote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    NEUTRAL_URL,
    Seed,
    assert_no_horizontal_scroll,
    check_axe,
    fresh_totp,
    page_problems,
)

pytestmark = pytest.mark.browser


def test_the_harness_notices_a_csp_violation(page: Page) -> None:
    """Guards the guard: a blocked inline script must be reported (then forgiven here)."""
    page.goto("/sign-in")
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.inlineRan = true';
        document.body.append(s);
    }""")
    problems = page_problems(page)
    # Chromium's own console message, and the one from the harness's securitypolicyviolation
    # listener (which also catches violations Chromium reports only as an event).
    for _ in range(100):
        if (any("violates the following Content Security Policy" in m for m in problems.found)
                and any("CSP violation: script-src" in m for m in problems.found)):
            break
        page.wait_for_timeout(20)
    assert any("violates the following Content Security Policy" in m for m in problems.found)
    assert any("CSP violation: script-src" in m for m in problems.found), problems.found
    assert page.evaluate("window.inlineRan === undefined"), "an inline script ran despite the CSP"
    problems.found.clear()


def test_sign_in_page_fits_a_phone_and_is_accessible(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_no_horizontal_scroll(page)
    check_axe(page)


def test_dsl_signs_in_with_password_and_security_code(page: Page, seed: Seed) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Priya Okonkwo-Hale")
    assert dsl.totp_secret

    page.goto("/sign-in")
    page.get_by_label("Email address").fill(dsl.email)
    page.get_by_label("Password", exact=True).fill(dsl.password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/sign-in/code$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    assert_no_horizontal_scroll(page)
    check_axe(page)
    code, _ = fresh_totp(dsl.totp_secret, seed.last_totp_step(dsl.email))
    page.get_by_label("Security code").fill(code)
    page.get_by_role("button", name="Continue").click()

    # A DSL starts on their dashboard (a walk: every sign-in landed on the account page).
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    assert_no_horizontal_scroll(page)
    check_axe(page)
    page.goto("/home")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Priya Okonkwo-Hale")
    expect(page.get_by_text(school.name)).to_be_visible()
    assert_no_horizontal_scroll(page)
    check_axe(page)


def test_wrong_password_shows_the_error_summary_and_moves_focus_to_it(
    page: Page, seed: Seed
) -> None:
    school = seed.school()
    staff = seed.user("staff", school)

    page.goto("/sign-in")
    page.get_by_label("Email address").fill(staff.email)
    page.get_by_label("Password", exact=True).fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/sign-in$"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text("Enter a correct email address and password")
    # GOV.UK Frontend moves focus to the summary, so a screen reader announces it at once.
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    # The summary's link takes the user to the field with the problem.
    summary.get_by_role("link").click()
    expect(page.get_by_label("Email address")).to_be_focused()
    assert_no_horizontal_scroll(page)
    check_axe(page)


def _focused(page: Page) -> str:
    return str(page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? `${e.tagName.toLowerCase()}#${e.id}|${(e.textContent || '').trim()}` : '' }"
    ))


def test_keyboard_only_tab_reaches_the_email_field_and_the_skip_link_works(page: Page) -> None:
    page.goto("/sign-in")

    # The first Tab stop on the page is the skip link, and it is shown when focused.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()

    # Following it moves focus to <main>; the next Tab stop is the email field.
    page.keyboard.press("Enter")
    expect(page.locator("main#main-content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email address")).to_be_focused()

    # Without the skip link, Tab alone still gets there, through a short header.
    page.goto("/sign-in")
    stops = []
    for _ in range(8):
        page.keyboard.press("Tab")
        stops.append(_focused(page))
        if stops[-1].startswith("input#email"):
            break
    assert stops[-1].startswith("input#email"), f"Tab never reached the email field: {stops}"
    assert len(stops) <= 5, f"too many Tab stops before the email field: {stops}"
    # And on: password, then the button.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()


def test_hide_this_page_blanks_the_screen_at_once_and_leaves_no_way_back(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school()
    staff = seed.user("staff", school)
    page = new_page()
    sign_in(page, staff.email, staff.password)

    # A new tab: something harmless first, then the portal page.
    tab = new_page(tab_of=page)
    tab.goto("data:text/html,<title>Start</title><p>Start page</p>")
    tab.goto("/home")
    expect(tab.get_by_role("heading", level=1)).to_contain_text("signed in")
    before = tab.evaluate("history.length")

    # What the screen shows the instant the control is used: a click listener on window runs
    # after the link's own (same task, before any navigation) and keeps what it saw in a cookie
    # of the portal's site, read once the tab is on the neutral page (another site, so the
    # portal's sessionStorage cannot carry it; a call to the test made at the click can be lost
    # to the navigation).
    tab.evaluate("""() => window.addEventListener('click', () => {
        document.cookie = 'seen-at-click=' + encodeURIComponent(JSON.stringify({
            hiding: document.documentElement.classList.contains('portal-hiding'),
            visibility: getComputedStyle(document.body).visibility,
            title: document.title,
            url: location.pathname,
        })) + '; path=/';
    })""")
    tab.get_by_role("button", name="Hide this page").tap()

    tab.wait_for_url(NEUTRAL_URL)
    expect(tab.get_by_role("heading", level=1)).to_have_text("Weather")
    assert "safeguard" not in tab.content().lower()
    seen = [c["value"] for c in tab.context.cookies() if c["name"] == "seen-at-click"]
    at_click = json.loads(unquote(seen[0])) if seen else None
    assert at_click == {"hiding": True, "visibility": "hidden", "title": "", "url": "/home"}
    # location.replace: the portal page was swapped out of the history, not pushed down it.
    assert tab.evaluate("history.length") == before
    tab.go_back()
    expect(tab).to_have_url(re.compile(r"^data:"))
    assert "/home" not in tab.url


def test_hide_this_page_without_javascript_is_a_plain_link(
    new_page: Callable[..., Page]
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto("/sign-in")
    hide = page.get_by_role("button", name="Hide this page")
    expect(hide).to_have_attribute("href", "/hide")
    assert hide.evaluate("e => e.tagName") == "A"
    # /hide sends the browser on to the neutral page: another site (the hide_page_url setting).
    # Playwright answers only the first request of a redirect chain, so the test sees the
    # browser ask for the neutral page, straight after /hide, and nothing else.
    with page.expect_request(NEUTRAL_URL) as asked:
        hide.click()
    assert asked.value.is_navigation_request()
    assert asked.value.redirected_from is not None
    assert asked.value.redirected_from.url.endswith("/hide")


def test_the_portal_works_without_javascript(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school()
    staff = seed.user("staff", school, display_name="Tomasz Wrenfield")
    page = new_page(java_script_enabled=False)

    # A wrong password: the error is on the page (focus handling is a JavaScript extra).
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(staff.email)
    page.get_by_label("Password", exact=True).fill("wrong wrong wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a correct email address and password")

    sign_in(page, staff.email, staff.password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tomasz Wrenfield")
    # The idle-session note is there without the script that would warn before the deadline.
    expect(page.get_by_text("You'll be signed out after")).to_be_visible()
    assert_no_horizontal_scroll(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_text("You've signed out")).to_be_visible()
    page.goto("/home")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_every_url_in_the_stylesheets_is_served(page: Page) -> None:
    page.goto("/sign-in")
    hrefs = page.eval_on_selector_all("link[rel=stylesheet]", "els => els.map(e => e.href)")
    missing = []
    for href in hrefs:
        css = page.request.get(href)
        assert css.ok, href
        for ref in sorted(set(re.findall(r"url\(([^)]+)\)", css.text()))):
            ref = ref.strip("'\"")
            if ref.startswith("data:"):
                continue
            target = page.evaluate("([r, b]) => new URL(r, b).href", [ref, href])
            if page.request.get(target).status == 404:
                missing.append(f"{href} -> {ref}")
    assert not missing, "stylesheets point at files the portal does not serve:\n" + "\n".join(
        missing)


def test_hide_sends_the_browser_to_the_neutral_site_and_says_nothing_itself(page: Page) -> None:
    # The neutral page is another site now (its icon is its own business); /hide itself is a
    # bare redirect with nothing on it about the portal.
    response = page.request.get("/hide", max_redirects=0)
    assert response.status == 303
    assert response.headers["location"] == NEUTRAL_URL
    assert "safeguard" not in response.text().lower()
    assert response.headers["referrer-policy"] == "no-referrer"


def test_idle_warning_takes_focus_and_stay_signed_in_keeps_the_session(
    page: Page, seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school()
    staff = seed.user("staff", school)
    page.clock.install()
    sign_in(page, staff.email, staff.password)
    warning = page.get_by_role("alert").filter(has_text="You'll be signed out")
    expect(warning).to_be_hidden()

    # 26 minutes later (the browser's clock only: the server's session is still fresh).
    page.clock.fast_forward("26:00")
    expect(warning).to_be_visible()
    expect(warning).to_be_focused()
    expect(warning).to_contain_text("in 4 minutes")
    assert_no_horizontal_scroll(page)
    check_axe(page)

    with page.expect_response(re.compile(r"/session/keepalive$")) as answer:
        warning.get_by_role("button", name="Stay signed in").click()
    assert answer.value.ok
    assert answer.value.json()["signed_in"] is True
    expect(warning).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/home$"))
