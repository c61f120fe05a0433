"""The walk the portal exists for, in Chromium at phone size (390x844), axe-core clean throughout:

a member of staff raises a concern -> every DSL of the school is emailed (no child's name, a link)
-> a DSL signs in, opens the link, starts an incident with two children (harmed, aged 11; harmed
others, aged 12; sexual touching) -> the incident page shows the mandatory referral to children's
social care -> declining it, or dismissing the behaviour as banter, is refused with the reason ->
a proper decision is recorded -> each child's file names the other by initials and reference only.

And: nothing a member of staff types is lost when their session runs out (or the page's CSRF token
goes stale) before they press send.

Invented names only.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from portal.clock import LONDON
from tests.browser.conftest import (
    Kid,
    Person,
    Seed,
    assert_no_horizontal_scroll,
    check_axe,
    email_text,
    menu_link,
    wait_for_email,
)

pytestmark = pytest.mark.browser



def born_aged(years: int, today: dt.date) -> dt.date:
    """A date of birth that makes a child `years` old (completed years) on `today`."""
    return dt.date(today.year - years, today.month, min(today.day, 28)) - dt.timedelta(days=60)


def london_today() -> dt.date:
    return dt.datetime.now(LONDON).date()


def checked_page(page: Page) -> None:
    """Every page of the walk: fits the phone's width and is axe-core clean."""
    assert_no_horizontal_scroll(page)
    check_axe(page)


def group(page: Page, legend: str) -> Locator:
    """A fieldset (radios, checkboxes, date) by its legend."""
    return page.get_by_role("group", name=legend, exact=True)


def open_menu_item(page: Page, name: str) -> None:
    """Follow a link in the service navigation (behind the "Menu" button on a phone)."""
    menu_link(page, name).click()


def tick_child(page: Page, kid: Kid) -> None:
    """Find a child on the concern form by their full name and tick them."""
    page.get_by_label("Find a child by name").fill(kid.full_name)
    page.get_by_role("button", name="Find child").click()
    box = page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(kid.full_name)} "
                                                       rf"\({kid.reference}\)"))
    expect(box).to_be_visible()
    box.check()


# ---------------------------------------------------------------------------------------------
# Concern -> alert -> incident -> decision -> each child's file


@pytest.fixture
def school_with_people(seed: Seed) -> dict[str, Any]:
    school = seed.school(name=f"Hollowmere Primary {random.randrange(10**6):06d}")
    today = london_today()
    return {
        "school": school,
        "staff": seed.user("staff", school, display_name="Rosalind Achterberg"),
        "dsl": seed.user("dsl", school, display_name="Ngozi Pettifer-Lund"),
        # A DSL of another school must not be told.
        "other_dsl": seed.user("dsl", seed.school(), display_name="Ivo Quarrington"),
        "harmed": seed.child(school, "Elowen", "Marchetti-Byrne", born_aged(11, today)),
        "harmer": seed.child(school, "Caspian", "Thornquist", born_aged(12, today)),
    }


