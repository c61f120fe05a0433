"""The report pages: on screen, printable, as CSV; for a school's DSLs and for advisers.

A DSL's own screen shows exact figures; everything that leaves it (the printable copy, the
CSV) and everything an adviser sees goes through small-number suppression
(`report_figures.suppress`). No child's name is read: the figures come from plain columns.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from flask import Response, abort, render_template, request
from flask_login import current_user

from .. import access, audit, clock
from ..models import LocalAuthority, School, db, utcnow
from ..services import report_figures as rf
from ..services import reports as svc
from ..services.attachments import clean_filename, content_disposition
from ..services.report_charts import bar_chart
from . import authority_bp, bp


def _user() -> Any:
    return current_user._get_current_object()


def _period() -> tuple[rf.Period, list[rf.Period]]:
    today = clock.today()
    offered = rf.periods_offered(today)
    key = request.args.get("period")
    if key is None:
        return rf.default_period(today), offered
    period = rf.period_for(key)
    if period is None:
        abort(404)
    return period, offered


def _csv(rows: list[list[str]], name: str) -> Response:
    """`rows` as a CSV file called `name` (with what and when it is: a DSL's downloads folder
    holds many "report-2026.csv"), which a spreadsheet opens with every accent and script
    intact: UTF-8 with a byte-order mark, without which Excel reads it as Windows-1252 ("Zoë"
    became "ZoÃ«", a walk)."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment",
                         **content_disposition(clean_filename(f"{name}.csv")))
    return response


def _audit_export(org_id: uuid.UUID, kind: str, period: rf.Period) -> None:
    user = _user()
    audit.record(audit.EXPORT_CREATED, org_id=str(org_id), actor_id=user.id,
                 detail={"kind": kind, "period": period.key})
    db.session.commit()


def _context(report: rf.Report, *, suppressing: bool, **extra: Any) -> dict[str, Any]:
    return dict(report=report, suppressing=suppressing,
                count=lambda n: rf.count_words(n, suppressing),
                median=lambda t: rf.median_words(t, suppressing),
                chart=lambda trend, i: bar_chart(trend, f"chart-{i}", suppressing=suppressing),
                **extra)


_SUPPRESSED = "Figures under 5 are shown as fewer than 5."  # under the title of a CSV


# ---------------------------------------------------------------------------------------------
# The school's report (its DSLs)


def _school() -> School:
    school = db.session.scalar(access.report_schools(_user()))
    if school is None:
        abort(404)
    return school


@bp.get("/reports")
@access.require(access.can_record_incident)
def school_report() -> str:
    school, (period, offered) = _school(), _period()
    report = svc.school_report(school, period, utcnow())
    return render_template("reports/school.html", **_context(
        report, suppressing=False, school=school, period=period, offered=offered))


def _school_export(kind: str) -> tuple[School, rf.Period, rf.Report]:
    """The school's report for the period asked for, its export (`kind`) audited."""
    school, (period, _) = _school(), _period()
    report = svc.school_report(school, period, utcnow())
    _audit_export(school.id, kind, period)
    return school, period, report


@bp.get("/reports/print")
@access.require(access.can_record_incident)
def school_print() -> str:
    school, period, report = _school_export("report_print")
    return render_template("reports/print.html", **_context(
        report, suppressing=True, title=f"Report for {school.name}", period=period,
        back=("reports.school_report", {"period": period.key}), schools=()))


@bp.get("/reports/report.csv")
@access.require(access.can_record_incident)
def school_csv() -> Response:
    school, period, report = _school_export("report_csv")
    rows = rf.csv_rows(report, [f"Report for {school.name}", period.label, _SUPPRESSED])
    return _csv(rows, f"{school.name} report, {period.name}")


# ---------------------------------------------------------------------------------------------
# The authority's view (its advisers)


def _authority() -> tuple[LocalAuthority, list[School], School | None]:
    user = _user()
    authority = db.session.get(LocalAuthority, user.local_authority_id)
    if authority is None:
        abort(404)
    schools = list(db.session.scalars(access.report_schools(user).order_by(School.name)))
    chosen = request.args.get("school")
    if not chosen:
        return authority, schools, None
    wanted = access.parse_id(chosen)
    school = next((s for s in schools if s.id == wanted), None)
    if school is None:
        abort(404)
    return authority, schools, school


def _authority_report(authority: LocalAuthority, schools: list[School],
                      school: School | None, period: rf.Period
                      ) -> tuple[rf.Report, list[rf.SchoolLine]]:
    return svc.authority_report(authority.id, [school] if school else schools, period,
                                utcnow())


@authority_bp.get("/authority/reports")
@access.require(access.can_work_referrals)
def authority_report() -> str:
    authority, schools, school = _authority()
    period, offered = _period()
    report, lines = _authority_report(authority, schools, school, period)
    return render_template("reports/authority.html", **_context(
        report, suppressing=True, authority=authority, schools=schools, school=school,
        lines=lines if school is None else [], period=period, offered=offered,
        columns=rf.SCHOOL_COLUMNS, values=rf.school_values))


def _authority_export(kind: str) -> tuple[School | None, rf.Period, rf.Report,
                                          list[rf.SchoolLine], str, str]:
    """The authority's report for the schools and period asked for, its export (`kind`)
    audited: the school chosen (None: all), the period, the report, its lines by school, its
    title and whose it is in a file's name (the authority, and the school chosen)."""
    authority, schools, school = _authority()
    period, _ = _period()
    report, lines = _authority_report(authority, schools, school, period)
    _audit_export(authority.id, kind, period)
    title = f"{authority.name}: " + (school.name if school else "the schools that referred")
    return school, period, report, lines, title, authority.name + (
        f", {school.name}" if school else "")


@authority_bp.get("/authority/reports/print")
@access.require(access.can_work_referrals)
def authority_print() -> str:
    school, period, report, lines, title, _ = _authority_export("report_print")
    args = {"period": period.key, **({"school": str(school.id)} if school else {})}
    return render_template("reports/print.html", **_context(
        report, suppressing=True, title=title, period=period,
        back=("authority_reports.authority_report", args),
        schools=lines if school is None else [], columns=rf.SCHOOL_COLUMNS,
        values=rf.school_values))


@authority_bp.get("/authority/reports/report.csv")
@access.require(access.can_work_referrals)
def authority_csv() -> Response:
    school, period, report, lines, title, whose = _authority_export("report_csv")
    rows = rf.csv_rows(report, [title, period.label, _SUPPRESSED],
                       lines if school is None else [])
    return _csv(rows, f"{whose} report, {period.name}")
