"""More information about a referral already sent, on a phone (390 px), axe-core clean: the
school's DSL sends it (the words in three scripts), the authority's adviser finds it first in
the inbox and reads it, and the DSL sees who read it. Invented names only."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Person, Seed, assert_no_horizontal_scroll, check_axe
from tests.browser.test_referral_walk import adviser_of

pytestmark = pytest.mark.browser

MORE = ("Zoë's mother phoned this afternoon: she no longer agrees to the referral. "
        "Её слова: «нет». 她说不。")


def _sent_referral(seed: Seed, school_id: uuid.UUID, dsl: Person, kids: list) -> uuid.UUID:
    from portal.models import Child, School, User, db
    from portal.services import referrals as service
    from tests.referral_data import incident

    def make() -> uuid.UUID:
        inc = incident(db.session.get(School, school_id), db.session.get(User, dsl.id),
                       [(db.session.get(Child, kid.id), role) for kid, role in kids])
        user = db.session.get(User, dsl.id)
        assert user is not None
        referral, _ = service.hand_over(inc, "derbyshire", user, now=dt.datetime.now(dt.UTC))
        return referral.id

    return seed.run(make)


def _checked(page: Page) -> None:
    assert_no_horizontal_scroll(page, 390)
    check_axe(page)


def test_a_dsl_sends_more_information_and_the_adviser_reads_it(
    new_page: Callable[..., Page], seed: Seed, sign_in: Callable[..., None]
) -> None:
    school = seed.school("Larkspur Primary")
    dsl = seed.user("dsl", school, display_name="Dana Lead")
    zoe = seed.child(school, "Zoë", "Ó Súilleabháin", dt.date(2014, 6, 2))
    li = seed.child(school, "小龙", "李", dt.date(2012, 4, 3))
    adviser = adviser_of(seed, "derbyshire", "Ade Adviser")
    referral_id = _sent_referral(seed, school.id, dsl, [(zoe, "harmed"), (li, "harmed_others")])

    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto(f"/referrals/{referral_id}")
    page.get_by_role("button", name="Send more information to Derbyshire County Council").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Send more information to Derbyshire County Council")
    _checked(page)
    page.get_by_role("button", name="Send to Derbyshire County Council").click()
    expect(page.get_by_role("link", name="Enter what the local authority should know")) \
        .to_be_visible()  # nothing typed: said, not sent
    page.get_by_label("What should the local authority know?").fill(MORE)
    page.get_by_role("button", name="Send to Derbyshire County Council").click()
    expect(page.get_by_text("Sent to Derbyshire County Council.")).to_be_visible()
    card = page.get_by_test_id("more-information")
    expect(card).to_contain_text(MORE)
    expect(card).to_contain_text("Not yet read by Derbyshire County Council")
    _checked(page)

    adviser_page = new_page()
    sign_in(adviser_page, adviser.email, adviser.password, adviser.totp_secret)
    adviser_page.goto("/referrals")
    news = adviser_page.get_by_test_id("group-new")  # not yet acknowledged: among the new
    expect(news).to_contain_text("The school has sent more information")
    _checked(adviser_page)
    news.get_by_role("link").first.click()
    adviser_page.get_by_test_id("more-information-banner").get_by_role(
        "link", name="Read it").click()
    card = adviser_page.get_by_test_id("more-information")
    expect(card).to_contain_text(MORE)
    expect(card).to_contain_text("New")
    _checked(adviser_page)
    adviser_page.get_by_role("button", name="I have read it").click()
    expect(adviser_page.get_by_text("Marked as read.")).to_be_visible()
    _checked(adviser_page)

    page.reload()
    expect(page.get_by_test_id("read-by")).to_contain_text(
        "Read by Ade Adviser, local authority adviser, Derbyshire County Council")
