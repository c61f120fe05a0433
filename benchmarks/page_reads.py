"""Server CPU and SQL statements per data page (issue 15, the data pages' half).

Not a test: run by hand. It builds a throw-away SQLite instance (or uses an empty PostgreSQL
database) with one school of `--incidents` incidents (each with two children, a decision each
and a referral to the authority) and a child whose chronology has `--lines` lines, signs in a
DSL, a member of staff and an adviser through the real forms, and GETs each main page (and the
sign-in page, signed out; `--pages` to choose) `--runs` times (after 5 warm-ups) through the
Flask test client. It prints, per page, the median CPU time of the process per request
(steadier than wall time on a shared machine; it leaves out PostgreSQL's own work), the
median wall time, the SQL statements and how many of them repeat exactly (text and
parameters) within the request.

    .venv/bin/python benchmarks/page_reads.py [--incidents 20] [--lines 200] [--runs 50] \
        [--postgres postgresql+psycopg://...] [--profile dashboard] \
        [--pages 'concern form,sign-in,home (DSL)']

`--profile PAGE` runs cProfile over the timed requests of that page and prints the top of it.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the tree being measured (run from its root)

from sqlalchemy import create_engine, event

from portal import create_app
from portal import db as database
from portal.models import User, db
from portal.services import incidents as svc
from portal.services import referrals
from tests import factories
from tests.conftest import make_test_config
from tests.floodfile import add_lines
from tests.referral_data import incident as make_incident
from tests.referral_data import local
from tests.web.conftest import sign_in

NOW = local("2026-11-18T10:00")


def build(incidents: int, lines: int) -> dict[str, tuple[Any, str]]:
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    staff = factories.user("staff", org=school, display_name="Sam Staff")
    adviser = factories.user("la_adviser", org=factories.authority("derbyshire"),
                             display_name="Ash Adviser")
    last = None
    for n in range(incidents):
        kids = [(factories.child(school, f"Kid{n}x{k}", f"Family{n}",
                                 dob=dt.date(2012, 1, 1 + k)), role)
                for k, role in enumerate(("harmed", "harmed_others"))]
        last = make_incident(school, dsl, kids, concern_text=f"Seen on a phone ({n}).")
        for child, _ in kids:
            svc.record_decision(dsl, last, svc.DecisionInput(
                kind="internal_support", child_id=child.id,
                reasons="Safety plan agreed with the child."), NOW - dt.timedelta(hours=5))
        referrals.hand_over(last, "derbyshire", dsl, now=NOW - dt.timedelta(hours=4))
    child = factories.child(school, "Amira", "Okonkwo")
    db.session.commit()
    add_lines(school, staff, child, lines)
    assert last is not None
    return {
        "dashboard": (dsl.id, "/dashboard"),
        "incident": (dsl.id, f"/incidents/{last.id}"),
        "child's file": (dsl.id, f"/children/{child.id}"),
        "adviser inbox": (adviser.id, "/referrals"),
        "concern form": (staff.id, "/concerns/new"),
        "incident form": (dsl.id, "/incidents/new"),
        "facts form": (dsl.id, f"/incidents/{last.id}/facts"),
        "child form": (dsl.id, f"/incidents/{last.id}/children/new"),
        "decision form": (dsl.id, f"/incidents/{last.id}/decisions/new"),
        "sign-in": (None, "/sign-in"),
        # The fixed cost every signed-in page pays (session row, user, header, CSRF token for
        # sign-out, timeout partial, headers) with almost nothing of its own on top.
        "home (DSL)": (dsl.id, "/home"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    parser.add_argument("--pages", help="only these, comma-separated ('concern form,sign-in')")
    parser.add_argument("--profile", metavar="PAGE")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (tottime, ...)")
    parser.add_argument("--callers", metavar="FUNCTION", help="and who calls FUNCTION")
    parser.add_argument("--only", metavar="PATTERN", help="profile lines matching PATTERN only")
    args = parser.parse_args()
    referrals.utcnow = lambda: NOW  # type: ignore[assignment]  # one clock for the world
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.db"
        engine = create_engine(url)
        database.upgrade(engine)
        engine.dispose()
        app = create_app(make_test_config(Path(tmp), url))
        with app.app_context():
            pages = build(args.incidents, args.lines)
            statements: list[tuple[str, str]] = []

            def count(conn: Any, cursor: Any, statement: str, parameters: Any,
                      *_: Any) -> None:
                statements.append((statement, repr(parameters)))

            print(f"{db.engine.dialect.name}: {args.incidents} incidents, "
                  f"a file of {args.lines} lines, {args.runs} runs")
            print(f"{'page':<14} {'CPU ms':>7} {'wall ms':>8} {'statements':>11} {'repeats':>8}")
            wanted = args.pages.split(",") if args.pages else list(pages)
            for name, (user_id, url_) in pages.items():
                if name not in wanted:
                    continue
                client = app.test_client()
                if user_id is not None:  # the sign-in page is measured signed out
                    sign_in(client, db.session.get(User, user_id))
                for _ in range(5):
                    assert client.get(url_).status_code == 200, url_
                cpu, wall = [], []
                profiler = cProfile.Profile() if args.profile == name else None
                for _ in range(args.runs):
                    db.session.expunge_all()  # a fresh session, as each request in production
                    statements.clear()
                    event.listen(db.engine, "before_cursor_execute", count)
                    c0, w0 = time.process_time(), time.perf_counter()
                    if profiler is not None:
                        profiler.enable()
                    response = client.get(url_)
                    if profiler is not None:
                        profiler.disable()
                    cpu.append((time.process_time() - c0) * 1000)
                    wall.append((time.perf_counter() - w0) * 1000)
                    event.remove(db.engine, "before_cursor_execute", count)
                    assert response.status_code == 200
                repeats = len(statements) - len(set(statements))
                print(f"{name:<14} {statistics.median(cpu):7.2f} {statistics.median(wall):8.2f}"
                      f" {len(statements):11d} {repeats:8d}", flush=True)
                if profiler is not None:
                    stats = pstats.Stats(profiler).sort_stats(args.sort)
                    stats.print_stats(*([args.only, 40] if args.only else [40]))
                    if args.callers:
                        stats.print_callers(args.callers)
            db.session.remove()
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
