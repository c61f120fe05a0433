"""Server CPU per page, side by side with a bare Flask page (issue 15): `make bench-pages`.

    .venv/bin/python benchmarks/load/bench_pages.py [--instance DIR] [--incidents 50000]
        [--seconds 8] [--connections 8] [--out FILE.md]

1. An instance with generated data (benchmarks/scale/generate.py: --incidents incidents in
   --schools schools, alert email off), made in a temporary directory unless --instance names
   one that already has its logins.json; targets.py picks the accounts and records.
2. In this process (Flask's test client, the same instance): each account signs in through the
   real forms, then for each page one request counts the SQL statements (and the exact repeats:
   the same statement with the same parameters again in the request), and a pyinstrument run
   of --profile requests splits the CPU into queries (the database driver and SQLAlchemy Core
   executing), ORM, templates (Jinja, GOV.UK macros, WTForms, markupsafe), decryption
   (portal.crypto and cryptography), session (the session row, Flask-Login, the cookie), audit
   (portal.audit) and the rest (Flask, the views, the rules). A frame counts under session,
   audit or decryption when it runs inside them (the session's own query is session time).
   pyinstrument samples wall time: each category's share of the samples is scaled to the CPU
   time of the same requests run without the profiler (so the breakdown adds up to that).
3. gunicorn as docs/deploy.md runs it (deploy/gunicorn.conf.py: 2 workers x 4 threads; only
   the port, and `--max-requests 0` so no worker is recycled mid-measure) serves the portal,
   and the same gunicorn settings serve benchmarks/load/bare_app.py (a page of the dashboard's
   size). wrk (installed from Debian if missing) drives each page with the signed-in cookie for
   --seconds after a 2-second warm-up, a new connection for each request (`Connection: close`),
   as nginx sends them in docs/deploy.md (no upstream keep-alive); server CPU per request is
   the workers' CPU time
   (/proc/PID/stat, user + system) between two quiet moments (before wrk starts, and once the
   workers have finished every request wrk sent) divided by the requests gunicorn logged in
   between (its access log, kept in the instance's bench-logs/). Each page's row also says
   how that CPU was shared by the two workers ("busiest worker": 50% is an even split).
   Why a connection per request: with wrk's 8 connections kept alive, each stays with the
   worker that accepted it, and all 8 were seen on one worker (measured 1 December 2026: one
   worker at 100% of a core and the other idle for the child's file, the concern form, the
   inbox, sign-in and the bare page, both busy for the others), so the pages' throughputs and
   their ratios to the bare page swung by half from run to run. `--keep-alive` measures that
   way still.

Prints one Markdown table (and writes it to --out): CPU ms per request under wrk, statements,
throughput and its ratio to the bare page's, and the profiler's breakdown in ms per request.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
# page name, role (None: signed out), path
PAGES: list[tuple[str, str | None, str]] = [
    ("dashboard", "dsl", "/dashboard"),
    ("incident", "dsl", "/incidents/{incident}"),
    ("child's file", "dsl", "/children/{child}"),
    ("concern form", "staff", "/concerns/new"),
    ("adviser inbox", "la_adviser", "/referrals"),
    ("sign-in", None, "/sign-in"),
    # The least a signed-in page costs (the session's row, the layout, Flask): no goal of its
    # own, the floor the data pages' goals are judged beside.
    ("home (signed in, no data)", "dsl", "/home"),
]
GOALS = {"dashboard": 6.0, "incident": 6.0, "child's file": 6.0, "adviser inbox": 6.0,
         "concern form": 3.0, "sign-in": 1.5}
CATEGORIES = ["queries", "ORM", "templates", "decryption", "session", "audit", "other"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_tools() -> None:
    if shutil.which("wrk") is None:
        log("wrk missing: installing Debian's package")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "install", "-y", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        log("pyinstrument missing: installing it into the virtual environment (not a project "
            "requirement)")
        subprocess.run([PY, "-m", "pip", "install", "-q", "pyinstrument"], check=True)


def make_instance(args: argparse.Namespace) -> Path:
    inst = args.instance or Path(tempfile.mkdtemp(prefix="bench_pages_"))
    inst.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PORTAL_INSTANCE": str(inst)}
    logins = inst / "logins.json"
    if not logins.exists():
        log(f"generating {args.incidents:,} incidents in {args.schools} schools in {inst}")
        subprocess.run([PY, "-m", "portal.keys", "init"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([PY, "-m", "flask", "--app", "wsgi", "init-db"], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([PY, "benchmarks/scale/generate.py", "--incidents", str(args.incidents),
                        "--schools", str(args.schools), "--big-school", "1000",
                        "--logins", str(logins)], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    config = inst / "config.json"
    settings = json.loads(config.read_text()) if config.exists() else {}
    settings["mail_enabled"] = False
    config.write_text(json.dumps(settings))
    targets = inst / "targets.json"
    if not targets.exists():
        subprocess.run([PY, "benchmarks/load/targets.py", str(logins), str(targets)], cwd=ROOT,
                       env=env, check=True, stdout=subprocess.DEVNULL)
    return inst


# Flask-Login's `login_required` wraps a whole view: its frame is the view's, not the
# session's (the dashboard's every sample was counted as "session" once it had the decorator).
_VIEW_WRAPPER = "flask_login/utils.py:decorated_view"


def category(frames: list[str]) -> str:
    """frames: "file:function" from the outermost to this frame."""
    for f in frames:
        if f.endswith(_VIEW_WRAPPER):
            continue
        if "portal/auth/sessions.py" in f or "flask_login" in f or "flask/sessions.py" in f \
                or "itsdangerous" in f:
            return "session"
    for f in frames:
        if "portal/audit.py" in f:
            return "audit"
    for f in frames:
        if "portal/crypto/" in f or "/cryptography/" in f:
            return "decryption"
    for f in reversed(frames):
        if re.search(r"sqlalchemy/(engine|dialects|pool|sql)/|sqlite3|psycopg", f):
            return "queries"
        if "sqlalchemy/orm" in f or "flask_sqlalchemy" in f or "sqlalchemy/" in f:
            return "ORM"
        if re.search(r"jinja2|/templates/|govuk_frontend|markupsafe|wtforms|govuk_widgets", f):
            return "templates"
    return "other"


def breakdown(session: Any, cpu_ms: float) -> dict[str, float]:
    """CPU ms per request by category: shares of the samples times `cpu_ms`."""
    totals: Counter[str] = Counter()

    def walk(frame: Any, path: list[str]) -> None:
        here = [*path, f"{frame.file_path or ''}:{frame.function or ''}"]
        totals[category(here)] += frame.time - sum(child.time for child in frame.children)
        for child in frame.children:
            walk(child, here)

    root = session.root_frame()
    if root is not None:
        walk(root, [])
    # pyinstrument samples wall time: each category's share of the samples, scaled to the CPU
    # time of the same requests unprofiled (a loaded machine stretches wall time, not the shares
    # much, and the sampling itself costs CPU).
    sampled = sum(totals.values()) or 1.0
    return {c: totals[c] / sampled * cpu_ms for c in CATEGORIES}


def in_process(inst: Path, args: argparse.Namespace
               ) -> tuple[dict[str, dict[str, Any]], dict[str, str], int]:
    """Statements and the profiler's breakdown per page; the cookies; the dashboard's size."""
    os.environ["PORTAL_INSTANCE"] = str(inst)
    sys.path.insert(0, str(ROOT))
    import pyotp
    from pyinstrument import Profiler
    from sqlalchemy import event

    from portal import create_app
    from portal.models import db

    targets = json.loads((inst / "targets.json").read_text())
    app = create_app()
    token = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
    results: dict[str, dict[str, Any]] = {}
    cookies: dict[str, str] = {}
    clients: dict[str | None, Any] = {None: app.test_client()}
    accounts: dict[str, dict[str, Any]] = {}
    for role in ("dsl", "staff", "la_adviser"):
        acct = accounts[role] = targets[role][-1]
        c = app.test_client()
        page = c.get("/sign-in").text
        r = c.post("/sign-in", data={"csrf_token": token.search(page).group(1),
                                     "email": acct["email"], "password": acct["password"]},
                   follow_redirects=True)
        while acct.get("totp_secret"):
            r = c.post("/sign-in/code", data={"csrf_token": token.search(r.text).group(1),
                                              "code": pyotp.TOTP(acct["totp_secret"]).now()},
                       follow_redirects=True)
            if r.request.path != "/sign-in/code":
                break
            # A code is accepted once: a run straight after another (or a sign-in of the
            # same account) waits for the next (each try refused counts towards the lock).
            time.sleep(31 - time.time() % 30)
        cookie = c.get_cookie("portal_session")
        assert cookie is not None, f"{role} did not sign in"
        cookies[role] = cookie.value
        clients[role] = c
    statements: list[tuple[str, str]] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda _c, _cur, sql, params, _ctx, _many: statements.append(
                         (sql, repr(params))))
    size = 0
    for name, role, raw in PAGES:
        acct = accounts.get(role or "", {})
        path = raw.format(incident=(acct.get("incidents") or [""])[0],
                          child=(acct.get("children") or [""])[0])
        c = clients[role]
        for _ in range(5):
            response = c.get(path)
            assert response.status_code == 200, (name, path, response.status_code)
        if name == "dashboard":
            size = len(response.data)
        statements.clear()
        c.get(path)
        count = len(statements)
        repeats = sum(n - 1 for n in Counter(statements).values())
        n = args.profile
        cpu = time.process_time()
        for _ in range(n):
            c.get(path)
        cpu = (time.process_time() - cpu) * 1000 / n
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(n):
            c.get(path)
        session = profiler.stop()
        results[name] = {"path": path, "role": role, "statements": count,
                         "repeats": repeats, "test_client_cpu_ms": cpu,
                         "breakdown": breakdown(session, cpu)}
        log(f"{name}: {count} statements ({repeats} repeated), "
            f"{cpu:.2f} ms CPU in process")
    return results, cookies, size


def workers_cpu(master: int) -> dict[str, float]:
    """Seconds of CPU (user + system) of each of the master's children, by process id."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {}
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