def test_concern_to_decision_on_a_phone(
    new_page: Callable[..., Page], sign_in: Callable[..., None], mail_sink: Any,
    emails_in_sink: Callable[[], list[Any]], school_with_people: dict[str, Any],
) -> None:
    people = school_with_people
    staff: Person = people["staff"]
    dsl: Person = people["dsl"]
    harmed: Kid = people["harmed"]
    harmer: Kid = people["harmer"]
    every_name = [harmed.given_name, harmed.family_name, harmer.given_name, harmer.family_name]

    # ---- 1. A member of staff raises the concern -------------------------------------------
    page = new_page()
    sign_in(page, staff.email, staff.password)
    checked_page(page)
    open_menu_item(page, "Raise a concern")
    expect(page).to_have_url(re.compile(r"/concerns/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern")
    checked_page(page)

    tick_child(page, harmed)
    checked_page(page)  # the page after "Find child", with the match to tick
    tick_child(page, harmer)
    page.get_by_label("What did you see or hear?").fill(
        f"At morning break I saw {harmer.full_name} put his hand inside "
        f"{harmed.full_name}'s skirt by the outdoor toilets. She pushed him away and cried.")
    page.get_by_label("What did the child say, in their own words?").fill(
        "He keeps doing it when nobody is looking and he said I can't tell anyone.")
    group(page, "Did any of it happen online?").get_by_label("No").check()
    group(page, "Is a child in immediate danger now?").get_by_label("No").check()
    page.get_by_role("button", name="Send to the safeguarding lead").click()

    expect(page.get_by_role("heading", name="Concern sent", exact=True)).to_be_visible()
    expect(page.get_by_text("Your safeguarding leads have been emailed, and can see it in the "
                             "portal now")).to_be_visible()
    checked_page(page)
    concern_url = page.url
    assert re.search(r"/concerns/[0-9a-f-]{36}$", concern_url), concern_url

    # ---- 2. The school's DSL is emailed: a link, and no child's name ------------------------
    alert = wait_for_email(mail_sink, dsl.email)
    text = email_text(alert)
    for name in every_name:
        assert name not in text, f"the alert email names a child ({name!r}):\n{text}"
    links = re.findall(r"https?://\S+", text)
    assert links, f"the alert email has no link:\n{text}"
    link = links[0].rstrip(".,)")
    assert link.endswith(concern_url.split("/", 3)[3]), (link, concern_url)
    others = [m for m in emails_in_sink() if people["other_dsl"].email in str(m["To"])]
    assert not others, "a DSL of another school was alerted"

    # ---- 3. The DSL follows the link, signs in, reads the concern ---------------------------
    dsl_page = new_page()
    dsl_page.goto(link)
    expect(dsl_page).to_have_url(re.compile(r"/sign-in"))
    checked_page(dsl_page)
    sign_in(dsl_page, dsl.email, dsl.password, dsl.totp_secret)
    checked_page(dsl_page)
    if dsl_page.url != link:  # sign-in does not (yet) return to the page asked for
        dsl_page.goto(link)
    expect(dsl_page.get_by_role("heading", level=1)).to_contain_text("Concern sent on")
    expect(dsl_page.get_by_test_id("what-happened")).to_contain_text("outdoor toilets")
    checked_page(dsl_page)

    # ---- 4. ... and starts an incident from it ----------------------------------------------
    concern_id = link.rsplit("/", 1)[1]
    open_menu_item(dsl_page, "Dashboard")
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    checked_page(dsl_page)
    dsl_page.locator(f"a[href$='/incidents/new?concern={concern_id}']").click()
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text("Start an incident")
    chosen = dsl_page.get_by_role("checkbox", name=re.compile(r"^Raised "))
    expect(chosen).to_be_checked()
    checked_page(dsl_page)
    dsl_page.get_by_role("button", name="Start an incident").click()

    # Step 1: the facts. Date and report time come from the concern.
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text("What happened: the facts")
    checked_page(dsl_page)
    dsl_page.get_by_role("checkbox", name="Sexual harassment").check()
    dsl_page.get_by_role("checkbox", name=re.compile(r"^There was sexual activity of any kind")
                         ).check()
    dsl_page.get_by_role("checkbox", name="No consent").check()
    dsl_page.get_by_role("button", name="Save and continue").click()

    # Step 2: the children named in the concern, each with their part and own words.
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text("The children")
    checked_page(dsl_page)
    for kid, role, words in (
        (harmed, "Harmed", "He keeps doing it when nobody is looking."),
        (harmer, "Harmed others", "I was only mucking about with her."),
    ):
        dsl_page.get_by_role("link", name=f"Add to this incident ({kid.reference})").click()
        expect(dsl_page.get_by_role("heading", level=1)).to_have_text(
            f"{kid.full_name} ({kid.reference})")
        checked_page(dsl_page)
        group(dsl_page, "What was the child's part in it?").get_by_label(role, exact=True).check()
        # (the label names the child: at the words box the heading is above the screen)
        dsl_page.get_by_label(f"What {kid.full_name} said, in their own words").fill(words)
        dsl_page.get_by_role("button", name="Save child").click()
        expect(dsl_page.get_by_role("heading", level=1)).to_have_text("The children")
    on_incident = dsl_page.get_by_test_id("incident-children")
    expect(on_incident).to_contain_text(f"{harmed.full_name} ({harmed.reference}): Harmed")
    expect(on_incident).to_contain_text(f"{harmer.full_name} ({harmer.reference}): Harmed others")
    checked_page(dsl_page)
    dsl_page.get_by_role("button", name="Continue").click()

    # Step 3: what happened.
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text("What happened")
    checked_page(dsl_page)
    dsl_page.get_by_label("What happened").fill(
        f"{harmer.full_name} touched {harmed.full_name} sexually, without consent, at morning "
        "break. She says it has happened before.")
    dsl_page.get_by_role("button", name="Save", exact=True).click()

    # ---- 5. The incident page: the mandatory route, unmistakably ----------------------------
    expect(dsl_page.get_by_role("heading", level=1)).to_contain_text("Incident I")
    checked_page(dsl_page)
    triggers = dsl_page.get_by_test_id("triggers")
    expect(triggers).to_contain_text("Sexual activity and a child under 13")
    expect(triggers).to_contain_text("Harmful sexual behaviour")
    expect(triggers).not_to_contain_text("UNDER_13_SEXUAL_ACTIVITY")  # words, never codes
    referral = dsl_page.get_by_test_id("routes").locator("li[data-route='csc_referral']")
    expect(referral).to_contain_text("Must")
    expect(referral).to_contain_text("Referral to children's social care")
    expect(referral).to_contain_text("You must take this route")
    expect(referral.get_by_role("link", name=re.compile("^Decide not to"))).to_have_count(0)
    # It is near the top: on a phone, the first screenful after the heading says what to do.
    box = referral.bounding_box()
    assert box and box["y"] < 844 * 2, f"the mandatory route is far down the page: {box}"
    expect(dsl_page.get_by_test_id("children")).to_contain_text("11 when it happened")
    expect(dsl_page.get_by_test_id("children")).to_contain_text("12 when it happened")

    # ---- 6. Declining the referral, or calling it banter, is refused with the reason --------
    incident_url = dsl_page.url
    dsl_page.get_by_role("link", name="Record a decision", exact=True).click()
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text("Record a decision")
    checked_page(dsl_page)
    group(dsl_page, "What did you decide?").get_by_label("Do not take this route").check()
    dsl_page.get_by_label("Route", exact=True).select_option("csc_referral")
    dsl_page.get_by_label("Reasons for this decision").fill("it was just banter")
    dsl_page.get_by_role("button", name="Record decision").click()
    summary = dsl_page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("it cannot be declined")
    checked_page(dsl_page)

    group(dsl_page, "What did you decide?").get_by_label("No further action").check()
    dsl_page.get_by_label("Route", exact=True).select_option("")
    dsl_page.get_by_label("Child", exact=True).select_option(str(harmer.id))
    dsl_page.get_by_label("Reasons for this decision").fill("it was just banter")
    dsl_page.get_by_role("button", name="Record decision").click()
    summary = dsl_page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Do not describe the behaviour as banter")
    expect(summary).to_contain_text("never normal")
    # The message is on the field too, and the reason typed is kept to be rewritten.
    expect(dsl_page.locator("#reasons-error")).to_contain_text("banter")
    expect(dsl_page.get_by_label("Reasons for this decision")).to_have_value("it was just banter")
    checked_page(dsl_page)

    # ---- 7. A proper decision, with reasons -------------------------------------------------
    group(dsl_page, "What did you decide?").get_by_label("Take this route", exact=True).check()
    dsl_page.get_by_label("Route", exact=True).select_option("csc_referral")
    dsl_page.get_by_label("Child", exact=True).select_option("")
    reasons = ("Sexual touching of a child aged 11 by a child aged 12, without consent and not "
               "for the first time. Referring both children to children's social care today.")
    dsl_page.get_by_label("Reasons for this decision").fill(reasons)
    dsl_page.get_by_role("button", name="Record decision").click()
    expect(dsl_page).to_have_url(incident_url)
    expect(dsl_page.get_by_text("Decision recorded")).to_be_visible()
    decisions = dsl_page.get_by_test_id("decisions")
    expect(decisions).to_contain_text("Take this route: Referral to children's social care")
    expect(decisions).to_contain_text(reasons)
    expect(decisions).to_contain_text("Ngozi Pettifer-Lund")
    checked_page(dsl_page)

    # ---- 8. Each child's file shows the other only as initials and reference ---------------
    for kid, other in ((harmed, harmer), (harmer, harmed)):
        open_menu_item(dsl_page, "Children")
        expect(dsl_page.get_by_role("heading", level=1)).to_have_text("Children")
        dsl_page.get_by_label(re.compile("name", re.I)).first.fill(kid.full_name)
        dsl_page.get_by_role("button", name=re.compile("Search|Find", re.I)).click()
        result = f"{kid.full_name} \N{EN DASH} open their file"
        dsl_page.get_by_role("link", name=result).first.click()
        expect(dsl_page).to_have_url(re.compile(rf"/children/{kid.id}$"))
        expect(dsl_page.get_by_role("heading", level=1)).to_have_text(kid.full_name)
        checked_page(dsl_page)
        body = dsl_page.locator("main").inner_text()
        assert f"{other.initials} ({other.reference})" in body, (
            f"{kid.full_name}'s file does not show {other.initials} ({other.reference})")
        for part in (other.given_name, other.family_name):
            assert part not in body, f"{kid.full_name}'s file names the other child: {part!r}"
        # Nor anywhere else in the document (title, hidden text, attributes).
        html = dsl_page.content()
        for part in (other.given_name, other.family_name):
            assert part not in html, f"{kid.full_name}'s file has {part!r} in its HTML"
        # What this child said is in their own file.
        expect(dsl_page.locator("main")).to_contain_text(
            "He keeps doing it" if kid is harmed else "I was only mucking about")
        # The printed copy is redacted the same way (its accessibility: test below).
        dsl_page.get_by_role("link", name="Print this file").click()
        expect(dsl_page.get_by_test_id("marking")).to_have_text("OFFICIAL-SENSITIVE")
        printed = dsl_page.content()
        assert f"{other.initials} ({other.reference})" in printed
        for part in (other.given_name, other.family_name):
            assert part not in printed, f"{kid.full_name}'s printed file has {part!r}"
        dsl_page.get_by_role("link", name="Back to the file").click()
        expect(dsl_page).to_have_url(re.compile(rf"/children/{kid.id}$"))


def test_a_page_asked_for_while_signed_out_opens_after_signing_in(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school)
    page = new_page()
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_the_printed_file_is_accessible(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    school = seed.school()
    dsl = seed.user("dsl", school)
    kid = seed.child(school, "Wrenna", "Oyelaran", born_aged(10, london_today()))
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/children/{kid.id}")
    checked_page(page)
    page.get_by_role("link", name="Print this file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(kid.full_name)
    check_axe(page)


def test_an_urgent_concern_without_javascript(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed, mail_sink: Any,
) -> None:
    """The form's buttons are plain posts: the whole journey works with JavaScript off."""
    school = seed.school()
    staff = seed.user("staff", school)
    dsl = seed.user("dsl", school)
    kid = seed.child(school, "Tobiah", "Lindqvist-Amadi", born_aged(9, london_today()))

    page = new_page(java_script_enabled=False)
    sign_in(page, staff.email, staff.password)
    open_menu_item(page, "Raise a concern")
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern")
    tick_child(page, kid)
    page.get_by_label("What did you see or hear?").fill(
        "Two older pupils cornered him behind the sports hall and one had a knife.")
    page.get_by_label("If you could not write down what they said, tell us why").fill(
        "He ran off before I could speak to him.")
    group(page, "Did any of it happen online?").get_by_label("No").check()
    group(page, "Is a child in immediate danger now?").get_by_label("Yes").check()
    page.get_by_role("button", name="Send to the safeguarding lead").click()

    expect(page.get_by_role("heading", name="Call 999 now")).to_be_visible()
    expect(page.get_by_role("heading", name="Concern sent", exact=True)).to_be_visible()
    assert_no_horizontal_scroll(page)

    alert = wait_for_email(mail_sink, dsl.email)
    assert str(alert["Subject"]).startswith("URGENT"), alert["Subject"]
    text = email_text(alert)
    for part in (kid.given_name, kid.family_name, "knife", "sports hall"):
        assert part not in text, f"the alert email gives away {part!r}"


# ---------------------------------------------------------------------------------------------
# Nothing typed is lost


def long_disclosure(words: int = 3000, seed: int = 20261121) -> str:
    """~`words` words of invented text, in paragraphs, every 40th word a numbered marker."""
    text = (
        "she said that he came up behind her near the lockers after lunch and would not let "
        "her go past until she gave him her phone then he laughed and told the others what "
        "was on it later on the bus two of them kept asking her to send pictures and she felt "
        "sick and scared about coming into school tomorrow because they will be waiting by "
        "the gate again as they were on monday and friday"
    )
    vocabulary = text.split()
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(words):
        out.append(f"[m{i}]" if i % 40 == 0 else rng.choice(vocabulary))
        if i % 120 == 119:
            out.append("\n\n")
    return " ".join(out).replace(" \n\n ", "\n\n")


@pytest.mark.parametrize("what_breaks", ["idle session", "idle session and stale token",
                                         "stale token"])
def test_a_long_disclosure_survives_an_expired_session(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed, what_breaks: str,
) -> None:
    school = seed.school()
    staff = seed.user("staff", school)
    kid = seed.child(school, "Marisol", "Ekwueme-Dunn", born_aged(13, london_today()))
    story = long_disclosure()
    assert 2900 <= len(story.split()) <= 3100
    words = "I didn't want to say before. Please don't tell him it was me."

    page = new_page()
    sign_in(page, staff.email, staff.password)
    page.goto("/concerns/new")
    tick_child(page, kid)
    page.get_by_label("What did you see or hear?").fill(story)
    page.get_by_label("What did the child say, in their own words?").fill(words)
    group(page, "Did any of it happen online?").get_by_label("Yes").check()

    if "idle" in what_breaks:
        # 31 minutes without activity: past the 30-minute idle limit.
        assert seed.age_sessions(staff.email, minutes=31) >= 1
    if "token" in what_breaks:
        page.locator("form[data-autosave] input[name=csrf_token]").evaluate(
            "e => { e.value = 'stale-' + e.value.slice(6) }")
    page.get_by_role("button", name="Send to the safeguarding lead").click()

    if "idle" in what_breaks:
        expect(page).to_have_url(re.compile(r"/sign-in"))
        expect(page.get_by_text("what you typed has been saved")).to_be_visible()
        checked_page(page)
        sign_in(page, staff.email, staff.password)
        # Signing in again goes straight back to the form.
        expect(page).to_have_url(re.compile(r"/concerns/new$"))
    else:
        expect(page).to_have_url(re.compile(r"/concerns/new$"))
        expect(page.get_by_text("Your page had expired")).to_be_visible()

    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern")
    checked_page(page)
    kept = page.get_by_label("What did you see or hear?").input_value()
    missing = [w for w in story.split() if w not in set(kept.split())]
    assert not missing, f"{len(missing)} words lost, e.g. {missing[:10]}"
    assert kept.split() == story.split(), "the words came back, but not in the order typed"
    expect(page.get_by_label("What did the child say, in their own words?")).to_have_value(words)
    expect(group(page, "Did any of it happen online?").get_by_label("Yes")).to_be_checked()
    # A rescued post never ticks a child (issue 11.6): the person ticks them again.
    expect(page.get_by_role("checkbox", name=re.compile(re.escape(kid.full_name)))
           ).to_have_count(0)
    tick_child(page, kid)

    # And it can be sent now.
    group(page, "Is a child in immediate danger now?").get_by_label("No").check()
    page.get_by_role("button", name="Send to the safeguarding lead").click()
    expect(page.get_by_role("heading", name="Concern sent", exact=True)).to_be_visible()
    expect(page.get_by_test_id("what-happened")).to_contain_text("[m2960]")
