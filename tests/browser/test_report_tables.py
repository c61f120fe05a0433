"""The report's tables and charts on a phone (390 px): each wide table scrolls inside its own
focusable, labelled region, so no column is cut off and the page never scrolls sideways; chart
text reads at 14 px or more; axe-core clean. The printable copy too."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, assert_no_horizontal_scroll, check_axe

pytestmark = pytest.mark.browser

REGIONS = ("region-routes", "region-timings")


def _columns_reachable(page: Page, test_id: str) -> None:
    region = page.get_by_test_id(test_id)
    expect(region).to_have_attribute("role", "region")
    expect(region).to_have_attribute("tabindex", "0")
    assert region.get_attribute("aria-label")
    found = region.evaluate("""(r) => {
        const t = r.querySelector('table');
        r.scrollLeft = r.scrollWidth;
        const box = r.getBoundingClientRect();
        const cells = [...t.querySelectorAll('thead th')];
        const last = cells[cells.length - 1].getBoundingClientRect();
        return {scroll: r.scrollWidth, table: t.getBoundingClientRect().width,
                lastRight: last.right, boxRight: box.right + 1};
    }""")
    assert found["scroll"] >= found["table"] - 1, found  # the whole table can be scrolled to
    assert found["lastRight"] <= found["boxRight"], found  # the last column comes into view


def test_report_tables_scroll_in_their_own_region_and_charts_read_on_a_phone(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    school = seed.school(name=f"Quillbrook Academy {random.randrange(10**6):06d}")
    dsl = seed.user("dsl", school, display_name="Perpetua Linnet")
    kid = seed.child(school, "Marigold", "Ashcombe-Dyer", dt.date(2013, 5, 6))

    def incidents() -> Any:
        from portal.models import Child, Incident, IncidentChild, User, db
        from portal.services.report_stats import record_statistics

        child = db.session.get(Child, kid.id)
        opener = db.session.get(User, dsl.id)
        assert child is not None and opener is not None
        now = dt.datetime.now(dt.UTC)
        i = Incident(school_id=school.id, reference="I0001", opened_by_id=opener.id,
                     opened_at=now - dt.timedelta(days=3), types=["physical"],
                     mandatory_routes=["csc_referral"])
        db.session.add(i)
        db.session.flush()
        row = IncidentChild(incident_id=i.id, child_id=child.id, school_id=school.id,
                            role="harmed")
        record_statistics(row, child)
        db.session.add(row)

    seed.run(incidents)
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto("/reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Report for governors")
    for test_id in REGIONS:
        if page.get_by_test_id(test_id).count():
            _columns_reachable(page, test_id)
    assert page.get_by_test_id("region-timings").count() == 1
    # Chart text: at least 14 px as drawn on the phone.
    sizes = page.evaluate("""() => [...document.querySelectorAll('svg.portal-chart')].map(s => {
        const scale = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
        return Math.min(...[...s.querySelectorAll('text')].map(
            t => parseFloat(t.getAttribute('font-size')) * scale));
    })""")
    assert sizes and min(sizes) >= 14, sizes
    assert_no_horizontal_scroll(page, 390)
    check_axe(page)
    page.goto("/reports/print")
    _columns_reachable(page, "region-timings")
    check_axe(page)


def test_the_printed_report_never_ends_a_sheet_with_a_heading(
        seed: Seed, new_page: Callable[..., Page], sign_in: Callable[..., None]) -> None:
    """A walk saved the printable report as a PDF: "How long it took" and its table's column
    titles sat alone at the foot of a sheet, the rows on the next. Each table goes whole onto
    the sheet its heading is on."""
    from tests.pdftext import extract

    school = seed.school(name=f"Hollinsclough School {random.randrange(10**6):06d}")
    dsl = seed.user("dsl", school, display_name="Araminta Coldwell")
    page = new_page()
    sign_in(page, dsl.email, dsl.password, dsl.totp_secret)
    page.goto("/reports/print")
    headings = [h.strip() for h in page.locator("main h2").all_inner_texts()]
    assert "How long it took" in headings
    sheets = extract(page.pdf(format="A4")).split("\f")
    assert len(sheets) > 2  # the report runs over sheets: where they break matters
    for number, sheet in enumerate(sheets[:-1], start=1):
        lines = [line.strip() for line in sheet.splitlines() if line.strip()]
        # (the last lines of a sheet, above its marking and page number)
        ending = [line for line in lines if line != "OFFICIAL-SENSITIVE"
                  and not re.fullmatch(r"Page \d+ of \d+", line)][-2:]
        for heading in headings:
            assert heading not in ending, (number, ending)
