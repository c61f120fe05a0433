"""How much of the child's file and the dashboard is decryption, at 1,000,000 incidents (issue 15).

Not a test: run by hand from the tree to measure, on a generated instance (reads only: no
sign-in, nothing written). Builds the typical school's longest child's file and its DSL's
dashboard through the services, as benchmarks/scale/measure.py does, each in a request context
with a fresh session (the key ring's cache warm, as in a running server), and prints the median
process CPU of each build and of the time spent in `Encrypted.__get__` within it (the timer's
own cost, about 1 microsecond a read, is included), with how many values were read and how
many of them decrypted.

    PORTAL_INSTANCE=... [PORTAL_DATABASE_URL=...] .venv/bin/python benchmarks/decrypt_share.py \
        $PORTAL_INSTANCE/logins.json [runs]
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the tree being measured (run from its root)

from sqlalchemy import func, select

from portal import access, create_app
from portal.models import ChildRecordEntry, User, db
from portal.models.base import Encrypted
from portal.services import child_file
from portal.services import incidents as svc


def main() -> None:
    data = json.loads(Path(sys.argv[1]).read_text())
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    spent: list[Any] = [0.0, 0, 0]
    get, decrypt_blob = Encrypted.__get__, Encrypted.decrypt_blob

    def timed_get(self: Encrypted[Any], obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        start = time.process_time()
        value = get(self, obj, owner)
        spent[0] += time.process_time() - start
        spent[1] += 1
        return value

    def counted_blob(self: Encrypted[Any], obj: Any, blob: bytes) -> bytes:
        spent[2] += 1
        return decrypt_blob(self, obj, blob)

    app = create_app()
    with app.app_context():
        dsl_id = next(uuid.UUID(x["id"]) for x in data["logins"]
                      if x["role"] == "dsl" and x["school_id"] != data["big_school"])
        dsl = db.session.get(User, dsl_id)
        assert dsl is not None
        child_id = db.session.execute(
            select(ChildRecordEntry.child_id, func.count())
            .where(ChildRecordEntry.school_id == dsl.school_id)
            .group_by(ChildRecordEntry.child_id).order_by(func.count().desc()).limit(1)).one()[0]
        db.session.remove()

        def file() -> Any:
            user = db.session.get(User, dsl_id)
            return child_file.build_child_file(user, access.get_child_or_404(user, child_id),
                                               newest_first=True)

        def board() -> Any:
            user = db.session.get(User, dsl_id)
            built = svc.dashboard(access.concern_visible_bound(user),
                                  access.incident_visible_bound(user), dt.datetime.now(dt.UTC))
            for row in built.open_incidents:
                str(row)
            return built

        Encrypted.__get__ = timed_get  # type: ignore[method-assign,assignment]
        Encrypted.decrypt_blob = counted_blob  # type: ignore[method-assign]
        for label, build in (("child's file", file), ("dashboard", board)):
            for _ in range(3):
                with app.test_request_context():
                    build()
                    db.session.remove()
            cpu, inside = [], []
            for _ in range(runs):
                spent[:] = [0.0, 0, 0]
                with app.test_request_context():
                    start = time.process_time()
                    build()
                    cpu.append(time.process_time() - start)
                    db.session.remove()
                inside.append(spent[0])
            print(f"{label:<14} build CPU p50 {statistics.median(cpu) * 1000:6.2f} ms; "
                  f"in Encrypted.__get__ p50 {statistics.median(inside) * 1000:5.2f} ms "
                  f"({spent[1]} reads, {spent[2]} decrypted)")


if __name__ == "__main__":
    main()
