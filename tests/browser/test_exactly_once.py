"""Back after sending a concern, at phone size (390x844): the browser never offers to send the
form again ("Confirm form resubmission"), reload and forward are plain page loads, and there is
still one concern (issue 12, item 2). Every step of the form answers its post with a redirect.
Invented names only.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests.browser.conftest import Person, Seed
from tests.browser.test_concern_to_decision import (
    born_aged,
    checked_page,
    group,
    london_today,
    tick_child,
)

pytestmark = pytest.mark.browser
RESUBMIT = re.compile(r"ERR_CACHE_MISS|Confirm Form Resubmission|resubmission", re.I)


def _concerns_by(seed: Seed, person: Person) -> int:
    from portal.models import Concern, User, db

    def count() -> int:
        user = db.session.scalar(select(User).where(User.email == person.email))
        assert user is not None
        return int(db.session.scalar(select(func.count()).select_from(Concern).where(
            Concern.raised_by_id == user.id)) or 0)

    return seed.run(count)


def _no_resubmission(page: Page) -> None:
    page.wait_for_load_state("load")
    assert not RESUBMIT.search(page.content()), page.url


def test_back_after_sending_a_concern_never_resends_it(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    school = seed.school(name=f"Larchwood Primary {random.randrange(10**6):06d}")
    staff = seed.user("staff", school, display_name="Imogen Fairweather-Okoro")
    seed.user("dsl", school, display_name="Tobias Lindqvist-Hale")
    child = seed.child(school, "Marisol", "Quennell-Abara", born_aged(10, london_today()))

    page = new_page()
    sign_in(page, staff.email, staff.password)
    page.goto(re.sub(r"^(https?://[^/]+).*$", r"\1/concerns/new", page.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern")
    tick_child(page, child)  # "Find child" posts, and is answered by a redirect to the form
    assert re.search(r"/concerns/new(#[a-z_]+)?$", page.url), page.url
    checked_page(page)
    page.get_by_label("What did you see or hear?").fill(
        "At lunch Marisol was crying by the gate and said an older pupil took her phone.")
    page.get_by_label("What did the child say, in their own words?").fill(
        "He said he would keep it unless I give him money tomorrow.")
    group(page, "Did any of it happen online?").get_by_label("No").check()
    group(page, "Is a child in immediate danger now?").get_by_label("No").check()
    page.get_by_role("button", name="Send to the safeguarding lead").click()
    expect(page.get_by_role("heading", name="Concern sent", exact=True)).to_be_visible()
    concern_url = page.url
    assert re.search(r"/concerns/[0-9a-f-]{36}$", concern_url), concern_url
    assert _concerns_by(seed, staff) == 1

    # Back: the form again, loaded fresh (empty: the draft became the concern), no prompt.
    page.go_back()
    _no_resubmission(page)
    assert re.search(r"/concerns/new(#[a-z_]+)?$", page.url), page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern")
    # Nothing typed is put back: the text was sent, and text put back by the browser looked
    # like a concern not sent yet (a walk). The server's draft keeps text not yet sent.
    expect(page.get_by_label("What did you see or hear?")).to_have_value("")
    expect(page.get_by_label("What did the child say, in their own words?")).to_have_value("")
    checked_page(page)
    # Reload: a plain GET, still no prompt.
    page.reload()
    _no_resubmission(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Raise a concern")
    # Forward: the concern's page, as it was.
    page.go_forward()
    _no_resubmission(page)
    assert page.url == concern_url
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # Back twice more reaches the pages before the form; nothing was sent again.
    page.go_back()
    page.go_back()
    _no_resubmission(page)
    assert _concerns_by(seed, staff) == 1



def test_back_then_the_same_concern_sent_again_shows_the_first(
    new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed,
) -> None:
    """Walk 5: Back fetches the form afresh (a new one-time key) and a browser may put back
    what was typed; sending it again showed a second, identical concern. Now the first one is
    shown, saying so, and there is still one concern."""
    school = seed.school(name=f"Rowanbank Primary {random.randrange(10**6):06d}")
    staff = seed.user("staff", school, display_name="Ciarán Mbeki-Lowther")
    seed.user("dsl", school, display_name="Henrietta Vasquez-Thorne")
    child = seed.child(school, "Dagny", "Oyelaran-Pike", born_aged(9, london_today()))

    def fill(page: Page) -> None:
        tick_child(page, child)
        page.get_by_label("What did you see or hear?").fill(
            "Dagny was pushed against the lockers by two older pupils before registration.")
        page.get_by_label("What did the child say, in their own words?").fill(
            "They said they would do it again if I told anyone.")
        group(page, "Did any of it happen online?").get_by_label("No").check()
        group(page, "Is a child in immediate danger now?").get_by_label("No").check()
        page.get_by_role("button", name="Send to the safeguarding lead").click()

    page = new_page()
    sign_in(page, staff.email, staff.password)
    page.goto(re.sub(r"^(https?://[^/]+).*$", r"\1/concerns/new", page.url))
    fill(page)
    expect(page.get_by_role("heading", name="Concern sent", exact=True)).to_be_visible()
    concern_url = page.url
    page.go_back()
    _no_resubmission(page)
    fill(page)  # what a browser that puts the text back sends, with the new page's key
    expect(page).to_have_url(concern_url)
    banner = page.locator(".govuk-notification-banner").filter(
        has_text="You sent exactly the same a few minutes ago")
    expect(banner).to_be_visible()
    expect(banner).to_be_in_viewport()
    checked_page(page)
    assert _concerns_by(seed, staff) == 1
