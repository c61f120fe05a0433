"""How long a refused sign-in takes, by reason (issue 11: a locked account answered in 71 ms,
an unknown address in 1.1 s, a known one in 1.5 s, so accounts could be told apart).

Builds a throwaway instance (SQLite in a temporary folder) with the production Argon2 cost,
then posts the real sign-in form through Flask's test client, alternating the cases, and prints
the median and spread of each. The cases should be within a few per cent of each other: every
refusal verifies exactly one Argon2 hash (tests/web/test_sign_in_work.py counts them).

    .venv/bin/python benchmarks/bench_sign_in_timing.py            # --rounds 15
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine

from portal import create_app
from portal import db as database
from portal.crypto import new_master_key_b64

_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/portal.db"
        engine = create_engine(url)
        database.upgrade(engine)
        engine.dispose()
        app = create_app({
            "testing": True, "instance_path": f"{tmp}/instance", "database_url": url,
            "secret_key": "b" * 48, "master_key_b64": new_master_key_b64(),
            "mail_enabled": False, "login_rate_limit": "", "login_request_limit": "",
            "login_max_failures": 10**6,
        })
        with app.app_context():
            from portal.models import User, db
            from portal.services import accounts

            school = accounts.create_authority(code="bench-la", name="Bench LA",
                                               directory_entry=None, actor_id=None)
            s = accounts.create_school(name="Bench School", urn="999999",
                                       authority_id=school.id, actor_id=None)
            accounts.create_user(accounts.NewUser(
                email="known@example.test", display_name="Known", role="staff",
                school_id=s.id, password="the right password"), actor_id=None)
            locked, _ = accounts.create_user(accounts.NewUser(
                email="locked@example.test", display_name="Locked", role="staff",
                school_id=s.id, password="the right password"), actor_id=None)
            locked.locked_until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            db.session.commit()
            locked_id = locked.id
            cases = {"unknown": "nobody@example.test", "wrong password": "known@example.test",
                     "backing off": "locked@example.test"}
            times: dict[str, list[float]] = {name: [] for name in cases}
            client = app.test_client()
            for _ in range(args.rounds):
                for name, email in cases.items():
                    token = _CSRF.search(client.get("/sign-in").get_data(as_text=True))
                    assert token
                    start = time.perf_counter()
                    response = client.post("/sign-in", data={
                        "csrf_token": token.group(1), "email": email,
                        "password": "a wrong password"})
                    times[name].append(time.perf_counter() - start)
                    assert response.status_code == 200, response.status_code
                row = db.session.get(User, locked_id)
                row.locked_until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
                db.session.commit()
    for name, values in times.items():
        print(f"{name:15} median {statistics.median(values) * 1000:7.1f} ms  "
              f"min {min(values) * 1000:7.1f}  max {max(values) * 1000:7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
