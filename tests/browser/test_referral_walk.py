"""Issue 5's walk, in Chromium at phone size (390x844), axe-core clean on every page visited:

a DSL of a Darlington school opens an incident with a mandatory route (harmful sexual behaviour,
a child harmed and a child who harmed) on a Saturday morning, when the line is closed -> sees the
line is closed, the out-of-hours team's number as a tap-to-call link and when the line next opens
-> records a consultation call -> hands over to the convening authority (Darlington) -> that
authority's adviser signs in, finds the referral in the inbox, acknowledges it and records a
strategy meeting with separate social workers -> an adviser of another authority sees nothing of
it (not in the inbox, 404 at its address) -> the DSL signs in again and sees the decision and the
next due date on the incident page; the email that told the DSL holds no detail of the case.

The referrals clock (`portal.services.referrals.utcnow`, which the incident page's handover
panel, the call form, the handover, the inbox and the answer all read) is fixed at Saturday
21 November 2026, 10:00 in London. Invented names only.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from portal.services import referrals as referrals_service
from tests.browser.conftest import (
    Kid,
    Org,
    Person,
    Seed,
    assert_no_horizontal_scroll,
    check_axe,
    email_text,
    menu_link,
    page_problems,
    wait_for_email,
)
from tests.referral_data import local

pytestmark = pytest.mark.browser

# Saturday 21 November 2026, 10:00 London (GMT): Darlington's advice line is closed until
# Monday 08:30; its Emergency Duty Team answers out of hours.
SATURDAY_MORNING = local("2026-11-21T10:00")
MEETING_AFTERNOON = local("2026-11-23T14:00")  # the strategy meeting the adviser arranges
OUT_OF_HOURS_NUMBER = "01642 524552"
OUT_OF_HOURS_TEL = "tel:01642524552"


def checked_page(page: Page) -> None:
    """Every page of the walk: fits the phone's width and is axe-core clean."""
    assert_no_horizontal_scroll(page)
    check_axe(page)


def group(page: Page, legend: str) -> Locator:
    return page.get_by_role("group", name=legend, exact=True)


def open_menu_item(page: Page, name: str) -> None:
    """Follow a link in the service navigation (behind the "Menu" button on a phone)."""
    menu_link(page, name).click()


