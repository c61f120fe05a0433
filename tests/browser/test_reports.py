"""The DSL's report (issue 17) on a phone (390 px): reached from the dashboard, its charts drawn
as images with their tables, nothing scrolls sideways, axe-core clean, and no child named."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe

pytestmark = pytest.mark.browser


def test_the_dsls_report_with_its_charts_on_a_phone(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    school = seed.school(name=f"Wrenfield Community School {random.randrange(10**6):06d}")
    dsl = seed.user("dsl", school, display_name="Ottilie Marchbank")
    kid = seed.child(school, "Saffron", "Yarrowby-Kettle", dt.date(2014, 2, 3))

    def incidents() -> Any:
        from portal.models import Child, Incident, IncidentChild, User, db
        from portal.services.report_stats import record_statistics

        child = db.session.get(Child, kid.id)
        opener = db.session.get(User, dsl.id)
        assert child is not None and opener is not None
        now = dt.datetime.now(dt.UTC)
        for n, (days, types) in enumerate(((2, ["bullying"]), (3, ["physical"]),
                                           (40, ["cyberbullying"])), start=1):
            i = Incident(school_id=school.id, reference=f"I{n:04d}", opened_by_id=opener.id,
                         opened_at=now - dt.timedelta(days=days), types=types,
                         online=types == ["cyberbullying"])
            db.session.add(i)
            db.session.flush()
            row = IncidentChild(incident_id=i.id, child_id=child.id, school_id=school.id,
                                role="harmed")
            record_statistics(row, child)
            db.session.add(row)

    seed.run(incidents)
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto("/dashboard")
    page.get_by_role("link", name="Report for governors").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report for governors")
    charts = page.get_by_role("img", name="Incidents opened each month")
    expect(charts).to_be_visible()
    expect(page.get_by_role("img", name="Concerns raised each month")).to_be_visible()
    expect(page.get_by_role("table", name="Incidents opened each month: the figures")
           ).to_be_visible()
    expect(page.get_by_test_id("table-summary")).to_contain_text("3")
    body = page.locator("body").inner_text()
    assert "Saffron" not in body and "Yarrowby" not in body
    assert_no_horizontal_scroll(page, 390)
    check_axe(page)
    page.get_by_role("link", name="Printable copy (to print or save as a PDF)").click()
    expect(page.get_by_test_id("marking")).to_have_text("OFFICIAL-SENSITIVE")
    expect(page.get_by_test_id("suppression-note")).to_be_visible()
    assert "Saffron" not in page.locator("body").inner_text()
    check_axe(page)
