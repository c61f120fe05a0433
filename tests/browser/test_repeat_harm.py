"""Issue 17, part 3 at 390 px: the authority's adviser opens a referral of a child who harmed
others at another school of the authority and reads where to ask; the referring school's DSL
opens the same referral and reads nothing of it. axe-core clean. Invented names only."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe
from tests.browser.test_referral_walk import (  # noqa: F401 - the fixture too
    adviser_of,
    saturday_clock,
)

pytestmark = pytest.mark.browser

DOB = dt.date(2013, 7, 19)


def test_the_adviser_reads_where_to_ask_and_the_school_reads_nothing(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
    saturday_clock: dt.datetime,  # noqa: F811
) -> None:
    from portal.models import Child, School, User, db
    from portal.services import referrals as referrals_service
    from portal.services import repeat_harm
    from tests.referral_data import incident

    tag = uuid.uuid4().hex[:6]
    ashby = seed.school(name=f"Ashby Fields Primary {tag}", la_code="derbyshire")
    brook = seed.school(name=f"Brookside Academy {tag}", la_code="derbyshire")
    asha = seed.user("dsl", ashby, display_name="Asha Dee")
    bram = seed.user("dsl", brook, display_name="Bram Lowe")
    ottoline_a = seed.child(ashby, "Ottoline", "Brackenbury-Šťastná", DOB, la_code="derbyshire")
    ottoline_b = seed.child(brook, "OTTOLINE", "BRACKENBURY-STASTNA", DOB, la_code="derbyshire")
    wilf = seed.child(brook, "Wilf", "Ashgrove", dt.date(2014, 2, 2), la_code="derbyshire")
    adviser = adviser_of(seed, "derbyshire", "Moira Castellanos")

    def make() -> uuid.UUID:
        first = db.session.get(Child, ottoline_a.id)
        second = db.session.get(Child, ottoline_b.id)
        assert first is not None and second is not None
        incident(db.session.get(School, ashby.id), db.session.get(User, asha.id),
                 [(first, "harmed_others")], occurred=dt.date(2026, 10, 5))
        repeat_harm.mark_child(first)
        later = incident(db.session.get(School, brook.id), db.session.get(User, bram.id),
                         [(db.session.get(Child, wilf.id), "harmed"), (second, "harmed_others")],
                         occurred=dt.date(2026, 11, 20))
        repeat_harm.mark_child(second)
        sender = db.session.get(User, bram.id)
        assert sender is not None
        referral, _ = referrals_service.hand_over(later, "derbyshire", sender,
                                                  now=saturday_clock)
        return referral.id

    referral_id = seed.run(make)

    page = new_page()
    sign_in(page, adviser.email, adviser.password, adviser.totp_secret)
    page.goto(f"/referrals/{referral_id}")
    told = page.get_by_test_id("earlier-involvement")
    expect(told).to_contain_text(
        f"Earlier involvement: this child was recorded as having harmed others at Ashby Fields "
        f"Primary {tag} in October 2026. Ask that school's DSL: Asha Dee, {asha.email}.")
    expect(told).to_contain_text("OTTOLINE BRACKENBURY-STASTNA")
    expect(told).not_to_contain_text("Šťastná")
    assert_no_horizontal_scroll(page)
    check_axe(page)

    school_page = new_page()
    sign_in(school_page, bram.email, bram.password, bram.totp_secret)
    school_page.goto(f"/referrals/{referral_id}")
    expect(school_page.get_by_role("heading", level=1)).to_contain_text("Referral")
    expect(school_page.get_by_test_id("earlier-involvement")).to_have_count(0)
    expect(school_page.locator("body")).not_to_contain_text("Ashby")
    expect(school_page.locator("body")).not_to_contain_text("Asha Dee")