@pytest.fixture
def saturday_clock(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    """The live server runs in this process: every referrals view reads this clock."""
    monkeypatch.setattr(referrals_service, "utcnow", lambda: SATURDAY_MORNING)
    return SATURDAY_MORNING


def adviser_of(seed: Seed, code: str, display_name: str) -> Person:
    """An enrolled la_adviser of the authority `code` (created from the directory if new)."""
    from tests import factories

    email = f"la_adviser-{uuid.uuid4().hex[:8]}@example.test"

    def make() -> Person:
        la = factories.authority(code)
        u = factories.user("la_adviser", email=email, org=la, display_name=display_name)
        return Person(id=u.id, email=u.email, role="la_adviser", totp_secret=u.totp_secret,
                      display_name=u.display_name)

    return seed.run(make)


def hsb_incident(seed: Seed, school: Org, dsl: Person, harmed: Kid, harmer: Kid,
                 summary: str, words: str) -> tuple[uuid.UUID, str]:
    """(id, reference) of an incident stored the way the incidents feature stores it: sexual
    harassment without consent, harmed child 11, the child who harmed 13, both in Darlington."""
    from portal.models import Child, School, User, db
    from tests.referral_data import incident

    def make() -> tuple[uuid.UUID, str]:
        inc = incident(
            db.session.get(School, school.id), db.session.get(User, dsl.id),
            [(db.session.get(Child, harmed.id), "harmed"),
             (db.session.get(Child, harmer.id), "harmed_others")],
            occurred=dt.date(2026, 11, 20), reported_at=local("2026-11-21T09:15"),
            types=("sexual_harassment",), features=("no_consent",), online=False,
            summary=summary, words={harmed.reference: words},
        )
        assert inc.mandatory_routes == ["csc_referral"], inc.mandatory_routes
        return inc.id, inc.reference

    return seed.run(make)


def test_out_of_hours_call_handover_and_the_authoritys_answer_on_a_phone(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed, mail_sink: Any,
    saturday_clock: dt.datetime, monkeypatch: pytest.MonkeyPatch,
) -> None:
    school = seed.school(name=f"Skerne Bank Primary {uuid.uuid4().hex[:6]}", la_code="darlington")
    dsl = seed.user("dsl", school, display_name="Perpetua Okonkwo-Hale")
    harmed = seed.child(school, "Isolde", "Varga-Penhallow", dt.date(2015, 3, 2),
                        la_code="darlington")
    harmer = seed.child(school, "Barnaby", "Quillfeather", dt.date(2013, 6, 9),
                        la_code="darlington")
    adviser = adviser_of(seed, "darlington", "Moira Castellanos")
    stranger = adviser_of(seed, "derbyshire", "Ewan Threlkeld")
    summary = ("In the lunch queue Barnaby Quillfeather repeatedly made sexual comments to "
               "Isolde Varga-Penhallow and pulled at her clothes after she told him to stop.")
    words = "He wouldn't stop saying it and everyone was looking at me."
    incident_id, incident_ref = hsb_incident(seed, school, dsl, harmed, harmer, summary, words)
    incident_url = f"/incidents/{incident_id}"
    secrets = [harmed.given_name, harmed.family_name, harmer.given_name, harmer.family_name,
               harmed.reference, harmer.reference, "lunch queue", words[:20]]

    # ---- 1. The DSL opens the incident: the line is closed, the out-of-hours number ----------
    dsl_page = new_page()
    sign_in(dsl_page, dsl.email, dsl.password, dsl.totp_secret)
    checked_page(dsl_page)
    dsl_page.goto(incident_url)
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text(f"Incident {incident_ref}")
    checked_page(dsl_page)
    route = dsl_page.get_by_test_id("routes").locator("li[data-route='csc_referral']")
    expect(route).to_contain_text("Must")
    expect(route).to_contain_text("You must take this route")
    handover = dsl_page.get_by_test_id("handover")
    expect(handover).to_contain_text("Line status at 10:00am on Saturday 21 November 2026")
    line = dsl_page.get_by_test_id("line-darlington")
    expect(line).to_contain_text("Darlington Borough Council")
    expect(line).to_contain_text("Convening authority")
    expect(line.get_by_test_id("line-status")).to_contain_text("Closed now")
    expect(line.get_by_test_id("line-status")).to_contain_text(
        "Opens Monday 23 November at 8:30am")
    out_of_hours = line.get_by_test_id("out-of-hours")
    expect(out_of_hours).to_contain_text("Emergency Duty Team")
    call_ooh = out_of_hours.get_by_role("link", name=OUT_OF_HOURS_NUMBER)
    expect(call_ooh).to_have_attribute("href", OUT_OF_HOURS_TEL)
    # Saturday: no green "Open now" anywhere on the panel.
    expect(handover.get_by_text("Open now")).to_have_count(0)

    # ---- 2. ... records the consultation call ------------------------------------------------
    line.get_by_role("link", name="Record a call to Darlington Borough Council").click()
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text("Record a consultation call")
    checked_page(dsl_page)
    # The radios are asked as a question (a legend), not left as bare options.
    expect(group(dsl_page, "Which line did you call?").get_by_role(
        "radio", name=re.compile("Darlington"))).to_be_checked()
    # The form starts at the clock's time (UK): the DSL changes it to when they rang.
    expect(dsl_page.get_by_label("Day")).to_have_value("21")
    expect(dsl_page.get_by_label("Month")).to_have_value("11")
    expect(dsl_page.get_by_label("Year")).to_have_value("2026")
    expect(dsl_page.get_by_label("Time of the call")).to_have_value("10:00")
    dsl_page.get_by_label("Time of the call").fill("09:40")
    dsl_page.get_by_label("Who did you speak to?").fill("Tamsin Greathead, EDT duty social worker")
    dsl_page.get_by_label("What advice were you given?").fill(
        "Refer through the portal now; keep the two children apart on Monday and agree a safety "
        "plan with both families.")
    dsl_page.get_by_label("What did you decide?").fill("Hand over to Darlington this morning.")
    dsl_page.get_by_label("Why did you decide this?").fill(
        "Repeated sexual harassment without consent by an older child: a mandatory referral.")
    dsl_page.get_by_role("button", name="Save the call").click()
    expect(dsl_page).to_have_url(re.compile(rf"{incident_url}$"))
    expect(dsl_page.get_by_text("The call is recorded in each child's file")).to_be_visible()
    expect(dsl_page.get_by_test_id("handover")).to_contain_text(
        "Saturday 21 November 2026 at 9:40am: Darlington Borough Council, spoke to Tamsin "
        "Greathead")
    checked_page(dsl_page)

    # ---- 3. ... and hands over to the convening authority ------------------------------------
    dsl_page.get_by_test_id("hand-over-darlington").click()
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text(
        "Hand over to Darlington Borough Council")
    expect(dsl_page.locator(".govuk-inset-text")).to_contain_text("is the convening authority")
    checked_page(dsl_page)
    # Issue 14: the DSL's contact details and each child's parents' answer, then a preview of
    # exactly what will be sent, confirmed.
    dsl_page.get_by_label("Your role").fill("Designated safeguarding lead")
    dsl_page.get_by_label("Your direct phone number").fill("01325 000111")
    dsl_page.get_by_label("When can the authority reach you?").fill("Weekends by phone")
    for legend in dsl_page.locator("legend", has_text="agree to the referral?").all():
        dsl_page.get_by_role("group", name=legend.inner_text()).get_by_label(
            "Yes, they agree to the referral").check()
    dsl_page.get_by_role("button", name="Preview the referral").click()
    expect(dsl_page.get_by_role("heading", level=1)).to_have_text(
        "Check the referral to Darlington Borough Council")
    checked_page(dsl_page)
    dsl_page.get_by_role("button", name="Confirm and send to Darlington Borough Council").click()
    expect(dsl_page).to_have_url(re.compile(rf"{incident_url}$"))
    expect(dsl_page.get_by_text(re.compile(
        r"Handed over to Darlington Borough Council\. Referral \S+\."))).to_be_visible()
    route = dsl_page.get_by_test_id("routes").locator("li[data-route='csc_referral']")
    expect(route).to_contain_text("Handed over")
    expect(route).not_to_contain_text("You must take this route")
    line = dsl_page.get_by_test_id("line-darlington")
    expect(line).to_contain_text("Status: New")
    # 72 hours in Darlington, from Saturday 10:00.
    expect(line.get_by_test_id("next-due")).to_have_text(
        "Next due: Strategy meeting, Tuesday 24 November 2026 at 10:00am")
    expect(line.get_by_test_id("hand-over-darlington")).to_have_count(0)
    checked_page(dsl_page)
    read = line.get_by_role("link", name=re.compile(r"^Read referral "))
    reference = (read.text_content() or "").removeprefix("Read referral ").strip()
    referral_path = read.get_attribute("href") or ""
    assert re.fullmatch(r"/referrals/[0-9a-f-]{36}", referral_path), referral_path
    referral_id = referral_path.rsplit("/", 1)[1]

    # The advisers of that authority are told, with a link and nothing about the case.
    told = email_text(wait_for_email(mail_sink, adviser.email))
    assert referral_path in told, told
    for secret in secrets:
        assert secret not in told, f"the adviser's alert gives away {secret!r}:\n{told}"

    # ---- 4. Darlington's adviser: inbox, the referral, acknowledge, the decision -------------
    adv_page = new_page()
    sign_in(adv_page, adviser.email, adviser.password, adviser.totp_secret)
    checked_page(adv_page)
    open_menu_item(adv_page, "Inbox")
    expect(adv_page.get_by_role("heading", level=1)).to_have_text("Referrals inbox")
    row = adv_page.get_by_test_id("group-new").get_by_test_id(f"row-{referral_id}")
    expect(row).to_contain_text(school.name)
    expect(row).to_contain_text("Convening")
    expect(row).to_contain_text("Status: New")
    expect(row).to_contain_text("Next due: Strategy meeting, Tuesday 24 November 2026 at 10:00am")
    checked_page(adv_page)
    row.get_by_role("link", name=f"Referral {reference}").click()
    expect(adv_page).to_have_url(re.compile(rf"{referral_path}$"))
    expect(adv_page.get_by_role("heading", level=1)).to_have_text(f"Referral {reference}")
    expect(adv_page.get_by_test_id("status")).to_have_text("New")
    main = adv_page.locator("main")
    expect(main).to_contain_text(f"{harmed.full_name} ({harmed.reference})")
    expect(main).to_contain_text(f"{harmer.full_name} ({harmer.reference})")
    expect(main).to_contain_text("spoke to Tamsin Greathead")
    expect(main).to_contain_text(dsl.display_name)
    checked_page(adv_page)

    adv_page.get_by_test_id("acknowledge").click()
    expect(adv_page.get_by_text("Referral acknowledged")).to_be_visible()
    expect(adv_page.get_by_test_id("status")).to_have_text("Acknowledged")
    expect(adv_page.get_by_test_id("acknowledge")).to_have_count(0)
    checked_page(adv_page)

    adv_page.get_by_role("button", name="Record the advice or decision").click()
    expect(adv_page.get_by_role("heading", level=1)).to_have_text("Record the advice or decision")
    expect(adv_page.get_by_text("Separate social workers:")).to_be_visible()
    checked_page(adv_page)
    # Two children: the adviser says which the answer is for (nothing is chosen for them).
    group(adv_page, "Which child is this for?").get_by_label(
        "Every child in this referral").check()
    group(adv_page, "Advice or decision").get_by_label("Strategy meeting arranged").check()
    decision_reasons = ("Strategy meeting on Monday with school, police and health. Separate "
                        "plans for each child; school to keep them apart meanwhile.")
    adv_page.get_by_label("Advice and reasons").fill(decision_reasons)
    meeting = group(adv_page, "Date of the strategy meeting")
    meeting.get_by_label("Day").fill("23")
    meeting.get_by_label("Month").fill("11")
    meeting.get_by_label("Year").fill("2026")
    adv_page.get_by_label("Time of the strategy meeting").fill("10:00")
    adv_page.get_by_label("Social worker for the child harmed").fill("Rhiannon Ashdown")
    adv_page.get_by_label("Social worker for the child who harmed").fill("Kofi Lindgren")
    adv_page.get_by_role("button", name="Send the answer to the school").click()
    expect(adv_page).to_have_url(re.compile(rf"{referral_path}$"))
    expect(adv_page.get_by_text(
        "Your answer has been sent to the school's designated safeguarding leads")).to_be_visible()
    expect(adv_page.get_by_test_id("status")).to_have_text(
        "Awaiting decision (Strategy meeting arranged)")
    due = adv_page.get_by_test_id(f"due-{referral_id}")
    expect(due).to_contain_text("Initial child protection conference (if needed): due Tuesday "
                                "8 December 2026")
    expect(due).to_contain_text("Arranged for Monday 23 November 2026 at 10:00am")
    # What follows the meeting is recorded once it has taken place: on the Saturday the page
    # says when it is and offers none of it ...
    expect(adv_page.get_by_test_id("meeting-ahead")).to_contain_text(
        "The strategy meeting is arranged for Monday 23 November 2026 at 10:00am.")
    expect(adv_page.get_by_role("radio")).to_have_count(0)
    checked_page(adv_page)
    # ... and on the Monday afternoon: the minutes, a conference held or not needed (no child
    # in need review without an assessment).
    monkeypatch.setattr(referrals_service, "utcnow", lambda: MEETING_AFTERNOON)
    adv_page.reload()
    expect(adv_page.get_by_test_id("meeting-ahead")).to_have_count(0)
    expect(group(adv_page, "What happened?").get_by_role("radio")).to_have_count(3)
    checked_page(adv_page)

    # ---- 5. An adviser of another authority sees none of it ----------------------------------
    other_page = new_page()
    sign_in(other_page, stranger.email, stranger.password, stranger.totp_secret)
    open_menu_item(other_page, "Inbox")
    expect(other_page.get_by_role("heading", level=1)).to_have_text("Referrals inbox")
    expect(other_page.get_by_test_id(f"row-{referral_id}")).to_have_count(0)
    expect(other_page.locator("main")).not_to_contain_text(reference)
    expect(other_page.locator("main")).not_to_contain_text(school.name)
    checked_page(other_page)
    for path in (referral_path, f"{referral_path}/answer", f"{referral_path}/packet.json"):
        response = other_page.goto(path)
        assert response is not None and response.status == 404, (path, response)
        expect(other_page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(other_page.locator("main")).not_to_contain_text(reference)
    # The browser logs the 404 responses themselves; that is the point of this step.
    page_problems(other_page).allow(r"status of 404")
    checked_page(other_page)

    # ---- 6. The DSL signs in again: the decision and the next due date ----------------------
    answered = email_text(wait_for_email(mail_sink, dsl.email))
    assert "answered a referral" in answered, answered
    assert referral_path in answered, answered
    for secret in [*secrets, "Rhiannon", "Kofi", "Strategy meeting on Monday"]:
        assert secret not in answered, f"the DSL's alert gives away {secret!r}:\n{answered}"

    again = new_page()
    sign_in(again, dsl.email, dsl.password, dsl.totp_secret)
    again.goto(incident_url)
    expect(again.get_by_role("heading", level=1)).to_have_text(f"Incident {incident_ref}")
    line = again.get_by_test_id("line-darlington")
    expect(line.get_by_test_id("outcome")).to_have_text("Strategy meeting arranged")
    expect(line).to_contain_text("Status: Awaiting decision")
    expect(line).to_contain_text(decision_reasons)
    expect(line).to_contain_text("Social worker for the child harmed: Rhiannon Ashdown")
    expect(line).to_contain_text("Social worker for the child who harmed: Kofi Lindgren")
    expect(line.get_by_test_id("next-due")).to_have_text(
        "Next due: Initial child protection conference (if needed), Tuesday 8 December 2026")
    checked_page(again)
