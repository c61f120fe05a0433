"""Crash test: concerns submitted concurrently while gunicorn is SIGKILLed and restarted.

Not part of the test suite; run by hand (see benchmarks/README.md, "Crash test"):

    .venv/bin/python benchmarks/crash/crash_test.py --kills 200                      # SQLite
    .venv/bin/python benchmarks/crash/crash_test.py --kills 200 \\
        --database-url "$(scripts/postgres.sh start)"                                # PostgreSQL

What it does
    1. A throw-away instance (PORTAL_INSTANCE in a temp directory): keys, `flask init-db`, one
       school with one child and one staff user per client (staff need no second factor). Mail is
       switched off. With --database-url a fresh database `portal_crash_<run>` is created beside
       the given one (and dropped at the end unless --keep).
    2. gunicorn (`-w 2 -k gthread --threads 4`, as docs/deploy.md) on 127.0.0.1, in its own
       process group.
    3. Client threads, each signed in as its own staff user, loop: GET /concerns/new (token),
       sometimes "Save and continue later" (a draft holding the narrative), then "Send" with a
       unique canary narrative `crash-<run>-<client>-<seq>`. A submission is ACKNOWLEDGED only
       when the whole 302 response to /concerns/<uuid> arrived; a connection error, timeout or
       partial response makes it UNKNOWN (it may or may not have been committed). Sometimes the
       client then opens the concern page (a read that writes an audit event).
    4. The orchestrator waits until the portal answers, lets it serve for a random
       uniform(--min-ms, --max-ms) interval, SIGKILLs the whole process group, waits until every
       process of the group is gone, and starts it again. Clients carry on (signing in again
       when their session was lost).
    5. After the last kill, with the app context (server stopped):
       - every acknowledged narrative is present exactly once, in the concern the client was sent
         to, raised by that client's user, and decrypts to exactly the narrative ("lost" otherwise);
       - every concern row decrypts fully, has its ConcernChild link, its chronology entry and
         its CONCERN_SUBMITTED audit event; no ConcernChild without its concern; every concern
         found is either acknowledged or unknown (never one the client saw refused);
       - drafts: every draft decrypts; a sent draft is emptied and points at a concern of its
         user; at most one open draft per user; no open draft still holds the narrative of a
         committed concern (the submit and the draft update are one transaction);
       - `portal.audit.verify()` finds every chain intact;
       - SQLite: `PRAGMA integrity_check` is "ok" and `PRAGMA foreign_key_check` is empty.
    Prints a summary; exit 0 only if nothing was lost and every check passed. With --results it
    appends a section to benchmarks/RESULTS.md.

Note what is killed: the application server only. The database (SQLite file in WAL mode,
synchronous=FULL; or the PostgreSQL server) survives, so this proves that an acknowledged
commit is durable against the death of the portal's processes at any moment and that no
transaction is half-applied; it does not power-cut the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
PASSWORD = "crash-test-password-2026"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
CONCERN_RE = re.compile(r"^(?:https?://[^/]+)?/concerns/([0-9a-f-]{36})$")


# ---------------------------------------------------------------------------------------------
# Set-up


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_database(base_url: str, name: str) -> str:
    """Create database `name` on the server of `base_url`; its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(base_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


def prepare_instance(env: dict[str, str], clients: int) -> tuple[list[str], str]:
    """Keys, schema, a school with one child and `clients` staff users; (emails, child id)."""
    for cmd in ([str(VENV_BIN / "python"), "-m", "portal.keys", "init"],
                [str(VENV_BIN / "flask"), "--app", "wsgi", "init-db"]):
        subprocess.run(cmd, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    from portal import create_app
    from portal.models import db
    from tests import factories

    app = create_app()
    with app.app_context():
        school = factories.school("Crashtest Academy", "derbyshire", urn="990999")
        child = factories.child(school, "Canary", "Crashtest")
        factories.user("dsl", org=school, email="dsl@crash.example.test")  # alerted (mail off)
        emails = []
        for i in range(clients):
            user = factories.user("staff", org=school, email=f"staff{i}@crash.example.test",
                                  display_name=f"Crash staff {i}", password=PASSWORD)
            emails.append(user.email)
        db.session.commit()
        child_id = str(child.id)
        db.engine.dispose()
    return emails, child_id


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, env: dict[str, str], port: int, workers: int, log: Path,
                 preload: bool = False, threads: int = 4) -> None:
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.preload, self.threads = preload, threads
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "-w", str(self.workers),
                 *(["-k", "gthread", "--threads", str(self.threads)] if self.threads > 1 else []),
                 "-b", f"127.0.0.1:{self.port}", "--timeout", "30",
                 *(["--preload"] if self.preload else []), "wsgi:app"],
                cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches every worker
            )

    def wait_ready(self, timeout: float = 60.0) -> float:
        import requests

        started = time.monotonic()
        while time.monotonic() - started < timeout:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log}")
            try:
                r = requests.get(f"http://127.0.0.1:{self.port}/sign-in", timeout=2)
                if r.status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"gunicorn not ready after {timeout}s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL the whole process group, then wait until none of it is left."""
        assert self.proc is not None
        pgid = self.proc.pid  # start_new_session: the master leads its own group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.005)
        self.proc = None

    def stop_gracefully(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc = None


# ---------------------------------------------------------------------------------------------
# Clients


@dataclass
class Ledger:
    """What one client saw. Narrative -> concern id for acknowledged ones."""

    acked: dict[str, str] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)  # narrative -> what came back
    drafts_saved: int = 0
    sign_ins: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def _never_sent(exc: Exception) -> bool:
    """Whether the request failed while connecting (so the server never saw it)."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError) and "refused" in str(reason).lower()


class Client(threading.Thread):
    def __init__(self, index: int, run: str, base: str, email: str, child_id: str,
                 stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True, name=f"client-{index}")
        self.index, self.run_id, self.base, self.email = index, run, base, email
        self.child_id, self.stop = child_id, stop
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self.seq = 0
        self.session: requests.Session = requests.Session()
        self.signed_in = False
        self.token: str | None = None  # the form's CSRF token, reused while it is accepted

    # Each request: (connect, read) timeouts. A sync worker serves one request at a time, so a
    # request queued behind others can take a while; a timeout only ever makes it "unknown".
    TIMEOUT = (2.0, 20.0)

    def _new_session(self) -> None:
        import requests

        self.session = requests.Session()
        self.signed_in = False
        self.token = None

    def _sign_in(self) -> None:
        assert self.session is not None
        page = self.session.get(f"{self.base}/sign-in", timeout=self.TIMEOUT)
        token = CSRF_RE.search(page.text)
        if page.status_code != 200 or token is None:
            raise RuntimeError(f"sign-in page {page.status_code}")
        r = self.session.post(f"{self.base}/sign-in", data={
            "csrf_token": token.group(1), "email": self.email, "password": PASSWORD,
        }, allow_redirects=False, timeout=self.TIMEOUT)
        if r.status_code != 302 or "/sign-in" in r.headers.get("Location", ""):
            raise RuntimeError(f"sign-in gave {r.status_code} {r.headers.get('Location')}")
        self.ledger.sign_ins += 1
        self.signed_in = True

    def _form_token(self) -> str | None:
        """The concern page's CSRF token, or None when the session is gone."""
        assert self.session is not None
        page = self.session.get(f"{self.base}/concerns/new", allow_redirects=False,
                                timeout=self.TIMEOUT)
        if page.status_code == 302:
            self.signed_in = False
            return None
        if page.status_code != 200:
            raise RuntimeError(f"concern page {page.status_code}")
        match = CSRF_RE.search(page.text)
        if match is None:
            raise RuntimeError("no csrf token on the concern page")
        return match.group(1)

    def _fields(self, narrative: str) -> dict[str, object]:
        today = dt.datetime.now(dt.UTC).date()
        return {
            "child_ids": [self.child_id],
            "what_happened": narrative,
            "child_words": f"words {narrative}",
            "child_words_missing_reason": "",
            "occurred_on": [str(today.day), str(today.month), str(today.year)],
            "when_text": "morning break",
            "where": f"where {narrative}",
            "online": "no",
            "urgent": "no",
        }

    def run(self) -> None:
        import requests

        self._new_session()
        while not self.stop.is_set():
            try:
                if not self.signed_in:
                    self._new_session()
                    self._sign_in()
                if self.token is None:
                    self.token = self._form_token()
                token = self.token
                if token is None:
                    continue
                narrative = f"crash-{self.run_id}-{self.index}-{self.seq + 1}"
                fields = self._fields(narrative)
                if self.rng.random() < 0.5:
                    r = self.session.post(f"{self.base}/concerns/new",
                                          data={"csrf_token": token, **fields, "save": "y"},
                                          allow_redirects=False, timeout=self.TIMEOUT)
                    if r.status_code == 302 and r.headers.get("Location", "").endswith(
                            "/concerns/new"):
                        self.ledger.drafts_saved += 1
                    elif r.status_code == 302:
                        self.signed_in = False
                        continue
                    elif r.status_code == 400:
                        self.token = None
                        continue
                    else:
                        raise RuntimeError(f"save gave {r.status_code}")
            except requests.RequestException as exc:
                self.ledger.errors[f"before-submit:{type(exc).__name__}"] += 1
                time.sleep(0.15)  # server down: do not steal its CPU while it boots
                continue
            except RuntimeError as exc:
                self.ledger.errors[f"before-submit:{exc}"[:60]] += 1
                time.sleep(0.02)
                continue

            # The submission proper: from here on the narrative is accounted for.
            self.seq += 1
            try:
                r = self.session.post(f"{self.base}/concerns/new",
                                      data={"csrf_token": token, **fields, "submit": "y"},
                                      allow_redirects=False, timeout=self.TIMEOUT)
                _ = r.content  # the whole body, or an exception
            except requests.RequestException as exc:
                if _never_sent(exc):  # refused at connect: no byte reached a server
                    self.seq -= 1
                    self.ledger.errors["submit:not-sent"] += 1
                    time.sleep(0.15)
                    continue
                self.ledger.unknown.add(narrative)
                self.ledger.errors[f"submit:{type(exc).__name__}"] += 1
                time.sleep(0.02)
                continue
            location = r.headers.get("Location", "")
            match = CONCERN_RE.match(location) if r.status_code == 302 else None
            if match is None:
                self.ledger.refused[narrative] = f"{r.status_code} {location}"[:80]
                if r.status_code == 302 and location.endswith("/concerns/new"):
                    self.token = None  # page expired: the post went into the draft
                elif r.status_code == 302:
                    self.signed_in = False
                continue
            self.ledger.acked[narrative] = match.group(1)
            if self.rng.random() < 0.25:
                url = f"{self.base}{location}" if location.startswith("/") else location
                with contextlib.suppress(requests.RequestException):
                    self.session.get(url, allow_redirects=False, timeout=self.TIMEOUT)


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass
class Report:
    concerns: int = 0
    acked: int = 0
    unknown: int = 0
    unknown_committed: int = 0
    refused: int = 0
    lost: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    drafts: int = 0
    audit_events: int = 0


