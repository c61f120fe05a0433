"""Issue 11, item 2, in Chromium: an administrator adds a DSL to a school that has one; the new
DSL sets up their own password and app from the emailed link, sees a waiting page, and reads
records only once the school's DSL approves them. The new pages fit 320px and are axe-clean."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyotp
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, email_text, fresh_totp, wait_for_email
from tests.browser.test_small_screens import SMALL, fits, person

NEW_PASSWORD = "a password only I know"


def test_a_new_dsl_is_set_up_by_link_and_approved_by_the_school(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed, mail_sink: Any,
) -> None:
    school = seed.school()
    lead = person(seed, "dsl", school=school, display_name="Lena Lead")
    admin = person(seed, "admin", display_name="Ada Admin")
    email = f"nova-{school.id.hex[:6]}@example.test"

    a = new_page(**SMALL)
    sign_in(a, admin.email, admin.password, admin.totp_secret)
    fits(a, "/admin/users/new", "Create an account")
    expect(a.get_by_label("Password", exact=False)).to_have_count(0)
    a.get_by_label("Email address").fill(email)
    a.get_by_label("Full name").fill("Nova Newlead")
    a.get_by_label("Designated safeguarding lead").check()
    a.get_by_label("School").select_option(value=str(school.id))
    a.get_by_role("button", name="Create account and send set-up link").click()
    expect(a.get_by_test_id("setup-link-sent")).to_be_visible()
    assert "/account/set-up/" not in a.content()

    link = re.search(r"https?://\S+/account/set-up/\S+", email_text(wait_for_email(mail_sink,
                                                                                  email)))
    assert link
    n = new_page(**SMALL)
    fits(n, link.group(0), "Set up your account")
    n.get_by_label("Create a password").fill(NEW_PASSWORD)
    n.get_by_label("Confirm password").fill(NEW_PASSWORD)
    n.get_by_role("button", name="Set up my account").click()
    n.wait_for_url(re.compile(r"/sign-in/enrol$"))
    secret = n.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    code, _ = fresh_totp(secret, 0)
    n.get_by_label("Security code").fill(code)
    n.get_by_role("button", name="Continue").click()
    n.wait_for_url(re.compile(r"/home$"))
    expect(n.get_by_test_id("waiting-for-approval")).to_be_visible()
    fits(n, "/home")
    # Their dashboard is not theirs yet: their home page, which says why (it was "Page not
    # found", a walk).
    n.goto("/dashboard")
    n.wait_for_url(re.compile(r"/home$"))
    expect(n.get_by_test_id("waiting-for-approval")).to_be_visible()

    d = new_page(**SMALL)
    sign_in(d, lead.email, lead.password, lead.totp_secret)
    fits(d, "/dashboard", "Dashboard")
    d.get_by_test_id("accounts-waiting").get_by_role("link").click()
    expect(d.get_by_role("heading", level=1)).to_contain_text("Nova Newlead")
    fits(d, d.url)
    d.get_by_role("button", name="Approve").click()
    d.wait_for_url(re.compile(r"/dashboard$"))

    response = n.goto("/dashboard")
    assert response is not None and response.status == 200
    assert pyotp.TOTP(secret).now()  # the secret was the new DSL's own, from their own page
