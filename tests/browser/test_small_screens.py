"""The main pages of every role on the smallest phone the portal supports (320x640 CSS pixels,
WCAG 1.4.10 reflow): nothing scrolls sideways, and each page is axe-core clean.

The data is made to be awkward, the way real data is: long school and authority names, a
double-barrelled family name, a long school email address, an incident that has been handed over
and answered (so the handover panel shows everything it can). Invented names only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    Kid,
    Org,
    Person,
    Seed,
    assert_no_horizontal_scroll,
    check_axe,
)

pytestmark = pytest.mark.browser

SMALL = {"viewport": {"width": 320, "height": 640}}
WIDTH = 320


# The innermost elements that stick out past the right edge: what to fix when a page overflows.
_WIDE = """(width) => {
  const out = [];
  const name = (e) => e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className
    ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.right <= width + 0.5 || r.width === 0) continue;
    if ([...e.children].some(c => c.getBoundingClientRect().right > width + 0.5)) continue;
    out.push(`${name(e)} right=${Math.round(r.right)}: ` +
             (e.textContent || '').trim().slice(0, 60));
  }
  // Text running out of its box (a long unbroken string) does not widen the box itself.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    if (r.right > width + 0.5 && n.parentElement.getBoundingClientRect().right <= width + 0.5) {
      out.push(`text in ${name(n.parentElement)} right=${Math.round(r.right)}: ` +
               n.textContent.trim().slice(0, 60));
    }
  }
  return out.slice(0, 10);
}"""


def fits(page: Page, path: str, heading: str | None = None) -> None:
    """Open `path` at 320px: no sideways scrolling, axe-core clean."""
    response = page.goto(path)
    assert response is not None and response.ok, (path, response and response.status)
    if heading is not None:
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= WIDTH, (f"{path} scrolls sideways at {WIDTH}px (scrollWidth {wide}); "
                           "sticking out:\n  " + "\n  ".join(page.evaluate(_WIDE, WIDTH)))
    check_axe(page)


def person(seed: Seed, role: str, *, org_code: str | None = None, school: Org | None = None,
           email: str | None = None, display_name: str) -> Person:
    """A user of any role: of `school`, of the authority `org_code`, or (admin) of neither."""
    from portal.models import School, db
    from tests import factories

    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.test"

    def make() -> Person:
        org = (db.session.get(School, school.id) if school is not None
               else factories.authority(org_code) if org_code else None)
        u = factories.user(role, email=email, org=org, display_name=display_name)
        return Person(id=u.id, email=u.email, role=role, totp_secret=u.totp_secret,
                      display_name=u.display_name)

    return seed.run(make)


@dataclass
class Case:
    school: Org
    dsl: Person
    staff: Person
    adviser: Person
    harmed: Kid
    harmer: Kid
    incident_id: uuid.UUID
    referral_id: uuid.UUID


@pytest.fixture
def case(seed: Seed) -> Case:
    """A school whose DSL has handed an incident over to Darlington, and Darlington's answer;
    and a concern raised by a member of staff."""
    from portal.models import Child, Referral, School, User, db
    from portal.services import concerns
    from portal.services import referrals as service
    from tests.referral_data import incident, local

    tag = uuid.uuid4().hex[:6]
    school = seed.school(
        name=f"St Cuthbert's Church of England Voluntary Aided Primary School {tag}",
        la_code="darlington")
    dsl = person(seed, "dsl", school=school, display_name="Philippa Aldersley-Montgomery",
                 email=f"designated.safeguarding.lead.{tag}@stcuthberts-ce-primary.example.test")
    staff = person(seed, "staff", school=school, display_name="Tobias Featherstonehaugh")
    adviser = person(seed, "la_adviser", org_code="darlington", display_name="Hollis Brandreth")
    harmed = seed.child(school, "Anastasia", "Featherstonehaugh-Whittingham",
                        dt.date(2015, 3, 2), la_code="darlington")
    harmer = seed.child(school, "Maximilian", "Oyelaran-Castellanos", dt.date(2013, 6, 9),
                        la_code="darlington")
    now = local("2026-11-20T14:00")

    def make() -> tuple[uuid.UUID, uuid.UUID]:
        s = db.session.get(School, school.id)
        d = db.session.get(User, dsl.id)
        a = db.session.get(User, adviser.id)
        st = db.session.get(User, staff.id)
        kid1, kid2 = db.session.get(Child, harmed.id), db.session.get(Child, harmer.id)
        concerns.raise_concern(st, concerns.ConcernInput(
            child_ids=(kid1.id,), new_children=(), what_happened=(
                "Saw a group around Anastasia by the climbing frame; she was crying and said "
                "the boys had been taking pictures under the cubicle doors."),
            child_words="They said they would send it to everyone in Year Six.",
            child_words_missing_reason=None, occurred_on=dt.date(2026, 11, 20),
            when_text="Lunchtime", where="Playground", online=True, urgent=False), now=now)
        inc = incident(s, d, [(kid1, "harmed"), (kid2, "harmed_others")],
                       occurred=dt.date(2026, 11, 20), reported_at=local("2026-11-20T13:10"),
                       types=("sexual_harassment", "upskirting"), features=("no_consent",),
                       online=False, summary="Photographs taken under the toilet cubicle "
                       "door (https://example.test/a-very-long-link-that-someone-pasted-in"
                       "-without-any-spaces-at-all/and/then/some/more?with=query&params=1).",
                       words={kid1.reference: "I didn't want anyone to see."})
        service.record_call(inc, d, authority_code="darlington",
                            called_at=local("2026-11-20T13:40"),
                            spoke_to="Ifeoma Gallagher-Strickland, Children's Initial Advice "
                            "Team", advice="Refer through the portal.", decision="Refer now.",
                            reasons="Sexual harassment without consent.", now=now)
        referral, _ = service.hand_over(inc, "darlington", d, now=now)
        service.acknowledge(referral, a, now=now)
        service.record_answer(
            referral, a, outcome="strategy_meeting", reasons="Strategy meeting arranged.",
            strategy_meeting_at=local("2026-11-23T10:00"),
            social_worker_harmed="Bartholomew Entwistle-Fairweather",
            social_worker_harmed_others="Genevieve Wolstenholme-Ashby", now=now)
        assert isinstance(referral, Referral)
        return inc.id, referral.id

    incident_id, referral_id = seed.run(make)

    def long_file() -> None:  # 120 lines about the other child: three pages
        from tests.floodfile import add_lines

        add_lines(db.session.get(School, school.id), db.session.get(User, staff.id),
                  db.session.get(Child, harmer.id), 120)

    seed.run(long_file)
    return Case(school=school, dsl=dsl, staff=staff, adviser=adviser, harmed=harmed,
                harmer=harmer, incident_id=incident_id, referral_id=referral_id)


def test_sign_in_fits_320(new_page: Callable[..., Page]) -> None:
    page = new_page(**SMALL)
    fits(page, "/sign-in", "Sign in")


def test_staff_pages_fit_320(new_page: Callable[..., Page], sign_in: Callable[..., None],
                             case: Case) -> None:
    page = new_page(**SMALL)
    sign_in(page, case.staff.email, case.staff.password)
    fits(page, "/home")
    fits(page, "/concerns/new", "Raise a concern")
    fits(page, "/concerns/mine", "Concerns you've raised")


def test_dsl_pages_fit_320(new_page: Callable[..., Page], sign_in: Callable[..., None],
                           case: Case) -> None:
    page = new_page(**SMALL)
    sign_in(page, case.dsl.email, case.dsl.password, case.dsl.totp_secret)
    fits(page, "/dashboard", "Dashboard")
    fits(page, f"/incidents/{case.incident_id}", "Incident")
    expect(page.get_by_test_id("line-darlington")).to_contain_text("Strategy meeting arranged")
    assert_no_horizontal_scroll(page, WIDTH)
    fits(page, f"/children/{case.harmed.id}", case.harmed.full_name)
    fits(page, "/children", "Children")
    fits(page, f"/children?name={case.harmed.family_name}", "Children")
    # A long file is paged (GOV.UK pagination): page 2 of 3, with previous, next and numbers.
    fits(page, f"/children/{case.harmer.id}?page=2", case.harmer.full_name)
    pagination = page.get_by_role("navigation", name="Pages of the chronology")
    expect(pagination.get_by_role("link", name="Previous")).to_be_visible()
    expect(pagination.get_by_role("link", name="Next")).to_be_visible()
    expect(pagination.locator("[aria-current=page]")).to_have_text("2")
    fits(page, f"/referrals/{case.referral_id}", "Referral")


def test_adviser_pages_fit_320(new_page: Callable[..., Page], sign_in: Callable[..., None],
                               case: Case) -> None:
    page = new_page(**SMALL)
    sign_in(page, case.adviser.email, case.adviser.password, case.adviser.totp_secret)
    fits(page, "/referrals", "Referrals inbox")
    expect(page.get_by_test_id(f"row-{case.referral_id}")).to_be_visible()
    fits(page, f"/referrals/{case.referral_id}", "Referral")
    fits(page, f"/referrals/{case.referral_id}/answer", "Record the advice or decision")


def test_admin_pages_fit_320(new_page: Callable[..., Page], sign_in: Callable[..., None],
                             seed: Seed, case: Case) -> None:
    admin = person(seed, "admin", display_name="Admin Person")
    page = new_page(**SMALL)
    sign_in(page, admin.email, admin.password, admin.totp_secret)
    fits(page, "/admin/", "Administration")
    fits(page, "/admin/users", "Accounts")
    expect(page.get_by_text(case.dsl.email)).to_be_visible()
    fits(page, "/admin/schools")
    fits(page, "/admin/authorities")


def test_an_adviser_pages_through_years_of_answered_referrals_at_320(
        new_page: Callable[..., Page], sign_in: Callable[..., None], seed: Seed) -> None:
    """West Sussex has answered 120 referrals: the inbox shows the 20 most recent, and every
    one can be reached 50 at a time with the pagination links (at 320px, axe-clean)."""
    from portal.models import Child, Referral, ReferralResponse, School, User, db
    from tests.referral_data import incident

    school = seed.school(name="Harbour Lane Primary", la_code="west-sussex")
    dsl = person(seed, "dsl", school=school, display_name="Rosalind Penhaligon")
    adviser = person(seed, "la_adviser", org_code="west-sussex", display_name="Idris Quarmby")
    kid = seed.child(school, "Tamsin", "Ollerenshaw", dt.date(2014, 2, 3))

    def make() -> None:
        s = db.session.get(School, school.id)
        d, a = db.session.get(User, dsl.id), db.session.get(User, adviser.id)
        inc = incident(s, d, [(db.session.get(Child, kid.id), "harmed")])
        start = dt.datetime(2024, 1, 8, 10, tzinfo=dt.UTC)
        for n in range(120):
            sent = start + dt.timedelta(days=5 * n)
            r = Referral(incident_id=inc.id, school_id=s.id,
                         local_authority_id=s.local_authority_id, sent_by_id=d.id,
                         state="answered", outcome="early_help", sent_at=sent,
                         acknowledged_by_id=a.id, acknowledged_at=sent,
                         answered_at=sent + dt.timedelta(hours=3))
            db.session.add(r)
            db.session.flush()
            db.session.add(ReferralResponse(
                referral_id=r.id, local_authority_id=r.local_authority_id,
                outcome="early_help", recorded_by_id=a.id, recorded_at=r.answered_at))
        db.session.commit()

    seed.run(make)
    page = new_page(**SMALL)
    sign_in(page, adviser.email, adviser.password, adviser.totp_secret)
    fits(page, "/referrals", "Referrals inbox")
    answered = page.get_by_test_id("group-answered")
    expect(answered.locator("li")).to_have_count(20)
    page.get_by_role("link", name="Show all 120 answered referrals").click()
    expect(page.get_by_text("Page 1 of 3, newest first.")).to_be_visible()
    expect(answered.locator("li")).to_have_count(50)
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_text("Page 2 of 3, newest first.")).to_be_visible()
    assert "answered=all" in page.url and "page=2" in page.url
    fits(page, "/referrals?answered=all&page=2")  # no sideways scrolling, axe-clean
    page.get_by_role("link", name="Page 3").click()
    expect(page.get_by_text("Page 3 of 3, newest first.")).to_be_visible()
    expect(answered.locator("li")).to_have_count(20)
