"""Path traversal in attachment ids, file names and the static route: 404, nothing read or
written outside the store. Oversized uploads: the friendly page (413), never a stack trace.
Exports: formula-injection values carried as plain text, the PDF intact; no CSV export exists.
"""

from __future__ import annotations

import io
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.models import Attachment, Referral, db
from tests import factories
from tests.helpers.files import png_bytes
from tests.helpers.pdfs import pdf_shows, pdf_text
from tests.helpers.signing_in import csrf_from, override_settings, sign_in
from tests.hostile import assert_no_leak
from tests.referral_data import incident as make_incident
from tests.web import handover_forms

TRAVERSALS = [
    "../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/wsgi.py", "..\\..\\wsgi.py", "/etc/passwd", "%2fetc%2fpasswd",
    "....//....//etc/passwd", "%252e%252e%252fetc%252fpasswd", "..%00/etc/passwd",
    "C:\\Windows\\win.ini", "file:///etc/passwd",
]


def world() -> dict[str, Any]:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    child = factories.child(school)
    other = factories.child(school, "Kai", "Stenhouse")
    incident = make_incident(school, dsl, [(child, "harmed"), (other, "harmed_others")])
    db.session.commit()
    return {"school": school, "dsl": dsl, "child": child, "incident": incident}


def test_traversal_in_file_routes_is_404(app: Flask, client: FlaskClient) -> None:
    w = world()
    sign_in(client, w["dsl"])
    for payload in TRAVERSALS:
        for url in (f"/attachments/{payload}", f"/static/{payload}",
                    f"/static/css/{payload}", f"/children/{payload}",
                    f"/incidents/{payload}/attachments",
                    f"/referrals/{payload}/packet.pdf"):
            response = client.get(url)
            body = response.get_data(as_text=True)
            assert response.status_code in (404, 308), f"{url}: {response.status_code}"
            assert "root:" not in body and "create_app" not in body, url
            assert_no_leak(body, url)


def test_traversal_in_an_uploaded_file_name_stays_a_name(
    app: Flask, client: FlaskClient, tmp_path: Any
) -> None:
    w = world()
    sign_in(client, w["dsl"])
    url = f"/incidents/{w['incident'].id}/attachments"
    target = tmp_path / "escaped.png"
    for name in (f"../../../../../../{target}", "..\\..\\escaped.png", "/etc/passwd.png",
                 "%2e%2e%2fescaped.png", "evil\r\nX-Injected: 1.png", "\x00.png"):
        token = csrf_from(client.get(url))
        response = client.post(url, data={
            "csrf_token": token, "description": "note", "confirm": "y",
            "file": (io.BytesIO(png_bytes()), name)}, content_type="multipart/form-data")
        assert response.status_code in (302, 200), f"{name!r}: {response.status_code}"
        assert_no_leak(response.get_data(as_text=True), name)
    assert not target.exists()
    for attachment in db.session.scalars(select(Attachment)).all():
        download = client.get(f"/attachments/{attachment.id}")
        assert download.status_code == 200 and download.get_data() == png_bytes()
        download.close()
        disposition = download.headers["Content-Disposition"]
        assert "\r" not in disposition and "\n" not in disposition
        assert "X-Injected" not in download.headers
        filename = disposition.split("filename=", 1)[1]
        assert "/" not in filename and "\\" not in filename, disposition


def test_oversized_upload_gets_the_friendly_page(app: Flask, client: FlaskClient) -> None:
    w = world()
    override_settings(app, attachment_max_bytes=64 * 1024)
    app.config["MAX_CONTENT_LENGTH"] = 128 * 1024
    sign_in(client, w["dsl"])
    url = f"/incidents/{w['incident'].id}/attachments"
    for size in (64 * 1024 + 1, 200 * 1024, 2 * 1024 * 1024):
        token = csrf_from(client.get(url))
        response = client.post(url, data={
            "csrf_token": token, "description": "Photo of the note", "confirm": "y",
            "file": (io.BytesIO(png_bytes() + b"\0" * size), "big.png")},
            content_type="multipart/form-data")
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 413), f"{size}: {response.status_code}"
        assert "must be smaller than" in body and "Photo of the note" in body
        assert_no_leak(body, f"upload of {size} bytes")
    assert db.session.scalars(select(Attachment)).all() == []


