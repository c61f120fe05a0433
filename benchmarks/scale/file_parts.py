"""Where the child's file spends its CPU on a generated data set, step by step (issue 15).

Not a test: run by hand, from the root of the tree being measured. Signs in the typical
school's DSL (logins.json), opens that school's longest child's file (the `CHILD` of
pyinstrument's page script) 5 times, freezes the garbage collector as wsgi.py does, then times
40 requests: the mean process CPU a request, and of each step of the file's builder
(`portal/services/child_file.py`) and of rendering, in ms a request (means, so steps add up). Steps
nest: `named_in` is inside `_record_events` and `_entry_events`, all inside `build_child_file`;
`file_panels` (the moves panel) and `record_view` (the audit event) are the view's.

Each GET records an audit event (as any page view does); nothing else is written.

    PORTAL_INSTANCE=/work/bench-data/sqlite1m .venv/bin/python benchmarks/scale/file_parts.py \
        --logins $PORTAL_INSTANCE/logins.json [--runs 40]
"""

from __future__ import annotations

import argparse
import collections
import gc
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the tree being measured (run from its root)

from sqlalchemy import func, select

import portal.children.views as views
from portal import create_app
from portal.models import ChildRecordEntry, User, db
from portal.services import child_file, transfer
from tests.web.conftest import sign_in

SPENT: dict[str, float] = collections.defaultdict(float)


def _timed(owner: Any, name: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            SPENT[name] += time.process_time() - started

    setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", required=True)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    data = json.loads(Path(args.logins).read_text())
    for name in ("timeline", "_page_keys", "_load", "_record_events", "_entry_events",
                 "named_in"):
        _timed(child_file._Builder, name)
    _timed(child_file, "build_child_file")
    _timed(transfer, "file_panels")  # the file's moves panel
    _timed(child_file, "record_view")  # the audit event
    _timed(views, "render_template")
    app = create_app()
    with app.app_context():
        login = next(x for x in data["logins"]
                     if x["role"] == "dsl" and x.get("school_id") != data["big_school"])
        user = db.session.get(User, uuid.UUID(login["id"]))
        client = app.test_client()
        assert sign_in(client, user, login["password"]).status_code == 302
        school = uuid.UUID(login["school_id"])
        child_id = db.session.execute(
            select(ChildRecordEntry.child_id, func.count())
            .where(ChildRecordEntry.school_id == school)
            .group_by(ChildRecordEntry.child_id).order_by(func.count().desc()).limit(1)
        ).first()[0]  # type: ignore[index]
        db.session.remove()
        url = f"/children/{child_id}"
        for _ in range(5):
            assert client.get(url).status_code == 200
        gc.collect()
        gc.freeze()
        SPENT.clear()
        total = 0.0
        for _ in range(args.runs):
            started = time.process_time()
            client.get(url)
            total += time.process_time() - started
        print(f"request {total / args.runs * 1e3:.2f} ms:", ", ".join(
            f"{name} {spent / args.runs * 1e3:.2f}" for name, spent in SPENT.items()))


if __name__ == "__main__":
    main()
