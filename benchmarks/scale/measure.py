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
from portal.models import ChildRecordEntry, Incident, User, db
from portal.services import child_file
from portal.services import incidents as svc
from portal.services import referrals as refsvc
from portal.services.children import name_search

GOAL_MS = 50.0


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


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--logins", type=Path, required=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--no-rotate", action="store_true")
    p.add_argument("--json", type=Path)
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
        # A typical school: the second one (the first is the big school).
        dsl_id = next(uuid.UUID(x["id"]) for x in logins
                      if x["role"] == "dsl" and x["school_id"] != str(big))
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
                board = svc.dashboard(access.concerns_visible_to(user),
                                      access.incidents_visible_to(user), now)
                rows, _ = refsvc.live_referrals(access.referrals_visible_to(user), now)
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
                box = refsvc.inbox(access.referrals_visible_to(user), dt.datetime.now(dt.UTC),
                                   shown)
                listed = sum(len(rows) for _, _, rows in box.groups)
                return f"{box.total} referrals, {listed} listed"
            return run

        def search() -> Any:
            found = list(db.session.scalars(name_search(school_id, "Maisie Thornbury")))
            names = [(c.given_name, c.family_name, c.dob) for c in found]
            found2 = list(db.session.scalars(name_search(school_id, "Ashdown")))
            names += [(c.given_name, c.family_name, c.dob) for c in found2]
            return f"{len(names)} matches"

        rows = [timed("dashboard (typical school)", dashboard(dsl_id), args.runs),
                timed("dashboard (big school)", dashboard(big_dsl_id), args.runs),
                timed("child's file", child, args.runs),
                timed("adviser inbox", inbox(20), args.runs),
                timed("adviser inbox, all answered shown", inbox(None), args.runs),
                timed("name search (2 searches)", search, args.runs)]
        out["reads"] = rows

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
