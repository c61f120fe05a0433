"""At most `max_concurrent` Argon2 computations at once per process (issue 11: 64 MiB each)."""

from __future__ import annotations

import threading
import time

from portal import passwords as passwords_module
from portal.passwords import Passwords


def test_concurrent_hashing_is_capped(monkeypatch):
    hasher = Passwords(time_cost=1, memory_kib=8, max_concurrent=2)
    stored = hasher.hash("correct horse battery")
    running = 0
    peak = 0
    lock = threading.Lock()
    inner = hasher._hasher

    class Slow:
        def verify(self, h, p):
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return inner.verify(h, p)

    monkeypatch.setattr(hasher, "_hasher", Slow())
    threads = [threading.Thread(target=hasher.verify, args=(stored, "correct horse battery"))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2
    assert passwords_module.Passwords(max_concurrent=0)._slots is not None  # at least one
