"""Time the reports (issue 17) on a generated data set (benchmarks/scale/generate.py).

Each report runs --runs times (after 2 warm-up runs) through the service the page calls, then
renders the page's template (charts included), inside a request context with a fresh
SQLAlchemy session. Measured: the DSL's report of a typical school, and the authority's view
across every school that referred to it, for a whole school year and for one term.

    PORTAL_INSTANCE=... [PORTAL_DATABASE_URL=...] .venv/bin/python benchmarks/reports.py \
        [--year 2025] [--runs 20] [--json out.json]

Goals: 500 ms for a school, 2 s for an authority (issue 17).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import render_template
from sqlalchemy import func, select

from portal import create_app
from portal.models import Incident, LocalAuthority, Referral, School, db, utcnow
from portal.reports import views
from portal.services import report_figures as rf
from portal.services import report_summary
from portal.services import reports as svc

GOALS_MS = {"school": 500.0, "authority": 2000.0}


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    for _ in range(2):
        fn()
        db.session.remove()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
        db.session.remove()
    return out


def _refresh_timing(app: Any, school_id: Any, args: argparse.Namespace, backend: str,
                    total: int | None) -> dict[str, Any]:
    """Recounting one month of the typical school (what a change to a counted column adds to
    its commit), rolled back each time."""
    month = (int(args.year), 11)

    def refresh() -> None:
        report_summary.refresh(db.session(), {school_id: {month}})
        db.session.rollback()

    with app.test_request_context("/reports"):
        ms = timed(refresh, args.runs)
    q = statistics.quantiles(ms, n=20)
    row = {"backend": backend, "report": "summary refresh", "period": "one school's month",
           "incidents_in_database": total, "schools": 1, "incidents_in_report": None,
           "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(q[18], 1),
           "max_ms": round(max(ms), 1), "goal_ms": None}
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--year", default="2025", help="the school year to report (its first year)")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    app = create_app()
    results: list[dict[str, Any]] = []
    with app.app_context(), app.test_request_context("/reports"):
        backend = db.engine.dialect.name
        la = db.session.scalars(
            select(LocalAuthority).join(Referral, Referral.local_authority_id == LocalAuthority.id)
            .group_by(LocalAuthority.id).order_by(func.count(Referral.id).desc())).first()
        assert la is not None, "no referrals: generate data first"
        la_id = la.id
        school_ids = list(db.session.scalars(
            select(Referral.school_id).where(Referral.local_authority_id == la_id).distinct()))
        # A typical school: the median number of incidents among them.
        counts = sorted(db.session.execute(
            select(Incident.school_id, func.count()).where(Incident.school_id.in_(school_ids))
            .group_by(Incident.school_id)).all(), key=lambda r: r[1])
        typical_id = counts[len(counts) // 2][0]
        total = db.session.scalar(select(func.count()).select_from(Incident))
        if report_summary.needs_rebuild(db.session()):
            print("the reports' summary is empty: run `flask rebuild-report-summary` (or "
                  "`flask init-db`) after generating", file=sys.stderr)
            return 1
        db.session.remove()
        seen: dict[str, int] = {}
        for key in (args.year, f"{args.year}-autumn"):
            period = rf.period_for(key)
            assert period is not None

            def school_page(period: rf.Period = period) -> str:
                school = db.session.get(School, typical_id)
                assert school is not None
                report = svc.school_report(school, period, utcnow())
                seen["school"] = report.figure("summary", "Incidents opened")
                return render_template("reports/school.html", **views._context(
                    report, suppressing=False, school=school, period=period,
                    offered=rf.periods_offered(period.start)))

            def authority_page(period: rf.Period = period) -> str:
                authority = db.session.get(LocalAuthority, la_id)
                schools = list(db.session.scalars(select(School).where(
                    School.id.in_(select(Referral.school_id)
                                  .where(Referral.local_authority_id == la_id)))
                    .order_by(School.name)))
                report, lines = svc.authority_report(la_id, schools, period, utcnow())
                seen["authority"] = report.figure("summary", "Incidents opened")
                return render_template("reports/authority.html", **views._context(
                    report, suppressing=True, authority=authority, schools=schools,
                    school=None, lines=lines, period=period,
                    offered=rf.periods_offered(period.start), columns=rf.SCHOOL_COLUMNS,
                    values=rf.school_values))

            for name, fn in (("school", school_page), ("authority", authority_page)):
                with app.test_request_context("/reports"):
                    ms = timed(fn, args.runs)
                    incidents = seen[name]
                q = statistics.quantiles(ms, n=20)
                row = {"backend": backend, "report": name, "period": period.label,
                       "incidents_in_database": total, "schools": len(school_ids)
                       if name == "authority" else 1,
                       "incidents_in_report": incidents,
                       "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(q[18], 1),
                       "max_ms": round(max(ms), 1), "goal_ms": GOALS_MS[name]}
                results.append(row)
                print(json.dumps(row), flush=True)
        results.append(_refresh_timing(app, typical_id, args, backend, total))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
