"""Reports (issue 17): the DSL's report, its printable copy and CSV, and the authority's view,
for a known set of concerns and incidents whose every figure is counted here by hand.

The school (Oakfield, Derbyshire) in the autumn term 2026:
- 8 concerns: 6 became incidents (I1..I5; I5 from two concerns), 1 recorded as no further
  action, 1 still waiting (sent 2 October: overdue). Plus a concern in August: outside.
- 5 incidents: I1 physical+bullying (school), I2 bullying (online), I3 sexual harassment (home:
  two children of one household), I4 physical (school), I5 nudes sharing (online).
- Children: Ava (year 7, female, SEND) harmed others in I1, I2 and I4; Ben (year 8, male) was
  harmed in I1 and I3; Cal (year 8, male) in I3 and I5; Dee (reception, female) in I2.
- I5 has a mandatory referral to children's social care, handed over 2 hours after its
  concern; I1 a decision 3 hours after its concern; I2 and I5 are open; a review on I1.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.models import (
    Concern,
    ConcernChild,
    ConcernOutcome,
    Decision,
    Incident,
    IncidentChild,
    IncidentConcern,
    Referral,
    db,
)
from portal.services.report_stats import record_statistics
from tests import factories
from tests.web.conftest import sign_in

UTC = dt.UTC
NAMES = ("Avaline", "Bramwell", "Calloway", "Delphine", "Quennell")


def at(day: int, month: int = 10, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=UTC)


def build(app: Flask) -> dict[str, object]:
    la = factories.authority("derbyshire")
    school = factories.school("Oakfield Academy", "derbyshire")
    other = factories.school("=HYPERLINK(\"http://x\")", "derbyshire")
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school)
    adviser = factories.user("la_adviser", org=la)
    other_dsl = factories.user("dsl", org=other)
    other_la = factories.authority("darlington")
    other_adviser = factories.user("la_adviser", org=other_la)
    far_school = factories.school("Northgate College", "darlington")

    def kid(given: str, year: str, sex: str, send: bool):
        c = factories.child(school, given=given, family="Quennell", send=send)
        c.year_group, c.sex = year, sex
        return c

    ava = kid("Avaline", "Year 7", "F", True)
    ben = kid("Bramwell", "8", "Male", False)
    cal = kid("Calloway", "Y8", "M", False)
    dee = kid("Delphine", "Reception", "Female", False)
    db.session.flush()

    def concern(sent: dt.datetime, picked: dt.datetime | None, *children) -> Concern:
        c = Concern(school_id=school.id, raised_by_id=staff.id, submitted_at=sent,
                    state="picked_up" if picked else "submitted", picked_up_at=picked)
        c.what_happened = "Something happened to Avaline Quennell"
        db.session.add(c)
        db.session.flush()
        for ch in children:
            db.session.add(ConcernChild(concern_id=c.id, child_id=ch.id))
        return c

    def incident(n: int, opened: dt.datetime, types, concerns, kids, *, online=False,
                 state="closed", mandatory=()) -> Incident:
        i = Incident(school_id=school.id, reference=f"I{n:04d}", opened_by_id=dsl.id,
                     opened_at=opened, state=state, online=online, types=list(types),
                     mandatory_routes=list(mandatory))
        i.summary = "Summary naming Bramwell Quennell"
        db.session.add(i)
        db.session.flush()
        for c in concerns:
            db.session.add(IncidentConcern(incident_id=i.id, concern_id=c.id))
        for pos, (child, role, household) in enumerate(kids):
            row = IncidentChild(incident_id=i.id, child_id=child.id, school_id=school.id,
                                position=pos, role=role, household=household)
            record_statistics(row, child)
            db.session.add(row)
        return i

    c1 = concern(at(1), at(1, hour=10), ava, ben)
    c2 = concern(at(5), at(5, hour=11), ava, dee)
    c3 = concern(at(8), at(8, hour=12), ben, cal)
    c4 = concern(at(12), at(13), ava)
    c5 = concern(at(20), at(20, hour=10), cal)
    c6 = concern(at(21), at(21, hour=10), cal)
    recorded = concern(at(22), at(22, hour=13), dee)
    recorded.state = "recorded"
    db.session.add(ConcernOutcome(school_id=school.id, concern_id=recorded.id,
                                  kind="no_further_action", decided_by_id=dsl.id,
                                  decided_at=at(22, hour=13)))
    concern(at(2), None, ben)  # waiting since 2 October: overdue
    concern(dt.datetime(2026, 8, 20, 9, tzinfo=UTC), None, ben)  # before the term
    i1 = incident(1, at(1, hour=10), ["physical", "bullying"], [c1],
                  [(ava, "harmed_others", None), (ben, "harmed", None)])
    incident(2, at(5, hour=11), ["bullying"], [c2],
                  [(ava, "harmed_others", None), (dee, "harmed", None)], online=True,
                  state="open")
    incident(3, at(8, hour=12), ["sexual_harassment"], [c3],
             [(ben, "harmed", "Flat 2"), (cal, "harmed_others", "Flat 2")])
    incident(4, at(13), ["physical"], [c4], [(ava, "harmed_others", None)])
    i5 = incident(5, at(20, hour=10), ["nudes_sharing"], [c5, c6], [(cal, "harmed", None)],
                  online=True, state="open", mandatory=["csc_referral"])
    db.session.add(Decision(school_id=school.id, incident_id=i1.id, kind="internal_support",
                            child_id=ava.id, decided_by_id=dsl.id, decided_at=at(1, hour=12)))
    db.session.add(Decision(school_id=school.id, incident_id=i1.id, kind="review",
                            child_id=ava.id, decided_by_id=dsl.id, decided_at=at(30)))
    db.session.add(Decision(school_id=school.id, incident_id=i5.id, kind="take_route",
                            route="csc_referral", decided_by_id=dsl.id,
                            decided_at=at(20, hour=10)))
    db.session.add(Referral(incident_id=i5.id, school_id=school.id, local_authority_id=la.id,
                            sent_by_id=dsl.id, sent_at=at(20, hour=11),
                            acknowledged_at=at(20, hour=12), state="acknowledged"))
    # The other school referred too (so it is in the authority's view); the far school never.
    oi = Incident(school_id=other.id, reference="I0001", opened_by_id=other_dsl.id,
                  opened_at=at(3), types=["physical"])
    db.session.add(oi)
    db.session.flush()
    db.session.add(Referral(incident_id=oi.id, school_id=other.id, local_authority_id=la.id,
                            sent_by_id=other_dsl.id, sent_at=at(3, hour=10)))
    db.session.commit()
    return dict(school=school, other=other, far=far_school, dsl=dsl, adviser=adviser,
                other_dsl=other_dsl, other_adviser=other_adviser, staff=staff)


@pytest.fixture
def world(app: Flask) -> dict[str, object]:
    return build(app)


def text_of(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def cell(html: str, table: str, label: str) -> list[str]:
    """The cells of the row `label` of the table `table`, as shown."""
    import re

    start = html.index(f'data-testid="table-{table}"')
    body = html[start:html.index("</table>", start)]
    row = re.search(r"<th scope=\"row\" class=\"govuk-table__header\">(?:<a[^>]*>)?"
                    + re.escape(label) + r"(?:</a>)?</th>(.*?)</tr>", body, re.S)
    assert row, f"no row {label!r} in {table}"
    return [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_the_dsls_report_counts_every_figure(client: FlaskClient, world) -> None:
    sign_in(client, world["dsl"])
    dashboard = text_of(client, "/dashboard")
    assert "/reports" in dashboard and "Report for governors" in dashboard
    html = text_of(client, "/reports?period=2026-autumn")
    assert "Autumn term 2026" in html
    assert cell(html, "summary", "Concerns raised") == ["8"]
    assert cell(html, "summary", "Incidents opened") == ["5"]
    assert cell(html, "summary", "Children involved in incidents (each child once per "
                "incident)") == ["8"]
    assert cell(html, "summary", "Referrals to the local authority") == ["1"]
    assert cell(html, "concern_outcomes", "Became an incident") == ["6"]
    assert cell(html, "concern_outcomes",
                "Recorded without an incident: no further action") == ["1"]
    # (not "triaged": a governor reads it, a walk)
    assert cell(html, "concern_outcomes", "Not yet looked at by a safeguarding lead") == ["1"]
    assert cell(html, "incident_types", "Bullying") == ["2"]
    assert cell(html, "incident_types", "Physical abuse") == ["2"]
    assert cell(html, "incident_types", "Sexual harassment") == ["1"]
    assert cell(html, "settings", "Online") == ["2"]
    assert cell(html, "settings", "At home (children of one household)") == ["1"]
    assert cell(html, "settings", "In or around school") == ["2"]
    assert cell(html, "year_groups", "Year 7") == ["3"]
    assert cell(html, "year_groups", "Year 8") == ["4"]
    assert cell(html, "year_groups", "Reception") == ["1"]
    assert cell(html, "sex", "Female") == ["4"]
    assert cell(html, "sex", "Male") == ["4"]
    assert cell(html, "send", "Special educational needs or disabilities") == ["3"]
    assert cell(html, "routes", "Referral to children&#39;s social care") == ["1", "1", "1"]
    assert cell(html, "cases", "Incidents still open") == ["2"]
    assert cell(html, "cases", "Concerns overdue for triage") == ["1"]
    assert cell(html, "cases", "Incidents reviewed in the period") == ["1"]
    assert cell(html, "repeat", "Children in more than one incident") == ["3"]
    assert cell(html, "repeat", "Children who harmed others in more than one incident") == ["1"]
    assert cell(html, "repeat",
                "Incidents involving a child in another incident of the period") == ["5"]
    # Triage: 1h, 2h, 3h, 24h (Monday to Tuesday), 1h, 1h, 4h: median 2 hours; all within 1
    # working day; the waiting concern is not measured.
    assert cell(html, "timings", "From concern to triage") == [
        "7", "2 hours", "Within 1 working day (the school&#39;s timescale)", "7", "0"]
    # I1 decided 3 hours after its concern; I5's route 1 hour after its first concern.
    assert cell(html, "timings", "From concern to first decision")[:2] == ["2", "2 hours"]
    assert cell(html, "timings", "From concern to hand-over")[:2] == ["1", "2 hours"]
    assert 'role="img"' in html and "<title id=\"chart-1-title\">" in html
    assert cell(html, "trend-incidents_by_month", "October 2026") == ["5"]
    assert cell(html, "trend-concerns_by_month", "September 2026") == ["0"]
    for name in NAMES:
        assert name not in html


def test_printable_copy_and_csv_suppress_small_numbers_and_name_nobody(
        client: FlaskClient, world) -> None:
    sign_in(client, world["dsl"])
    printed = text_of(client, "/reports/print?period=2026-autumn")
    assert "OFFICIAL-SENSITIVE" in printed
    assert cell(printed, "summary", "Concerns raised") == ["8"]
    assert cell(printed, "summary", "Incidents opened") == ["5"]
    assert cell(printed, "settings", "Online") == ["fewer than 5"]
    assert cell(printed, "cases", "Concerns overdue for triage") == ["fewer than 5"]
    response = client.get("/reports/report.csv?period=2026-autumn")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Cache-Control"] == "no-store"
    # A spreadsheet reads it as UTF-8 (a byte-order mark: Excel showed "Zoë" as "ZoÃ«"
    # without it) and the downloads folder says whose report it is and for when.
    assert response.get_data().startswith("\ufeff".encode())
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="Oakfield Academy report, Autumn term 2026.csv"')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[0] == ["Report for Oakfield Academy"]
    values = {(r[0], r[1], r[2]): r[3] for r in rows if len(r) == 4}
    assert values[("In this period", "Concerns raised", "Number")] == "8"
    assert values[("Incidents by type", "Bullying", "Number")] == "fewer than 5"
    assert values[("Children involved, by sex", "Male", "Number")] == "fewer than 5"
    assert values[("In this period", "Children involved in incidents (each child once per "
                   "incident)", "Number")] == "8"
    for text in (printed, response.get_data(as_text=True)):
        for name in NAMES:
            assert name not in text


def test_the_authoritys_view_suppresses_and_neutralises_formulas(
        client: FlaskClient, world) -> None:
    sign_in(client, world["adviser"])
    assert "/authority/reports" in text_of(client, "/referrals")
    html = text_of(client, "/authority/reports?period=2026-autumn")
    assert cell(html, "summary", "Concerns raised") == ["8"]
    assert cell(html, "summary", "Incidents opened") == ["6"]
    assert cell(html, "summary", "Referrals to the local authority") == ["fewer than 5"]
    assert cell(html, "referrals", "Received") == ["fewer than 5"]
    assert cell(html, "by-school", "Oakfield Academy") == [
        "8", "5", "8", "fewer than 5", "fewer than 5"]
    assert "Northgate College" not in html  # never referred to this authority
    for name in NAMES:
        assert name not in html
    response = client.get("/authority/reports/report.csv?period=2026-autumn")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="Derbyshire County Council report, Autumn term 2026.csv"')
    body = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    by_school = [r for r in rows if r and r[0] == "By school"]
    assert ["By school", "'=HYPERLINK(\"http://x\")", "Concerns raised", "fewer than 5"] \
        in by_school
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r)
    one = text_of(client, f"/authority/reports?period=2026-autumn&school={world['school'].id}")
    assert cell(one, "summary", "Incidents opened") == ["5"]
    assert "by-school" not in one


def test_other_schools_and_authorities_answer_404(client: FlaskClient, world) -> None:
    sign_in(client, world["adviser"])
    assert client.get(f"/authority/reports?school={world['far'].id}").status_code == 404
    assert client.get("/authority/reports?school=not-an-id").status_code == 404
    assert client.get("/authority/reports?period=1999-winter").status_code == 404
    assert client.get("/reports").status_code == 404


def test_another_school_and_authority_see_none_of_these_figures(
        app: Flask, world) -> None:
    dsl_client = app.test_client()
    sign_in(dsl_client, world["other_dsl"])
    html = text_of(dsl_client, "/reports?period=2026-autumn")
    assert cell(html, "summary", "Concerns raised") == ["0"]
    assert cell(html, "summary", "Incidents opened") == ["1"]
    assert dsl_client.get("/authority/reports").status_code == 404
    adviser_client = app.test_client()
    sign_in(adviser_client, world["other_adviser"])
    far = text_of(adviser_client, "/authority/reports?period=2026-autumn")
    assert "Oakfield Academy" not in far
    assert (adviser_client.get(f"/authority/reports?school={world['school'].id}").status_code
            == 404)
    staff_client = app.test_client()
    sign_in(staff_client, world["staff"])
    assert staff_client.get("/reports").status_code == 404
    assert staff_client.get("/reports/report.csv").status_code == 404