def verify(env: dict[str, str], clients: list[Client], emails: list[str]) -> Report:
    from sqlalchemy import func, select, text

    from portal import audit, create_app
    from portal.models import (
        AuditEvent,
        ChildRecordEntry,
        Concern,
        ConcernChild,
        ConcernDraft,
        User,
        db,
    )

    rep = Report()
    acked: dict[str, tuple[str, int]] = {}
    unknown: set[str] = set()
    refused: set[str] = set()
    for c in clients:
        for narrative, cid in c.ledger.acked.items():
            acked[narrative] = (cid, c.index)
        unknown |= c.ledger.unknown
        refused |= set(c.ledger.refused)
    rep.acked, rep.unknown, rep.refused = len(acked), len(unknown), len(refused)

    app = create_app()
    with app.app_context():
        users = {u.email: u.id for u in db.session.scalars(select(User))}
        user_of_client = {i: users[e] for i, e in enumerate(emails)}

        by_narrative: dict[str, list[Concern]] = {}
        concern_ids: set[str] = set()
        for concern in db.session.scalars(select(Concern)):
            rep.concerns += 1
            concern_ids.add(str(concern.id))
            try:
                what = concern.what_happened
                words = concern.child_words
                where = concern.where
                _ = (concern.when_text, concern.child_words_missing_reason, concern.urgent_detail)
            except Exception as exc:
                rep.problems.append(f"concern {concern.id} does not decrypt: {exc!r}")
                continue
            if what is None or not what.startswith("crash-"):
                rep.problems.append(f"concern {concern.id} holds an unexpected narrative")
                continue
            if words != f"words {what}" or where != f"where {what}":
                rep.problems.append(f"concern {concern.id}: fields do not belong together")
            by_narrative.setdefault(what, []).append(concern)

        for narrative, (cid, index) in acked.items():
            rows = by_narrative.get(narrative, [])
            if len(rows) != 1:
                rep.lost.append(f"{narrative}: acknowledged as {cid}, {len(rows)} rows found")
                continue
            row = rows[0]
            if str(row.id) != cid or row.raised_by_id != user_of_client[index]:
                rep.lost.append(f"{narrative}: acknowledged as {cid}, found {row.id} "
                                f"raised by {row.raised_by_id}")
            elif row.what_happened != narrative:
                rep.lost.append(f"{narrative}: decrypts to something else")
        for narrative, rows in by_narrative.items():
            if len(rows) > 1:
                rep.problems.append(f"{narrative}: stored {len(rows)} times")
            if narrative in acked:
                continue
            if narrative in unknown:
                rep.unknown_committed += 1
            else:
                rep.problems.append(f"{narrative}: stored, but its client saw it refused "
                                    "or never sent it")

        # Every concern whole: its child link, chronology entry and audit event.
        linked = Counter(str(cid) for cid in db.session.scalars(select(ConcernChild.concern_id)))
        for cid in linked:
            if cid not in concern_ids:
                rep.problems.append(f"orphaned ConcernChild for concern {cid}")
        chronology = {str(sid) for sid in db.session.scalars(
            select(ChildRecordEntry.source_id).where(ChildRecordEntry.source_type == "concerns"))}
        submitted = {str(oid) for oid in db.session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.action == audit.CONCERN_SUBMITTED))}
        for cid in concern_ids:
            if linked.get(cid, 0) != 1:
                rep.problems.append(f"concern {cid}: {linked.get(cid, 0)} child links")
            if cid not in chronology:
                rep.problems.append(f"concern {cid}: no chronology entry")
            if cid not in submitted:
                rep.problems.append(f"concern {cid}: no CONCERN_SUBMITTED audit event")
        for cid in submitted - concern_ids:
            rep.problems.append(f"audit event for concern {cid} that does not exist")

        # Drafts.
        concern_owner = {str(c.id): c.raised_by_id for rows in by_narrative.values()
                         for c in rows}
        open_drafts: Counter[uuid.UUID] = Counter()
        for draft in db.session.scalars(select(ConcernDraft)):
            rep.drafts += 1
            try:
                data = draft.data
            except Exception as exc:
                rep.problems.append(f"draft {draft.id} does not decrypt: {exc!r}")
                continue
            if draft.submitted_concern_id is not None:
                sid = str(draft.submitted_concern_id)
                if data is not None:
                    rep.problems.append(f"draft {draft.id}: sent but still holds its text")
                if concern_owner.get(sid) != draft.user_id:
                    rep.problems.append(f"draft {draft.id}: sent as {sid}, no such concern "
                                        "of its user")
                continue
            open_drafts[draft.user_id] += 1
            import json

            try:
                fields = json.loads(data) if data else {}
            except ValueError:
                rep.problems.append(f"draft {draft.id}: not JSON")
                continue
            typed = fields.get("what_happened")
            if typed in by_narrative:
                rep.problems.append(f"draft {draft.id}: still open, but {typed} was committed")
        for user_id, n in open_drafts.items():
            if n > 1:
                rep.problems.append(f"user {user_id}: {n} open drafts")

        report = audit.verify_report()
        rep.audit_events = report.events
        for p in report.problems:
            rep.problems.append(f"audit chain {p.org_id} seq {p.seq} {p.kind}: {p.message}")

        if db.engine.dialect.name == "sqlite":
            integrity = [r[0] for r in db.session.execute(text("PRAGMA integrity_check"))]
            if integrity != ["ok"]:
                rep.problems.append(f"integrity_check: {integrity[:5]}")
            fk = list(db.session.execute(text("PRAGMA foreign_key_check")))
            if fk:
                rep.problems.append(f"foreign_key_check: {fk[:5]}")
        total = db.session.scalar(select(func.count()).select_from(Concern))
        if total != rep.concerns:
            rep.problems.append("concern count changed while checking")
        db.session.remove()
        db.engine.dispose()
    return rep


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (docs/deploy.md)")
    ap.add_argument("--threads", type=int, default=4,
                    help="gthread threads per worker (docs/deploy.md); 1 for sync workers")
    ap.add_argument("--min-ms", type=float, default=50)
    ap.add_argument("--max-ms", type=float, default=500)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--preload", action="store_true",
                    help="gunicorn --preload (faster restarts; not how docs/deploy.md runs it)")
    ap.add_argument("--database-url", default="",
                    help="a PostgreSQL URL (e.g. from scripts/postgres.sh start); a fresh "
                         "database is created beside it. Default: SQLite in the temp instance")
    ap.add_argument("--keep", action="store_true", help="keep the temp instance / database")
    ap.add_argument("--results", type=Path, default=None,
                    help="append the figures to this file (e.g. benchmarks/RESULTS.md)")
    args = ap.parse_args(argv)

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    instance = Path(tempfile.mkdtemp(prefix=f"portal-crash-{run}-"))
    # Mail off; a cheap Argon2 for the test's own users (sign-in is not what is measured here,
    # and eight 64 MiB hashes queued behind each other would outlast most kill intervals).
    (instance / "config.json").write_text(
        '{"mail_enabled": false, "argon2_time_cost": 1, "argon2_memory_kib": 8192}\n', "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_INSTANCE"] = str(instance)
    db_name = f"portal_crash_{run}"
    if args.database_url:
        env["PORTAL_DATABASE_URL"] = make_database(args.database_url, db_name)
        backend = "postgresql"
    else:
        backend = "sqlite"
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(REPO))

    print(f"crash test run {run}: backend {backend}, {args.kills} kills, {args.clients} clients, "
          f"gunicorn {gunicorn_flags(args.workers, args.threads, args.preload)}, kill after "
          f"uniform({args.min_ms:g}, {args.max_ms:g}) ms "
          f"of service, seed {seed}; instance {instance}", flush=True)
    emails, child_id = prepare_instance(env, args.clients)

    port = free_port()
    server = Server(env, port, args.workers, instance / "gunicorn.log", args.preload,
                    args.threads)
    stop = threading.Event()
    clients = [Client(i, run, f"http://127.0.0.1:{port}", emails[i], child_id, stop,
                      rng.randrange(1 << 30)) for i in range(args.clients)]
    started = time.monotonic()
    boot_times: list[float] = []
    server.start()
    boot_times.append(server.wait_ready())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop gunicorn below
    for c in clients:
        c.start()
    try:
        deadline = time.monotonic() + 120  # everyone signed in before the first kill
        while not all(c.signed_in for c in clients) and time.monotonic() < deadline:
            time.sleep(0.05)
        for kill in range(1, args.kills + 1):
            time.sleep(rng.uniform(args.min_ms, args.max_ms) / 1000)
            server.kill()
            server.start()
            boot_times.append(server.wait_ready())
            if kill % 20 == 0:
                acked = sum(len(c.ledger.acked) for c in clients)
                unknown = sum(len(c.ledger.unknown) for c in clients)
                print(f"  {kill} kills, {acked} acknowledged, {unknown} unknown, "
                      f"{time.monotonic() - started:.0f} s", flush=True)
        time.sleep(1.0)  # a last stretch of service after the final restart
    finally:
        stop.set()
        for c in clients:
            c.join(timeout=30)
        server.stop_gracefully()
    duration = time.monotonic() - started

    rep = verify(env, clients, emails)
    errors: Counter[str] = Counter()
    for c in clients:
        errors.update(c.ledger.errors)
    refusals = Counter(r for c in clients for r in c.ledger.refused.values())
    drafts_saved = sum(c.ledger.drafts_saved for c in clients)
    sign_ins = sum(c.ledger.sign_ins for c in clients)
    ok = not rep.lost and not rep.problems

    print()
    print(f"backend                  {backend}")
    print(f"kills (SIGKILL, group)   {args.kills}")
    print(f"duration                 {duration:.0f} s (restart to ready: median "
          f"{sorted(boot_times)[len(boot_times) // 2]:.2f} s)")
    print(f"submissions acknowledged {rep.acked}")
    print(f"submissions unknown      {rep.unknown} ({rep.unknown_committed} of them committed)")
    print(f"submissions refused      {rep.refused} {dict(refusals) if refusals else ''}")
    print(f"drafts saved (acked)     {drafts_saved}; sign-ins {sign_ins}")
    print(f"concerns in the database {rep.concerns}; drafts {rep.drafts}; "
          f"audit events {rep.audit_events}")
    print(f"LOST                     {len(rep.lost)}")
    for line in rep.lost[:20]:
        print(f"  lost: {line}")
    print(f"other problems           {len(rep.problems)}")
    for line in rep.problems[:20]:
        print(f"  problem: {line}")
    print(f"client-side errors       {dict(errors.most_common(8))}")
    print("RESULT: " + ("PASS" if ok else "FAIL"))

    if args.results is not None:
        shown = []
        for a in (argv if argv is not None else sys.argv[1:]):
            if a == args.database_url:
                shown.append('"$(scripts/postgres.sh start)"')
            else:
                shown.append(shlex.quote(a))
        cmd = ".venv/bin/python benchmarks/crash/crash_test.py " + " ".join(shown)
        write_results(args.results, backend=backend, kills=args.kills, clients=args.clients,
                      server=gunicorn_flags(args.workers, args.threads, args.preload), rep=rep,
                      duration=duration, seed=seed,
                      window=(args.min_ms, args.max_ms), ok=ok, drafts_saved=drafts_saved,
                      command=cmd)

    if not args.keep:
        import shutil

        shutil.rmtree(instance, ignore_errors=True)
        if args.database_url:
            drop_database(args.database_url, db_name)
    else:
        print(f"kept: {instance}" + (f" and database {db_name}" if args.database_url else ""))
    return 0 if ok else 1


