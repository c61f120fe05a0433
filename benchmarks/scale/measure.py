"""Time the main reads on a generated data set (benchmarks/scale/generate.py), then a key rotation.

Each read runs --runs times (after 3 warm-up runs) through the same service and query functions
the views call, each inside a request context (as a page is served: the directory is built once
per request) with a fresh SQLAlchemy session (the key ring's cache stays warm, as in a running
server). Prints p50/p95/max in ms per read, then times rotating the keys of a typical school
(about 12,000 records at 1,000,000 incidents) and of the big school.

    PORTAL_INSTANCE=... [PORTAL_DATABASE_URL=...] .venv/bin/python benchmarks/scale/measure.py \
        --logins $PORTAL_INSTANCE/logins.json [--runs 50] [--no-rotate] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flask import current_app
from sqlalchemy import func, select

from portal import access, create_app, keyops
from portal.models import ChildRecordEntry, Incident, School, User, db
from portal.services import child_file
from portal.services import incidents as svc
from portal.services import referrals as refsvc
from portal.services.children import name_search
from portal.services.incident_page import incident_page

GOAL_MS = 50.0
# Issue 15: a child's file of 2,000 entries (paged) has a goal of its own: under 100 ms p95 and
# 100 KB a page (it was held to the 50 ms of every other page, and said MISSED at 51).
FLOODED_GOAL_MS = 100.0
FLOODED_MOST_BYTES = 100 * 1024


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))
    return s[k]


def timed(label: str, fn: Callable[[], Any], runs: int) -> dict[str, Any]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for _ in range(3):
        with app.test_request_context():
            fn()
            db.session.rollback()
            db.session.remove()
    times = []
    size = None
    for _ in range(runs):
        with app.test_request_context():
            t = time.perf_counter()
            size = fn()
            times.append((time.perf_counter() - t) * 1000)
            db.session.rollback()
            db.session.remove()
    row = dict(read=label, runs=runs, p50=statistics.median(times), p95=pct(times, 95),
               max=max(times), size=size)
    ok = "ok" if row["p95"] < GOAL_MS else "MISSED"
    print(f"{label:<34} p50 {row['p50']:8.2f} ms  p95 {row['p95']:8.2f} ms  "
          f"max {row['max']:8.2f} ms  ({size})  {ok}", flush=True)
    return row


def find_flooded(lines: int) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(child id, school id) of a child whose chronology has at least `lines` lines, if an
    earlier run made one (`flooded_child`)."""
    found = db.session.execute(
        select(ChildRecordEntry.child_id, ChildRecordEntry.school_id)
        .group_by(ChildRecordEntry.child_id, ChildRecordEntry.school_id)
        .having(func.count() >= lines).limit(1)).first()
    db.session.remove()
    return (uuid.UUID(str(found[0])), uuid.UUID(str(found[1]))) if found else None


def flooded_child(school_id: uuid.UUID, logins: list[dict[str, Any]], lines: int) -> uuid.UUID:
    """A new child of `school_id` whose chronology has `lines` lines (tests/floodfile.py)."""
    from tests.factories import child as make_child
    from tests.floodfile import add_lines

    school = db.session.get(School, school_id)
    staff_id = next(uuid.UUID(x["id"]) for x in logins
                    if x["role"] == "staff" and x["school_id"] == str(school_id))
    staff = db.session.get(User, staff_id)
    child = make_child(school, "Flora", "Floodgate")
    db.session.commit()
    t = time.perf_counter()
    add_lines(school, staff, child, lines)
    print(f"flooded a child's file with {lines} lines in {time.perf_counter() - t:.1f} s",
          flush=True)
    return child.id


