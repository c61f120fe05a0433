"""Issue 16, part 2, on a phone (390 px): a DSL makes a sealed file for a school not on the
portal and sees its passphrase once; the receiving DSL, with no account, confirms receipt through
the link, whose page names no child; the sender's dashboard no longer lists it. Axe-clean."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe, page_problems

pytestmark = pytest.mark.browser


def test_a_dsl_makes_a_sealed_file_and_the_receiving_school_confirms(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school, display_name="Dana Lead")
    kid = seed.child(school, "Ifeoma", "Adebayo-Price", dt.date(2013, 9, 14))

    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/children/{kid.id}")
    page.get_by_role("link", name="Send the file to a school not on the portal").click()
    check_axe(page)
    assert_no_horizontal_scroll(page, 390)
    page_problems(page).allow(r"status of 400")  # the form sent empty: its page again, 400
    page.get_by_role("button", name="Make the sealed file").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the name of the school the file is going to")
    check_axe(page)
    page.get_by_label("Name of the school the file is going to").fill(
        "St Bartholomew-the-Great Church of England Academy")
    page.get_by_role("button", name="Make the sealed file").click()

    # The passphrase, once: seven words, readable on a phone call.
    passphrase = page.get_by_test_id("passphrase")
    expect(passphrase).to_be_visible()
    words = passphrase.inner_text().strip()
    assert re.fullmatch(r"[a-z]+(-[a-z]+){6}", words), words
    expect(page.get_by_text("It is shown only this once")).to_be_visible()
    check_axe(page)
    assert_no_horizontal_scroll(page, 390)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the sealed file").click()
    assert download.value.suggested_filename == f"child-file-{kid.reference}.zip"
    link = page.get_by_test_id("receipt-link").inner_text().strip()
    page.reload()
    expect(page.get_by_test_id("passphrase")).to_have_count(0)
    expect(page.get_by_text("The passphrase was shown once")).to_be_visible()

    page.goto("/dashboard")
    awaiting = page.get_by_test_id("awaiting-receipt")
    expect(awaiting).to_contain_text(f"{kid.full_name} ({kid.reference}) to St Bartholomew")
    check_axe(page)

    # The receiving DSL: no account, no child detail.
    other = new_page()
    other.goto(link)
    expect(other.get_by_role("heading", level=1)).to_have_text("Confirm you received a file")
    for detail in ("Ifeoma", "Adebayo", kid.reference):
        expect(other.locator("body")).not_to_contain_text(detail)
    check_axe(other)
    assert_no_horizontal_scroll(other, 390)
    other.get_by_label("Your full name").fill("Rhiannon Hughes")
    other.get_by_label("Your role").fill("Designated safeguarding lead")
    other.get_by_label("Your school").fill("St Bartholomew-the-Great Academy")
    other.get_by_role("button", name="Confirm we received the file").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Receipt confirmed")
    check_axe(other)

    page.goto("/dashboard")
    expect(page.get_by_test_id("count-awaiting-receipt")).to_have_text("0")
    page.goto(f"/children/{kid.id}")
    expect(page.get_by_test_id("sealed-exports")).to_contain_text("received")
    check_axe(page)
    assert_no_horizontal_scroll(page, 390)
