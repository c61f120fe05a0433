"""The reports' pure rules (issue 17): small-number suppression, CSV cells, statistics codes,
periods."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.services import report_figures as rf
from portal.services.report_charts import bar_chart


@pytest.mark.parametrize(("count", "shown"), [
    (0, "fewer than 5"), (1, "fewer than 5"), (4, "fewer than 5"), (5, "5"), (1234, "1,234")])
def test_figures_under_five_are_suppressed(count: int, shown: str) -> None:
    assert rf.suppress(count) == shown
    assert rf.count_words(count, suppressing=True) == shown
    assert rf.count_words(3, suppressing=False) == "3"


@pytest.mark.parametrize("payload", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_text(payload: str) -> None:
    assert rf.csv_cell(payload) == "'" + payload
    assert rf.csv_cell("Oakfield Academy") == "Oakfield Academy"
    assert rf.csv_cell(None) == ""


@pytest.mark.parametrize(("text", "code"), [
    ("Year 7", "7"), ("Y7", "7"), ("7", "7"), ("yr 11", "11"), ("R", "R"), ("Reception", "R"),
    ("N1", "N"), ("Nursery", "N"), ("", "U"), (None, "U"), ("Year 99", "U"), ("X", "U")])
def test_year_group_codes(text: str | None, code: str) -> None:
    assert rf.year_group_code(text) == code


def test_sex_and_send_codes() -> None:
    assert [rf.sex_code(v) for v in ("F", "female", "M", "Male", "", None, "X")] == [
        "F", "F", "M", "M", "U", "U", "U"]
    assert [rf.send_code(v) for v in (True, False, None)] == ["Y", "N", "U"]


def test_periods() -> None:
    year = rf.period_for("2026")
    assert year is not None and (year.start, year.end) == (dt.date(2026, 9, 1),
                                                            dt.date(2027, 8, 31))
    spring = rf.period_for("2026-spring")
    assert spring is not None and (spring.start, spring.end) == (dt.date(2027, 1, 1),
                                                                  dt.date(2027, 3, 31))
    assert len(year.months()) == 12
    assert rf.period_for("2026-winter") is None and rf.period_for("x") is None
    offered = rf.periods_offered(dt.date(2026, 11, 30))
    assert offered[0].key == "2026" and "2026-spring" not in [p.key for p in offered]


def test_chart_is_an_accessible_image_and_hides_small_bars_when_suppressing() -> None:
    trend = rf.Trend("t", "Incidents opened each month", ("September 2026", "October 2026"),
                     (3, 12))
    exact = str(bar_chart(trend, "c1", suppressing=False))
    assert 'role="img"' in exact and 'aria-labelledby="c1-title c1-desc"' in exact
    assert exact.count("<rect") == 2 and "The most was 12 in October 2026" in exact
    suppressed = str(bar_chart(trend, "c1", suppressing=True))
    assert suppressed.count("<rect") == 1 and "&lt;5" in suppressed
    assert "<script" not in exact and "style=" not in exact


def test_a_school_years_month_labels_never_run_together() -> None:
    """Twelve three-letter labels at the chart's font do not fit on one line of a 390 px
    phone's chart (found walking it: "SepOctNovDec"): every other one goes on a second line."""
    import re

    from portal.services.report_charts import FONT, WIDTH

    months = tuple(f"{m} 2027" for m in ("September", "October", "November", "December",
                                         "January", "February", "March", "April", "May",
                                         "June", "July", "August"))
    svg = str(bar_chart(rf.Trend("t", "Concerns raised each month", months, (1,) * 12),
                        "c2", suppressing=False))
    labels = re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*>([A-Z][a-z]{2})</text>', svg)
    assert [text for _, _, text in labels] == [m[:3] for m in months]
    for (x1, y1, _), (x2, y2, _) in zip(labels, labels[2:], strict=False):
        assert y1 == y2  # every other label shares a line...
        assert float(x2) - float(x1) >= FONT * 2.2  # ...with room for three letters
    assert labels[0][1] != labels[1][1]
    assert all(float(y) <= 240 for _, y, _ in labels) and WIDTH == 400
