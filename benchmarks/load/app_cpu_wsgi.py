"""The portal's WSGI app (wsgi.py) with a meter: `bench_pages.py --app-cpu` serves this instead.

Each worker adds up the CPU time its threads spend inside the app (`time.thread_time()` around
the WSGI call: Flask, the views, rendering, the session; not gunicorn's parsing, access log and
writing) and in the garbage collector, and writes the totals every half second to
`$APP_CPU_DIR/app_cpu_<pid>.json`. The workers' whole CPU time minus the time in the app is
what serving costs around it. The meter itself costs about 2 µs a request.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import wsgi

OUT = Path(os.environ.get("APP_CPU_DIR", ".")) / f"app_cpu_{os.getpid()}.json"
totals: dict[str, Any] = {"requests": 0, "app_s": 0.0, "gc_s": 0.0}
_lock = threading.Lock()
_gc_started: dict[int, float] = {}


def _gc(phase: str, _info: dict[str, Any]) -> None:
    me = threading.get_ident()
    if phase == "start":
        _gc_started[me] = time.thread_time()
    elif me in _gc_started:
        spent = time.thread_time() - _gc_started.pop(me)
        with _lock:
            totals["gc_s"] += spent


gc.callbacks.append(_gc)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    started = time.thread_time()
    try:
        result: Iterable[bytes] = wsgi.app(environ, start_response)
        return result
    finally:
        spent = time.thread_time() - started
        with _lock:
            totals["app_s"] += spent
            totals["requests"] += 1


def _write() -> None:
    while True:
        time.sleep(0.5)
        with _lock:
            text = json.dumps(totals)
        # Written beside and moved in place: bench_pages.py never reads a half-written file
        # (seen once: an empty read, and the run lost).
        part = OUT.with_suffix(".part")
        part.write_text(text)
        os.replace(part, OUT)


threading.Thread(target=_write, daemon=True).start()

