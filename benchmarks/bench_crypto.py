"""How fast is field encryption? Prints operations per second for portal.crypto, then what
reading 1,000 encrypted model fields costs (`Encrypted.__get__`, as a page reads names).

    .venv/bin/python benchmarks/bench_crypto.py [--values 20000] [--fields 1000]
    .venv/bin/python benchmarks/bench_crypto.py --fields-only [--rounds 200]

Uses a random in-memory master key and invented values; nothing is written to disk.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from portal.crypto import (
    FieldContext,
    InMemoryKeyStore,
    KeyRing,
    LocalMasterKey,
)


def rate(label: str, n: int, fn: Callable[[int], object], unit: str = "ops") -> None:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {n / elapsed:>12,.0f} {unit}/s  ({elapsed * 1000:,.0f} ms for {n:,})")


def field_reads(fields: int, rounds: int) -> None:
    """Median CPU time to read `fields` encrypted fields through the model descriptor
    (`Encrypted.__get__`: context, header, key, AES-GCM, decoding), five fields a child as a
    page of names reads them, with the per-object cache emptied before each round. Once for
    values under each child's own key (the usual case), once for values from before per-child
    keys (still under the school's key, not yet moved by `flask rekey-children`)."""
    from flask import Flask

    from portal.crypto import FieldContext as Ctx
    from portal.models import Child

    ring = KeyRing(LocalMasterKey.generate(), InMemoryKeyStore())
    app = Flask("bench_crypto")
    app.extensions["keyring"] = ring
    school_id = uuid.uuid4()
    ring.ensure_org(str(school_id))
    names = ("given_name", "family_name", "preferred_name", "year_group", "dob")
    values: dict[str, object] = {"given_name": "Amira", "family_name": "Okonkwo",
                                 "preferred_name": "Mira", "year_group": "Year 7",
                                 "dob": dt.date(2014, 3, 9)}
    with app.app_context():
        moved = []
        for _ in range(fields // len(names)):
            child = Child(id=uuid.uuid4(), school_id=school_id)
            for name in names:
                setattr(child, name, values[name])
            moved.append(child)
        legacy = []
        for _ in range(fields // len(names)):
            child = Child(id=uuid.uuid4(), school_id=school_id)
            for name in names:
                raw = values[name]
                text = raw.isoformat() if isinstance(raw, dt.date) else str(raw)
                blob = ring.encrypt(Ctx(str(school_id), "children", name, str(child.id)), text)
                setattr(child, f"{name}_enc", blob)
            legacy.append(child)

        def timed(children: list[Child]) -> float:
            keys = [f"_decrypted_{name}" for name in names]
            times = []
            for _ in range(rounds):
                for child in children:
                    for key in keys:
                        child.__dict__.pop(key, None)
                start = time.process_time()
                for child in children:
                    for name in names:
                        getattr(child, name)
                times.append(time.process_time() - start)
            assert all(c.given_name == "Amira" for c in children)
            return statistics.median(times) * 1000

        for label, children in (("under the child's key", moved),
                                ("not yet moved (school's key)", legacy)):
            timed(children)  # warm-up
            total = len(children) * len(names)
            print(f"{f'read {total:,} fields, {label}':<52} {timed(children):>8.2f} ms "
                  f"CPU (median of {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=20_000, help="values per measurement")
    parser.add_argument("--orgs", type=int, default=50, help="organisations (one key each)")
    parser.add_argument("--fields", type=int, default=1_000, help="model fields read per round")
    parser.add_argument("--rounds", type=int, default=100, help="rounds of reading --fields")
    parser.add_argument("--fields-only", action="store_true", help="only the model fields")
    args = parser.parse_args()
    if args.fields_only:
        field_reads(args.fields, args.rounds)
        return
    n, orgs = args.values, [f"school-{100000 + i}" for i in range(args.orgs)]

    store = InMemoryKeyStore()
    master = LocalMasterKey.generate()
    ring = KeyRing(master, store)
    start = time.perf_counter()
    for org in orgs:
        ring.ensure_org(org)
    print(f"ensure_org: {len(orgs)} organisations in {(time.perf_counter() - start) * 1000:.1f} ms")

    name = "Amira Khan"
    narrative = "Invented narrative text for a benchmark. " * 25  # ~1 KB
    contexts = [FieldContext(orgs[i % len(orgs)], "child", "name", i) for i in range(n)]
    names = [b""] * n

    def enc_name(i: int) -> None:
        names[i] = ring.encrypt(contexts[i], name)

    rate("encrypt name (10 B)", n, enc_name)
    rate("decrypt name (warm key cache)", n, lambda i: ring.decrypt_text(contexts[i], names[i]))
    rate("encrypt narrative (1 KB)", n, lambda i: ring.encrypt(contexts[i], narrative))
    blobs = [ring.encrypt(c, narrative) for c in contexts]
    rate("decrypt narrative (1 KB)", n, lambda i: ring.decrypt(contexts[i], blobs[i]))

    def cold(i: int) -> None:
        # A new process: every organisation's key must be unwrapped once.
        if i % len(orgs) == 0:
            ring.clear_cache()
        ring.decrypt(contexts[i], names[i])

    rate("decrypt name (cold cache: unwrap every time)", n, cold)
    rate("blind index", n, lambda i: ring.blind_index(contexts[i].org_id, "child.name", name))

    data = os.urandom(8 * 1024 * 1024)
    attachment = FieldContext(orgs[0], "attachment", "content", 1)
    out = io.BytesIO()
    start = time.perf_counter()
    ring.encrypt_stream(attachment, io.BytesIO(data), out)
    enc_s = time.perf_counter() - start
    start = time.perf_counter()
    total = sum(len(c) for c in ring.decrypt_stream(attachment, io.BytesIO(out.getvalue())))
    dec_s = time.perf_counter() - start
    assert total == len(data)
    print(f"{'attachment 8 MiB encrypt / decrypt':<44} {8 / enc_s:>8,.0f} / {8 / dec_s:,.0f} MiB/s")

    new_master = LocalMasterKey.generate()
    start = time.perf_counter()
    count = ring.rewrap_all(new_master)
    print(f"rewrap_all: {count} keys in {(time.perf_counter() - start) * 1000:.1f} ms")
    field_reads(args.fields, args.rounds)


if __name__ == "__main__":
    main()