def show_plans(client: Any, url: str) -> None:
    """Each statement of one GET of `url` whose plan reads a whole table or sorts (SQLite's
    EXPLAIN QUERY PLAN; PostgreSQL's EXPLAIN), to find the indexes the planner wants."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for statement, parameters in seen:
            cursor = raw.cursor()
            cursor.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement,
                           parameters)
            lines = [str(row[-1] if sqlite else row[0]) for row in cursor.fetchall()]
            cursor.close()
            quiet = ("USING", "CONSTANT", "SUBQUERY", "CO-ROUTINE")
            bad = [line for line in lines
                   if ("SCAN " in line and not any(q in line for q in quiet))
                   or "TEMP B-TREE" in line or "Seq Scan" in line]
            if bad:
                print(f"    {statement[:100]!r}...\n      " + "\n      ".join(bad))



def pages(app: Any, runs: int, logins: list[dict[str, Any]],
          wanted: dict[str, tuple[str, uuid.UUID | None, str]],
          plans: bool = False) -> list[dict[str, Any]]:
    """Whole pages: GET through the Flask test client, signed in through the real forms, each
    timed (wall and process CPU) with its SQL statements and its size."""
    from sqlalchemy import event

    from tests.web.conftest import sign_in

    clients: dict[tuple[str, uuid.UUID | None], Any] = {}
    out = []
    statements: list[int] = []

    def count(*_: Any) -> None:
        statements[0] += 1

    for label, (role, school_id, url) in wanted.items():
        key = (role, school_id)
        if key not in clients:
            login = next(x for x in logins if x["role"] == role
                         and (school_id is None or x["school_id"] == str(school_id)))
            user = db.session.get(User, uuid.UUID(login["id"]))
            client = app.test_client()
            response = sign_in(client, user, login["password"])
            assert response.status_code == 302, f"could not sign in as {role}"
            clients[key] = client
            db.session.remove()
        client = clients[key]
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        wall, cpu = [], []
        for _ in range(runs):
            statements[:] = [0]
            event.listen(db.engine, "before_cursor_execute", count)
            c, t = time.process_time(), time.perf_counter()
            response = client.get(url)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            event.remove(db.engine, "before_cursor_execute", count)
            assert response.status_code == 200, url
        size = len(response.get_data())
        if plans:
            show_plans(client, url)
        row = dict(page=label, runs=runs, p50=statistics.median(wall), p95=pct(wall, 95),
                   cpu_p50=statistics.median(cpu), statements=statements[0], bytes=size)
        flooded = url.startswith("/children/") and label != "child's file"
        ok = "ok" if row["p95"] < (FLOODED_GOAL_MS if flooded else GOAL_MS) and (
            not flooded or size < FLOODED_MOST_BYTES) else "MISSED"
        print(f"page {label:<29} p50 {row['p50']:8.2f} ms  p95 {row['p95']:8.2f} ms  "
              f"CPU p50 {row['cpu_p50']:7.2f} ms  {statements[0]:3d} statements  "
              f"{size / 1024:6.1f} KB  {ok}", flush=True)
        out.append(row)
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--logins", type=Path, required=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--no-rotate", action="store_true")
    p.add_argument("--json", type=Path)
    p.add_argument("--no-pages", action="store_true",
                   help="skip the whole pages (GET through the test client, signed in)")
    p.add_argument("--plans", action="store_true",
                   help="print the query plans that scan a table or sort, page by page")
    p.add_argument("--flood", type=int, default=2000,
                   help="lines of the flooded child's file made in the typical school (once)")
    args = p.parse_args()
    data = json.loads(args.logins.read_text())
    big = uuid.UUID(data["big_school"])
    app = create_app()
    out: dict[str, Any] = {}
    with app.app_context():
        out["dialect"] = db.engine.dialect.name
        out["incidents"] = db.session.scalar(select(func.count()).select_from(Incident))
        print(f"{out['dialect']}: {out['incidents']} incidents", flush=True)
        logins = data["logins"]
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/ helpers
        # The flooded file (--flood) lives in a school of its own, made by an earlier run or
        # made below in the last school: its concerns would swamp a dashboard.
        flood = find_flooded(args.flood)
        flood_school = str(flood[1]) if flood else next(
            x["school_id"] for x in reversed(logins) if x["role"] == "dsl")
        # A typical school: the second one (the first is the big school).
        dsl_id = next(uuid.UUID(x["id"]) for x in logins
                      if x["role"] == "dsl" and x["school_id"] not in (str(big), flood_school))
        big_dsl_id = next(uuid.UUID(x["id"]) for x in logins
                          if x["role"] == "dsl" and x["school_id"] == str(big))
        adviser_id = next(uuid.UUID(x["id"]) for x in logins if x["role"] == "la_adviser")
        dsl = db.session.get(User, dsl_id)
        school_id = dsl.school_id
        # The child with the longest chronology in that school.
        child_id = db.session.execute(
            select(ChildRecordEntry.child_id, func.count())
            .where(ChildRecordEntry.school_id == school_id)
            .group_by(ChildRecordEntry.child_id).order_by(func.count().desc()).limit(1)).first()
        child_id, entries = child_id[0], child_id[1]
        db.session.remove()

        def dashboard(user_id: uuid.UUID) -> Callable[[], Any]:
            def run() -> Any:
                user = db.session.get(User, user_id)
                now = dt.datetime.now(dt.UTC)
                board = svc.dashboard(access.concern_visible_bound(user),
                                      access.incident_visible_bound(user), now)
                rows, _ = refsvc.live_referrals(access.referral_visible_bound(user), now)
                return f"{len(board.open_incidents)} open, {len(board.new_concerns)} new, " \
                       f"{len(rows)} referrals"
            return run

        def child() -> Any:
            user = db.session.get(User, dsl_id)
            c = access.get_child_or_404(user, child_id)
            f = child_file.build_child_file(user, c, newest_first=True)
            return f"{entries} entries" if f else None

        def inbox(shown: int | None) -> Callable[[], Any]:
            def run() -> Any:
                user = db.session.get(User, adviser_id)
                visible, scope = access.referral_visible_bound(user)
                box = refsvc.inbox(visible, dt.datetime.now(dt.UTC), shown, scope)
                listed = sum(len(rows) for _, _, rows in box.groups)
                return f"{box.total} referrals, {listed} listed"
            return run

        def search() -> Any:
            found = list(db.session.scalars(name_search(school_id, "Maisie Thornbury")))
            names = [(c.given_name, c.family_name, c.dob) for c in found]
            found2 = list(db.session.scalars(name_search(school_id, "Ashdown")))
            names += [(c.given_name, c.family_name, c.dob) for c in found2]
            return f"{len(names)} matches"

        def incident() -> Any:
            user = db.session.get(User, dsl_id)
            inc = access.get_incident_or_404(user, incident_id)
            page = incident_page(inc, dt.datetime.now(dt.UTC))
            return f"{len(page.children)} children, {len(page.decisions)} decisions"

        # The typical school's newest open incident (else its newest).
        incident_id = db.session.scalar(
            select(Incident.id).where(Incident.school_id == school_id)
            .order_by((Incident.state == "open").desc(), Incident.opened_at.desc()).limit(1))
        db.session.remove()

        rows = [timed("dashboard (typical school)", dashboard(dsl_id), args.runs),
                timed("incident page (read model)", incident, args.runs),
                timed("dashboard (big school)", dashboard(big_dsl_id), args.runs),
                timed("child's file", child, args.runs),
                timed("adviser inbox", inbox(20), args.runs),
                timed("adviser inbox, all answered shown", inbox(None), args.runs),
                timed("name search (2 searches)", search, args.runs)]
        out["reads"] = rows
        if not args.no_pages:
            flooded = flood[0] if flood else flooded_child(
                uuid.UUID(flood_school), logins, args.flood)
            out["pages"] = pages(app, args.runs, data["logins"], {
                "dashboard": ("dsl", school_id, "/dashboard"),
                "incident": ("dsl", school_id, f"/incidents/{incident_id}"),
                "child's file": ("dsl", school_id, f"/children/{child_id}"),
                f"child's file, {args.flood} lines": (
                    "dsl", uuid.UUID(flood_school), f"/children/{flooded}"),
                "... its page 2": ("dsl", uuid.UUID(flood_school), f"/children/{flooded}?page=2"),
                "adviser inbox": ("la_adviser", None, "/referrals"),
                "concern form": ("staff", school_id, "/concerns/new"),
            }, plans=args.plans)

        if not args.no_rotate:
            out["rotation"] = []
            for label, sid in (("a typical school", school_id), ("the big school", big)):
                org = keyops.resolve_org(str(sid))
                counts = keyops.count_org_records(org)
                n = sum(counts.values())
                t = time.perf_counter()
                result = keyops.rotate_org(org, settle_seconds=0)
                secs = time.perf_counter() - t
                out["rotation"].append(dict(school=label, records=n, seconds=secs,
                                            values=result.stats.values_reencrypted,
                                            dropped=len(result.dropped)))
                print(f"rotate keys of {label}: {n} records, "
                      f"{result.stats.values_reencrypted} values re-encrypted in {secs:.2f} s "
                      f"({n / secs:,.0f} records/s); retired keys dropped: "
                      f"{len(result.dropped)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