def test_oversized_post_elsewhere_is_a_page_not_a_trace(app: Flask, client: FlaskClient) -> None:
    w = world()
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    sign_in(client, w["dsl"])
    for url in (f"/incidents/{w['incident'].id}/summary", "/account/password"):
        token = csrf_from(client.get(url))
        response = client.post(url, data={"csrf_token": token, "summary": "x" * 200_000})
        assert response.status_code == 413, f"{url}: {response.status_code}"
        body = response.get_data(as_text=True)
        assert "What you sent is too large" in body
        assert_no_leak(body, url)


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+SUM(A1:A9)", "-2+3",
            "@SUM(1)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]


def test_formula_values_in_exports_are_plain_text(app: Flask, client: FlaskClient) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    child = factories.child(school, "Mia", "Harbottle")
    words = "\n".join(FORMULAS)
    incident = make_incident(school, dsl, [(child, "harmed")], summary=FORMULAS[0],
                             words={child.reference: FORMULAS[4]}, concern_text=words)
    db.session.commit()
    sign_in(client, dsl)
    handed = handover_forms.hand_over(client, f"/incidents/{incident.id}/hand-over/derbyshire")
    assert handed.status_code == 302
    referral = db.session.scalar(select(Referral).where(Referral.incident_id == incident.id))
    assert referral is not None
    packet = client.get(f"/referrals/{referral.id}/packet.json")
    assert packet.status_code == 200 and packet.mimetype == "application/json"
    data = json.loads(packet.get_data(as_text=True))
    # JSON: the exact text, as a string value (a JSON consumer never evaluates it).
    assert data["incident"]["summary"] == FORMULAS[0]
    assert data["children"][0]["child_words"] == FORMULAS[4]
    assert data["incident"]["concerns"][0]["what_happened"] == words
    pdf = client.get(f"/referrals/{referral.id}/packet.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert pdf.data.rstrip().endswith(b"%%EOF") and b"/Type /Catalog" in pdf.data
    text = pdf_text(pdf.data)
    # PDF: drawn as text (tabs become spaces, CR a line break); no annotation or action made.
    for formula in ("=HYPERLINK(\"http://evil.example\",\"x\")", "+SUM(A1:A9)", "@SUM(1)",
                    "=cmd|' /C calc'!A0"):
        assert pdf_shows(text, formula), formula
    for active in ("/URI", "/Launch", "/JavaScript", "/JS ", "/AA ", "/SubmitForm"):
        assert active not in text, active


# The spreadsheet exports there are, each reviewed: every cell goes through
# `report_figures.csv_cell`, and tests/web/test_reports.py puts formulas in a school's name and
# reads them back neutralised from the downloaded CSV.
REVIEWED_CSV_EXPORTS = {"/reports/report.csv", "/authority/reports/report.csv"}


def test_every_csv_export_is_reviewed_and_neutralises_formulas(app: Flask) -> None:
    """Spreadsheet formula injection needs a CSV (or spreadsheet) export: the only ones are the
    reports' (issue 17). A new one must prefix cells starting with = + - @ tab or CR with ' and
    be added here with its test."""
    from portal.services.report_figures import csv_cell

    exports = {rule.rule for rule in app.url_map.iter_rules()
               if any(ext in rule.rule.lower() for ext in (".csv", ".xlsx", ".ods", "csv"))}
    assert exports == REVIEWED_CSV_EXPORTS, "a new spreadsheet export: review it and add it here"
    for start in ("=", "+", "-", "@", "\t", "\r"):
        formula = f"{start}HYPERLINK(\"http://evil.example\")"
        assert csv_cell(formula) == "'" + formula
    assert csv_cell("Oakfield Academy") == "Oakfield Academy"
