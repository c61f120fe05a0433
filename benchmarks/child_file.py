"""A flooded child's file (issue 11, item 7): the time and size of its page at 2,000 lines.

Not a test: run by hand on an otherwise idle machine,

    .venv/bin/python benchmarks/child_file.py                  # 2,000 lines, SQLite, 20 runs
    .venv/bin/python benchmarks/child_file.py --lines 5000 --postgres postgresql+psycopg://...

It builds one school, a DSL and a child whose chronology has `--lines` lines (tests/floodfile.py:
concerns, each with its chronology note, and standalone notes), signs the DSL in, then times
GET /children/<id> (page 1, newest first), page 2, and the last page, and prints the median and
worst time (and the CPU time the process spent, a steadier figure on a shared machine, but it
leaves out PostgreSQL's own work), the size in bytes and the SQL statements of each. The goals:
under 100 ms and 100 KB a page. Exit status 0 when both are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, event

from portal import create_app
from portal import db as database
from portal.models import db
from tests import factories
from tests.conftest import make_test_config
from tests.floodfile import add_lines
from tests.web.conftest import sign_in

TIME_GOAL_MS = 100.0


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def add(self, *_: object) -> None:
        self.n += 1
SIZE_GOAL = 100 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.db"
        engine = create_engine(url)
        database.upgrade(engine)
        engine.dispose()
        app = create_app(make_test_config(Path(tmp), url))
        with app.app_context():
            school = factories.school()
            dsl = factories.user("dsl", org=school)
            staff = factories.user("staff", org=school, display_name="Sam Staff")
            child = factories.child(school, given="Amira", family="Okonkwo")
            db.session.commit()
            started = time.perf_counter()
            add_lines(school, staff, child, args.lines)
            print(f"built {args.lines} lines in {time.perf_counter() - started:.1f} s")
            client = app.test_client()
            assert sign_in(client, dsl).status_code == 302
            pages = -(-args.lines // 50)
            ok = True
            for label, path in (("page 1", ""), ("page 2", "?page=2"),
                                (f"page {pages}", f"?page={pages}")):
                url_path = f"/children/{child.id}{path}"
                client.get(url_path)  # warm: key caches, templates
                times, cpu = [], []
                statements = Counter()
                count = statements.add
                size = 0
                for _ in range(args.runs):
                    statements.n = 0
                    event.listen(db.engine, "before_cursor_execute", count)
                    t0, c0 = time.perf_counter(), time.process_time()
                    response = client.get(url_path)
                    times.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
                    event.remove(db.engine, "before_cursor_execute", count)
                    assert response.status_code == 200
                    size = len(response.get_data())
                median = statistics.median(times)
                print(f"{label}: median {median:.1f} ms, worst {max(times):.1f} ms "
                      f"(CPU of this process: median {statistics.median(cpu):.1f} ms), "
                      f"{size:,} bytes, {statements.n} SQL statements")
                ok = ok and median < TIME_GOAL_MS and size < SIZE_GOAL
            db.session.remove()
            db.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
