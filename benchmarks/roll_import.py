"""The school roll (issue 13, item 2): preview and import of a 3,000-pupil file.

Not a test: run by hand on an otherwise idle machine,

    .venv/bin/python benchmarks/roll_import.py                 # 3,000 pupils, SQLite
    .venv/bin/python benchmarks/roll_import.py --pupils 3000 --postgres postgresql+psycopg://...

It builds one school and a DSL, makes an invented roll (tests/roll_data.py: two parents or
carers for two pupils in three), then times, through the real pages: the upload and preview of
the file (all new), the import (inline, as the background thread does it), the preview of the
same file again (all unchanged) and its import (nothing written). Goals: a preview under 5 s and
an import under 60 s at 3,000 pupils. Exit status 0 when met, 1 otherwise. Each import also
prints its SQL statements per pupil, the commonest by kind and table (an executemany is one).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collections import Counter

from sqlalchemy import create_engine, event

from portal import create_app
from portal import db as database
from portal.models import db
from tests import factories
from tests.conftest import make_test_config
from tests.roll_data import roll, to_csv
from tests.web.conftest import csrf_from, sign_in

PREVIEW_GOAL_S = 5.0
IMPORT_GOAL_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=3000)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.db"
        engine = create_engine(url)
        database.upgrade(engine)
        engine.dispose()
        app = create_app(make_test_config(Path(tmp), url, roll_import_inline=True))
        with app.app_context():
            school = factories.school()
            dsl = factories.user("dsl", org=school)
            db.session.commit()
            client = app.test_client()
            assert sign_in(client, dsl).status_code == 302
            statements: Counter[str] = Counter()

            def count(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
                words = sql.split()
                table = next((w for w, before in zip(words[1:], words, strict=False)
                              if before.upper() in ("INTO", "UPDATE", "FROM")), "")
                statements[f"{words[0].upper()} {table.strip(chr(34))}"] += 1

            event.listen(db.engine, "before_cursor_execute", count)
            data = to_csv(roll(args.pupils))
            print(f"file: {args.pupils} pupils, {len(data):,} bytes")
            for label in ("first import", "same file again"):
                page = client.get("/roll")
                t0 = time.perf_counter()
                sent = client.post("/roll", data={"csrf_token": csrf_from(page),
                                                  "file": (io.BytesIO(data), "roll.csv")},
                                   content_type="multipart/form-data")
                assert sent.status_code == 302, sent.status_code
                preview = client.get(sent.headers["Location"])
                preview_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                statements.clear()
                done = client.post(sent.headers["Location"] + "/confirm",
                                   data={"csrf_token": csrf_from(preview)})
                import_s = time.perf_counter() - t0
                assert done.status_code == 302
                print(f"{label}: upload and preview {preview_s:.1f} s, import {import_s:.1f} s, "
                      f"{sum(statements.values()) / args.pupils:.1f} statements a pupil ("
                      + ", ".join(f"{kind} {n / args.pupils:.2f}"
                                  for kind, n in statements.most_common(12)) + ")")
                ok = ok and preview_s < PREVIEW_GOAL_S and import_s < IMPORT_GOAL_S
            db.session.remove()
            db.engine.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
