"""Pick the load test's accounts and the records each may open (writes a JSON for locustfile.py).

    PORTAL_INSTANCE=... .venv/bin/python benchmarks/load/targets.py LOGINS.json OUT.json \
        [--dsls 10 --staff 6 --advisers 4]

Accounts come from benchmarks/scale/generate.py's logins file (one account per simulated user:
a TOTP code can be used once only, so users never share an account). Each DSL gets 30 of their
school's incidents (the open ones first, then the most recent) and 30 children with entries;
each member of staff 30 children of their school.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select

from portal import create_app
from portal.models import Child, ChildRecordEntry, Incident, db


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("logins", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--dsls", type=int, default=10)
    p.add_argument("--staff", type=int, default=6)
    p.add_argument("--advisers", type=int, default=4)
    args = p.parse_args()
    data = json.loads(args.logins.read_text())
    big = data["big_school"]
    logins = [x for x in data["logins"] if x["school_id"] != big]
    dsls = [x for x in logins if x["role"] == "dsl"][: args.dsls]
    staff = [x for x in logins if x["role"] == "staff"][-args.staff:]  # other schools
    seen_la: set[str] = set()
    advisers = []
    for x in logins:
        if x["role"] == "la_adviser" and x["la_id"] not in seen_la:
            seen_la.add(x["la_id"])
            advisers.append(x)
    advisers = advisers[: args.advisers]
    app = create_app()
    with app.app_context():
        for x in dsls:
            sid = uuid.UUID(x["school_id"])
            x["incidents"] = [str(i) for i in db.session.scalars(
                select(Incident.id).where(Incident.school_id == sid)
                .order_by(Incident.state.desc(), Incident.opened_at.desc()).limit(30))]
            x["children"] = [str(i) for i in db.session.scalars(
                select(ChildRecordEntry.child_id).where(ChildRecordEntry.school_id == sid)
                .distinct().limit(30))]
        for x in staff:
            sid = uuid.UUID(x["school_id"])
            x["children"] = [str(i) for i in db.session.scalars(
                select(Child.id).where(Child.school_id == sid).limit(30))]
    args.out.write_text(json.dumps({"dsl": dsls, "staff": staff, "la_adviser": advisers},
                                   indent=1))
    print(f"{len(dsls)} DSLs, {len(staff)} staff, {len(advisers)} advisers -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
