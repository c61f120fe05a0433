"""Issue 14 at 390 px: the DSL fills in the hand-over, previews exactly what will be sent and
confirms it; the adviser of that authority opens the referral and reads the summary (children,
what happened, how to reach the referrer) without scrolling. axe-core clean on every page.
Invented names only."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe
from tests.browser.test_referral_walk import (  # noqa: F401 - the fixture too
    adviser_of,
    hsb_incident,
    saturday_clock,
)

pytestmark = pytest.mark.browser

PHONE_HEIGHT = 844


def checked(page: Page) -> None:
    assert_no_horizontal_scroll(page)
    check_axe(page)


def test_preview_confirm_and_the_adviser_reads_the_summary_above_the_fold(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed, mail_sink: Any,
    saturday_clock: dt.datetime,  # noqa: F811
) -> None:
    school = seed.school(name=f"Skerne Bank Primary {uuid.uuid4().hex[:6]}", la_code="darlington")
    dsl = seed.user("dsl", school, display_name="Perpetua Okonkwo-Hale")
    harmed = seed.child(school, "Zoë", "Ó Súilleabháin", dt.date(2015, 3, 2), la_code="darlington")
    harmer = seed.child(school, "小龙", "李", dt.date(2013, 6, 9), la_code="darlington")
    adviser = adviser_of(seed, "darlington", "Moira Castellanos")
    summary = "In the lunch queue one child repeatedly made sexual comments to another."
    incident_id, _ = hsb_incident(seed, school, dsl, harmed, harmer, summary,
                                  "He wouldn't stop saying it.")

    dsl_page = new_page()
    sign_in(dsl_page, dsl.email, dsl.password, dsl.totp_secret)
    dsl_page.goto(f"/incidents/{incident_id}/hand-over/darlington")
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text(
        "Hand over to Darlington Borough Council")
    expect(dsl_page.get_by_test_id("missing")).to_contain_text(
        re.compile(r"Missing: [^—]*first language[^—]* — add them for Zoë"))
    checked(dsl_page)

    # What the roll lacks, added from the hand-over: Zoë's first language.
    dsl_page.get_by_test_id("missing").get_by_role(
        "link", name=re.compile("add (it|them) for Zoë")).first.click()
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text("Details for the referral")
    checked(dsl_page)
    dsl_page.get_by_label("First language").fill("Irish")
    dsl_page.get_by_role("button", name="Save the child's details").click()
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text(
        "Hand over to Darlington Borough Council")

    dsl_page.get_by_label("Your role").fill("Designated safeguarding lead")
    dsl_page.get_by_label("Your direct phone number").fill("01325 000111")
    dsl_page.get_by_label("When can the authority reach you?").fill("Weekends by phone")
    for legend in dsl_page.locator("legend", has_text="agree to the referral?").all():
        dsl_page.get_by_role("group", name=legend.inner_text()).get_by_label(
            "Yes, they agree to the referral").check()
    dsl_page.get_by_label("Covering note (optional)").fill(
        "Both families know. Please ring me before the strategy meeting.")
    dsl_page.get_by_role("button", name="Preview the referral").click()

    # The preview: exactly what will be sent, as the adviser will read it.
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text(
        "Check the referral to Darlington Borough Council")
    card = dsl_page.get_by_test_id("packet-summary")
    expect(card).to_contain_text("Zoë Ó Súilleabháin")
    expect(card).to_contain_text("李小龙")  # family name first, as written
    expect(dsl_page.get_by_test_id("covering-note")).to_contain_text("Both families know.")
    expect(dsl_page.get_by_test_id("child-" + harmed.reference)).to_contain_text("Irish")
    checked(dsl_page)
    dsl_page.get_by_role("button", name="Confirm and send to Darlington Borough Council").click()
    expect(dsl_page.get_by_text(re.compile(
        r"Handed over to Darlington Borough Council\. Referral \S+\."))).to_be_visible()
    read = dsl_page.get_by_test_id("line-darlington").get_by_role(
        "link", name=re.compile(r"^Read referral "))
    referral_path = read.get_attribute("href") or ""
    assert re.fullmatch(r"/referrals/[0-9a-f-]{36}", referral_path), referral_path

    # The adviser, on a phone: the summary is on the first screen.
    adviser_page = new_page()
    sign_in(adviser_page, adviser.email, adviser.password, adviser.totp_secret)
    adviser_page.goto(referral_path)
    summary_card = adviser_page.get_by_test_id("packet-summary")
    expect(summary_card).to_contain_text(summary)
    expect(summary_card).to_contain_text("01325 000111")
    box = adviser_page.get_by_test_id("summary-text").bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE_HEIGHT, box
    assert adviser_page.evaluate("window.scrollY") == 0
    checked(adviser_page)
