"""Reports in plain words (issue 17): the CSV holds every column the page shows, and counts
read as English ("the school that has referred", never "the 1 school that have")."""

from __future__ import annotations

import csv
import html
import io

from flask.testing import FlaskClient
from sqlalchemy import delete

from portal.models import Referral, db
from portal.wording import counted
from tests.web.conftest import sign_in
from tests.web.test_reports import world  # noqa: F401 (fixture)


def test_the_csv_has_every_column_of_how_long_it_took(client: FlaskClient,
                                                       world) -> None:  # noqa: F811
    sign_in(client, world["dsl"])
    page = client.get("/reports?period=2026-autumn").get_data(as_text=True)
    assert ">Later</th>" in page
    body = client.get("/reports/report.csv?period=2026-autumn").get_data(as_text=True)
    rows = [r for r in csv.reader(io.StringIO(body)) if r and r[0] == "How long it took"]
    labels = {r[1] for r in rows}
    assert labels
    for label in labels:
        assert [r for r in rows if r[1] == label and r[2] == "Later"], label


def test_the_authority_view_counts_schools_in_english(client: FlaskClient,
                                                      world) -> None:  # noqa: F811
    sign_in(client, world["adviser"])
    text = html.unescape(client.get("/authority/reports?period=2026-autumn")
                         .get_data(as_text=True))
    assert "The figures of the 2 schools that have referred to Derbyshire" in text
    # Only one school has referred: "the school that has", never "the 1 school that have".
    db.session.execute(delete(Referral).where(Referral.school_id != world["school"].id))
    db.session.commit()
    text = html.unescape(client.get("/authority/reports?period=2026-autumn")
                         .get_data(as_text=True))
    assert "The figures of the school that has referred to Derbyshire" in text
    assert "1 school that have" not in text


def test_counted_words() -> None:
    assert counted(1, "line") == "1 line"
    assert counted(0, "school") == "0 schools"
    assert counted(3, "child", "children") == "3 children"
