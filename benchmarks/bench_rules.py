"""Throughput of the referral rules (portal.rules) on one core.

Builds a few thousand varied valid incidents from a seeded random generator, parses them once, then
times `assess()` for about --seconds and prints incidents per second (goal: more than 20,000/s).
It also times the full JSON round trip (`assess_json`: validate, assess, serialise).

    .venv/bin/python benchmarks/bench_rules.py [--count 4000] [--seconds 3] [--seed 2026]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.rules import (  # after the path set-up
    IncidentFacts,
    assess,
    assess_json,
    default_directory,
    parse_incident,
)
from portal.rules.vocabulary import FEATURES, ROLES, TYPES

GOAL_PER_SECOND = 20_000


def make_incident(rng: random.Random, authorities: list[str]) -> dict[str, Any]:
    occurred = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(730))
    reported = dt.datetime.combine(
        occurred + dt.timedelta(days=rng.randrange(10)),
        dt.time(rng.randrange(24), rng.randrange(60)),
    )
    children = []
    for index in range(rng.randint(1, 4)):
        dob = occurred - dt.timedelta(days=rng.randint(4 * 366, 17 * 365))
        children.append({
            "ref": f"C{index}",
            "role": rng.choice(ROLES),
            "dob": dob.isoformat(),
            "send": rng.random() < 0.15,
            "local_authority": rng.choice(authorities),
            "same_school": rng.random() < 0.8,
            "household": rng.choice([None, None, None, "h1", "h2"]),
        })
    return {
        "incident": {
            "occurred_on": occurred.isoformat(),
            "reported_at": reported.isoformat(timespec="minutes"),
            "online": rng.random() < 0.4,
            "types": rng.sample(sorted(TYPES), rng.randint(1, 3)),
            "sexual_activity": rng.random() < 0.3,
            "features": rng.sample(sorted(FEATURES), rng.randint(0, 4)),
            "immediate_danger": rng.random() < 0.05,
            "crime_suspected": rng.random() < 0.3,
            "arrested": rng.random() < 0.1,
        },
        "children": children,
        "adults_harmed": [{"at_risk": rng.random() < 0.3} for _ in range(rng.choice([0, 0, 0, 1]))],
    }


def rate(label: str, items: list[Any], work: Callable[[Any], object], seconds: float) -> float:
    for item in items[:200]:  # warm caches (directory, bank holidays)
        work(item)
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for item in items:
            work(item)
        done += len(items)
        now = time.perf_counter()
        if now >= deadline:
            break
    per_second = done / (now - start)
    print(f"{label:<34} {per_second:>12,.0f} incidents/s  ({done:,} in {now - start:.2f} s)")
    return per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000, help="incidents to build")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):  # one core, as the goal is stated
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = random.Random(args.seed)
    directory = default_directory()
    authorities = sorted(directory)
    raw = [make_incident(rng, authorities) for _ in range(args.count)]
    parsed: list[IncidentFacts] = [parse_incident(data, directory) for data in raw]
    print(f"{len(parsed):,} varied incidents (seed {args.seed}), one core, "
          f"Python {sys.version.split()[0]}")

    assess_rate = rate("assess() on parsed incidents", parsed,
                       lambda facts: assess(facts, directory), args.seconds)
    rate("assess_json() full JSON round trip", raw,
         lambda data: assess_json(data, directory), args.seconds)
    verdict = "meets" if assess_rate > GOAL_PER_SECOND else "MISSES"
    print(f"assess() {verdict} the goal of {GOAL_PER_SECOND:,} incidents/s")
    return 0 if assess_rate > GOAL_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
