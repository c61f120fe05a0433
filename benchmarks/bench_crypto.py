"""How fast is field encryption? Prints operations per second for portal.crypto.

    .venv/bin/python benchmarks/bench_crypto.py [--values 20000]

Uses a random in-memory master key and invented values; nothing is written to disk.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=20_000, help="values per measurement")
    parser.add_argument("--orgs", type=int, default=50, help="organisations (one key each)")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