def gunicorn_flags(workers: int, threads: int, preload: bool) -> str:
    return (f"-w {workers}" + (f" -k gthread --threads {threads}" if threads > 1 else "")
            + (" --preload" if preload else ""))


def write_results(path: Path, *, backend: str, kills: int, clients: int, server: str,
                  rep: Report, duration: float, seed: int,
                  window: tuple[float, float], ok: bool, drafts_saved: int, command: str) -> None:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        "",
        f"## Crash test: SIGKILL during concurrent submissions ({backend}, {when})",
        "",
        f"Machine: {machine}. gunicorn {server} on "
        f"127.0.0.1, {clients} client threads, "
        f"the whole gunicorn process group SIGKILLed after uniform({window[0]:g}, "
        f"{window[1]:g}) ms of service, then restarted; seed {seed}.",
        "",
        "| backend | kills | acknowledged | unknown (of which committed) | refused | lost | "
        "other problems | drafts saved | audit events | duration | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {backend} | {kills} | {rep.acked} | {rep.unknown} ({rep.unknown_committed}) | "
        f"{rep.refused} | **{len(rep.lost)}** | {len(rep.problems)} | {drafts_saved} | "
        f"{rep.audit_events} | {duration:.0f} s | {'PASS' if ok else 'FAIL'} |",
        "",
        "Checked afterwards: every acknowledged concern present once and decrypting to its "
        "narrative; every concern row whole (decrypts, child link, chronology entry, audit "
        "event); no orphaned ConcernChild; drafts consistent; audit chains verify"
        + ("; `PRAGMA integrity_check` ok." if backend == "sqlite" else ".")
        + " Only the portal's processes are killed; the database lives on (process death, "
        "not power loss).",
        "",
        "Reproduce:",
        "",
        "```",
        command,
        "```",
        "",
    ]
    new = not path.exists()
    with path.open("a", encoding="utf-8") as out:
        if new:
            out.write("# Benchmark results\n")
        out.write("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