def worker_cpu(master: int) -> float:
    """Seconds of CPU (user + system) of the master's children."""
    return sum(workers_cpu(master).values())


def wrk(port: int, path: str, cookie: str | None, seconds: int,
        connections: int, keep_alive: bool = False) -> dict[str, float]:
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency",
           "--timeout", "30s"]
    if not keep_alive:
        cmd += ["-H", "Connection: close"]
    if cookie:
        cmd += ["-H", f"Cookie: portal_session={cookie}"]
    out = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], check=True,
                         capture_output=True, text=True).stdout
    done = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"requests": float(done.group(1)) if done else 0.0,
            "rps": float(rate.group(1)) if rate else 0.0,
            "non_2xx": float(bad.group(1)) if bad else 0.0,
            "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else 0.0}


def serve(args: list[str], port: int, env: dict[str, str],
          log_path: Path) -> subprocess.Popen[bytes]:
    access = log_path.with_suffix(".access")
    access.write_text("")
    proc = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "-b",
         f"127.0.0.1:{port}", "--max-requests", "0", "--access-logfile", str(access), *args],
        cwd=ROOT, env=env,
        stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(100):
        time.sleep(0.2)
        try:
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        except FileNotFoundError:
            children = []
        if len(children) >= 2 and subprocess.run(
                ["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"]).returncode == 0:
            return proc
    raise RuntimeError(f"gunicorn did not start on {port}: see {log_path}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def quiet(master: int) -> float:
    """Waits until the workers have finished what they were sent (their CPU time stops
    moving); returns that CPU time."""
    last = worker_cpu(master)
    for _ in range(200):
        time.sleep(0.3)
        now = worker_cpu(master)
        if now == last:
            return now
        last = now
    return last


def served(access_log: Path) -> int:
    with access_log.open("rb") as f:
        return sum(1 for _ in f)


def app_cpu(master: int, directory: Path) -> dict[str, float]:
    """The totals app_cpu_wsgi.py's workers last wrote (after they have had time to write)."""
    time.sleep(0.6)
    out = {"requests": 0.0, "app_s": 0.0, "gc_s": 0.0}
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        found = directory / f"app_cpu_{pid}.json"
        if found.exists():
            for key, value in json.loads(found.read_text()).items():
                out[key] += float(value)
    return out


def measure(port: int, proc: subprocess.Popen[bytes], access_log: Path, path: str,
            cookie: str | None, args: argparse.Namespace) -> dict[str, float]:
    """Server CPU per request between two quiet points, over the requests gunicorn logged
    (so requests still running when wrk stops are counted, and none from the warm-up); with
    --app-cpu, also the part of it spent inside the app and in the garbage collector."""
    wrk(port, path, cookie, 2, args.connections, args.keep_alive)  # warm-up: templates, keys
    before, count = quiet(proc.pid), served(access_log)
    each_before = workers_cpu(proc.pid)
    meter = access_log.parent if args.app_cpu else None
    app_before = app_cpu(proc.pid, meter) if meter else None
    got = wrk(port, path, cookie, args.seconds, args.connections, args.keep_alive)
    after, done = quiet(proc.pid), served(access_log) - count
    got["served"] = float(done)
    each = [cpu - each_before.get(pid, 0.0) for pid, cpu in workers_cpu(proc.pid).items()]
    got["busiest_share"] = max(each) / max(sum(each), 1e-9)
    got["cpu_ms"] = (after - before) * 1000 / max(done, 1)
    if meter and app_before is not None:
        app_after = app_cpu(proc.pid, meter)
        metered = max(app_after["requests"] - app_before["requests"], 1.0)
        got["app_ms"] = (app_after["app_s"] - app_before["app_s"]) * 1000 / metered
        got["gc_ms"] = (app_after["gc_s"] - app_before["gc_s"]) * 1000 / metered
    return got


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--instance", type=Path, help="reuse (or make) this instance directory")
    p.add_argument("--incidents", type=int, default=50_000)
    p.add_argument("--schools", type=int, default=50)
    p.add_argument("--seconds", type=int, default=8, help="wrk's measured run per page")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (8 = 2 x 4 threads)")
    p.add_argument("--profile", type=int, default=100, help="requests per page profiled")
    p.add_argument("--port", type=int, default=8111)
    p.add_argument("--keep-alive", action="store_true",
                   help="keep wrk's connections open (each stays on one worker)")
    p.add_argument("--out", type=Path, help="also write the table here")
    p.add_argument("--pages", help="only these pages, comma-separated ('sign-in,concern form')")
    p.add_argument("--no-server", action="store_true",
                   help="only the in-process part (statements, profile)")
    p.add_argument("--app-cpu", action="store_true",
                   help="serve the portal through load/app_cpu_wsgi.py and split each page's "
                        "server CPU into the time inside the app and the rest (gunicorn)")
    args = p.parse_args()
    if args.pages:
        wanted = set(args.pages.split(","))
        PAGES[:] = [page for page in PAGES if page[0] in wanted or page[0] == "dashboard"]
    started = time.time()
    ensure_tools()
    inst = make_instance(args)
    results, cookies, size = in_process(inst, args)
    if args.no_server:
        for name, r in results.items():
            print(name, f"{r['test_client_cpu_ms']:.2f} ms;",
                  ", ".join(f"{c} {v:.2f}" for c, v in r["breakdown"].items()))
        return 0
    env = {**os.environ, "PORTAL_INSTANCE": str(inst)}
    logs = inst / "bench-logs"
    logs.mkdir(exist_ok=True)

    portal_app = (["--pythonpath", "benchmarks/load", "app_cpu_wsgi:app"] if args.app_cpu
                  else ["wsgi:app"])
    portal = serve(portal_app, args.port, {**env, "APP_CPU_DIR": str(logs)},
                   logs / "portal-gunicorn.log")
    try:
        for name, role, _raw in PAGES:
            results[name]["wrk"] = measure(args.port, portal, logs / "portal-gunicorn.access",
                                           results[name]["path"], cookies.get(role or ""), args)
            w = results[name]["wrk"]
            log(f"{name}: {w['cpu_ms']:.2f} ms CPU a request over {w['served']:.0f}, "
                f"{w['rps']:.0f} req/s under wrk, {w['busiest_share']:.0%} on the busiest worker"
                + (f"; in the app {w['app_ms']:.2f} ms (garbage collector {w['gc_ms']:.3f}), "
                   f"around it {w['cpu_ms'] - w['app_ms']:.2f}" if "app_ms" in w else ""))
    finally:
        stop(portal)
    bare = serve(["--chdir", "benchmarks/load", "bare_app:app"], args.port + 1,
                 {**env, "BARE_BYTES": str(size)}, logs / "bare-gunicorn.log")
    try:
        bare_w = measure(args.port + 1, bare, logs / "bare-gunicorn.access", "/", None, args)
    finally:
        stop(bare)
    log(f"bare page ({size:,} bytes): {bare_w['cpu_ms']:.2f} ms CPU, {bare_w['rps']:.0f} req/s")

    head = ("| page | server CPU ms | goal | SQL statements (exact repeats) | req/s "
            "| ratio to bare | p99 ms | busiest worker | " + " | ".join(CATEGORIES) + " |")
    lines = [head, "|" + "---|" + "---:|" * (head.count("|") - 2)]
    for name, _role, _raw in PAGES:
        r = results[name]
        w = r["wrk"]
        b = r["breakdown"]
        lines.append(
            f"| {name} | {w['cpu_ms']:.2f} | {format(GOALS[name], 'g') if name in GOALS else ''} "
            f"| {r['statements']} ({r['repeats']}) "
            f"| {w['rps']:.0f} | {w['rps'] / bare_w['rps']:.3f} | {w['p99_ms']:.0f} "
            f"| {w['busiest_share']:.0%} | "
            + " | ".join(f"{b[c]:.2f}" for c in CATEGORIES) + " |"
            + (f" {int(w['non_2xx'])} non-2xx!" if w["non_2xx"] else "")
            + (f" in the app {w['app_ms']:.2f} (gc {w['gc_ms']:.3f}), around it "
               f"{w['cpu_ms'] - w['app_ms']:.2f}" if "app_ms" in w else ""))
    lines.append(f"| bare Flask page ({size:,} bytes) | {bare_w['cpu_ms']:.2f} | | 0 | "
                 f"{bare_w['rps']:.0f} | 1 | {bare_w['p99_ms']:.0f} | "
                 f"{bare_w['busiest_share']:.0%} |" + " |" * len(CATEGORIES))
    table = "\n".join(lines)
    note = (f"\nwrk -t1 -c{args.connections}, {args.seconds} s a page, "
            + ("connections kept alive" if args.keep_alive else "a connection per request")
            + "; gunicorn "
            f"-c deploy/gunicorn.conf.py --max-requests 0; breakdown: pyinstrument, "
            f"{args.profile} requests a page through the test client, each category's share of "
            f"the samples times the CPU ms of those requests unprofiled; instance {inst}; "
            f"{time.time() - started:.0f} s in all.")
    print(table + "\n" + note)
    if args.out:
        args.out.write_text(table + "\n" + note + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
