"""The fixed cost every page pays, in rounds (issue 15): CPU per request of /home (a DSL signed
in: the session row, Flask-Login, the header, the sign-out form's token), the sign-in page for a
returning visitor (cookie kept) and for a first visit (no cookie: a new session and its signed
cookie), and the dashboard, through Flask's test client on a bench_pages.py instance.

    PORTAL_INSTANCE=DIR ACCT=-4 .venv/bin/python benchmarks/fixed_cost.py [--rounds 15]

Run from the root of the tree to measure. To compare two trees on a shared machine, run one
from each root at the same time (each with its own DSL: ACCT indexes targets.json's DSLs, and a
TOTP code is accepted once per account): both then see the same load. Each page is timed in
rounds of 100 requests (20 for the dashboard) with `time.process_time()`; the minimum and the
25th percentile of the rounds are the steady figures, the median moves with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path.cwd()))  # the tree being measured (run from its root)

import pyotp

from portal import create_app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    inst = Path(os.environ["PORTAL_INSTANCE"])
    targets = json.loads((inst / "targets.json").read_text())
    app = create_app()
    token = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
    acct = targets["dsl"][int(os.environ.get("ACCT", "-1"))]
    client = app.test_client()
    page = client.get("/sign-in").text
    r = client.post("/sign-in", data={"csrf_token": token.search(page).group(1),  # type: ignore[union-attr]
                                      "email": acct["email"], "password": acct["password"]},
                    follow_redirects=True)
    if acct.get("totp_secret"):
        client.post("/sign-in/code", data={
            "csrf_token": token.search(r.text).group(1),  # type: ignore[union-attr]
            "code": pyotp.TOTP(acct["totp_secret"]).now()}, follow_redirects=True)
    assert client.get("/home").status_code == 200, "the DSL did not sign in"
    visitor = app.test_client()
    pages: dict[str, tuple[Callable[[], Any], int]] = {
        "home (DSL)": (lambda: client.get("/home"), 100),
        "sign-in (kept cookie)": (lambda: visitor.get("/sign-in"), 100),
        "sign-in (first visit)": (lambda: app.test_client().get("/sign-in"), 100),
        "dashboard": (lambda: client.get("/dashboard"), 20),
    }
    for get, _ in pages.values():
        for _ in range(20):
            assert get().status_code == 200
    rounds: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(args.rounds):
        for name, (get, n) in pages.items():
            started = time.process_time()
            for _ in range(n):
                get()
            rounds[name].append((time.process_time() - started) * 1000 / n)
    print(Path.cwd())
    for name, times in rounds.items():
        times.sort()
        print(f"  {name:24s} min {times[0]:.3f}  p25 {times[len(times) // 4]:.3f}  "
              f"median {statistics.median(times):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
