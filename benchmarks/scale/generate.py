"""Generate a large invented data set: schools in authorities, children, concerns, incidents.

Benchmark data only (invented names, one shared password); never run against real records.
Rows are written with SQLAlchemy Core bulk inserts; the encrypted fields are encrypted
in-process with the application's key ring, bound to each row exactly as the models do, so
every page and `flask rotate-keys` work on the result.

    PORTAL_INSTANCE=... [PORTAL_DATABASE_URL=...] .venv/bin/flask --app wsgi init-db
    PORTAL_INSTANCE=... .venv/bin/python benchmarks/scale/generate.py --incidents 100000 \
        --logins /tmp/logins.json

Per incident: 1 concern (+ its child links), 1-2 incident children, 1 revision, 1 assessment,
2-4 chronology entries; closed incidents get a decision; --referral-fraction of them a referral
to the authority. --open-fraction of incidents are open (recent); the school's first
--submitted-per-school concerns are waiting (not picked up). School 0 ("the big school") gets
--big-school extra incidents so that one school holds 10,000+ encrypted records for the key
rotation timing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pyotp
from sqlalchemy import insert, select, update

from portal import create_app
from portal.crypto import FieldContext
from portal.models import (
    Assessment,
    Child,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    Decision,
    Incident,
    IncidentChild,
    IncidentConcern,
    IncidentRevision,
    LocalAuthority,
    Referral,
    ReferralResponse,
    School,
    User,
    db,
    keyring,
)
from portal.models.referrals import keep_settled
from portal.rules import ChildFacts, IncidentFacts, assess
from portal.services.children import FAMILY_NAME_INDEX, NAME_INDEX

PASSWORD = "bench-portal-2026"
GIVEN = ("Maisie", "Kieran", "Tobias", "Poppy", "Jaxon", "Amara", "Isla", "Reuben", "Ellowen",
         "Orla", "Finley", "Zara", "Rowan", "Elsie", "Arlo", "Nia", "Caspian", "Wren", "Ivo",
         "Liesl", "Bram", "Saffi", "Tomos", "Ottilie")
FAMILY = ("Thornbury", "Ashdown", "Wrenfield", "Marchbank", "Lindqvist", "Oakridge",
          "Fenwicke", "Brackenridge", "Calloway", "Penhallow", "Quennell", "Ravensdale",
          "Sallowby", "Tregarth", "Umberleigh", "Vantreight", "Whitlow", "Yarrowby", "Ellacott",
          "Farrimond", "Gethin", "Haverstock", "Islay", "Jolliffe", "Kettleby", "Loxley")
TYPES = (["physical"], ["bullying"], ["online_abuse"], ["nudes_sharing"], ["sexual_harassment"],
         ["physical", "bullying"])
UTC = dt.UTC


def enc(ring: Any, org: str, table: str, field: str, row_id: uuid.UUID, value: str) -> bytes:
    return ring.encrypt(FieldContext(org, table, field, str(row_id)), value)


class Writer:
    """Buffers rows per table; flushes them with one executemany each."""

    def __init__(self, batch: int) -> None:
        self.rows: dict[Any, list[dict[str, Any]]] = {}
        self.batch = batch
        self.count = 0
        self.written = 0

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.rows.setdefault(model, []).append(row)
        self.count += 1

    def maybe_flush(self) -> None:
        if self.count >= self.batch:
            self.flush()

    def flush(self) -> None:
        # Parents before children (foreign keys on PostgreSQL).
        order = [Concern, ConcernChild, Incident, IncidentConcern, IncidentChild,
                 IncidentRevision, Assessment, Decision, ChildRecordEntry, Referral,
                 ReferralResponse]
        conn = db.session.connection()
        referral_ids = [row["id"] for row in self.rows.get(Referral, ())]
        for model in order:
            rows = self.rows.pop(model, None)
            if rows:
                conn.execute(insert(model.__table__), rows)
                self.written += len(rows)
        if referral_ids:
            # Rows written without the ORM: their settled mark from the one rule, as the
            # portal's flush writes it (each referral's responses are in the same batch).
            keep_settled(conn, referral_ids)
        db.session.commit()
        self.count = 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--incidents", type=int, default=1_000_000)
    p.add_argument("--schools", type=int, default=1000)
    p.add_argument("--authorities", type=int, default=10)
    p.add_argument("--children-per-school", type=int, default=200)
    p.add_argument("--open-fraction", type=float, default=0.02)
    p.add_argument("--referral-fraction", type=float, default=0.03)
    p.add_argument("--submitted-per-school", type=int, default=3)
    p.add_argument("--big-school", type=int, default=1000,
                   help="extra incidents for school 0 (the key rotation target)")
    p.add_argument("--dsls-per-school", type=int, default=1)
    p.add_argument("--staff-per-school", type=int, default=1)
    p.add_argument("--advisers-per-authority", type=int, default=1)
    p.add_argument("--batch", type=int, default=20000, help="rows per commit")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--sqlite-cache-mb", type=int, default=8000,
                   help="SQLite page cache for the writing connection (MB)")
    p.add_argument("--logins", type=Path, help="write the accounts and TOTP secrets here (JSON)")
    args = p.parse_args(argv)

    rng = random.Random(args.seed)
    app = create_app()
    t0 = time.perf_counter()
    with app.app_context():
        ring = keyring()
        passwords = app.extensions["passwords"]
        pw_hash = passwords.hash(PASSWORD)  # one argon2 hash shared by every benchmark account
        if db.engine.dialect.name == "sqlite":
            # Random (UUID) keys land on random pages of every index: with SQLite's default
            # 2 MB page cache each insert reads pages back from disk, and writing slowed from
            # 160 s to 590 s per 100 schools as the file grew. Holding the pages in memory
            # keeps it linear.
            conn = db.session.connection()
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql(f"PRAGMA cache_size=-{args.sqlite_cache_mb * 1024}")
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=100000")
        las = list(db.session.scalars(select(LocalAuthority).order_by(LocalAuthority.code)))
        if not las:
            print("run `flask init-db` first (no local authorities)", file=sys.stderr)
            return 1
        # The packaged directory has fewer authorities than 10: add invented ones, each a copy
        # of a real entry under a new code and name, with its own key.
        extra = 0
        while len(las) < args.authorities:
            extra += 1
            code = f"bench-la-{extra:02d}"
            found = db.session.scalar(select(LocalAuthority).where(LocalAuthority.code == code))
            if found is None:
                entry = dict(las[extra % len(las)].directory)
                entry.update(code=code, name=f"Bench Authority {extra:02d}")
                found = LocalAuthority(code=code, name=entry["name"], directory=entry)
                db.session.add(found)
                db.session.flush()
                ring.ensure_org(str(found.id))
                db.session.commit()
            las.append(found)
        las = las[: args.authorities]
        now = dt.datetime.now(UTC)
        logins: list[dict[str, Any]] = []

        def add_user(role: str, email: str, name: str, *, school_id: uuid.UUID | None = None,
                     la_id: uuid.UUID | None = None) -> dict[str, Any]:
            uid = uuid.uuid4()
            org = str(school_id or la_id)
            secret = pyotp.random_base32() if role in ("dsl", "la_adviser") else None
            row = dict(id=uid, email=email, display_name=name, role=role, school_id=school_id,
                       local_authority_id=la_id, password_hash=pw_hash, password_changed_at=now,
                       totp_secret_enc=enc(ring, org, "users", "totp_secret", uid, secret)
                       if secret else None, totp_enrolled=secret is not None, totp_last_step=0,
                       active=True, failed_logins=0, created_at=now)
            logins.append(dict(email=email, role=role, password=PASSWORD, totp_secret=secret,
                               school_id=str(school_id) if school_id else None,
                               la_id=str(la_id) if la_id else None, id=str(uid)))
            return row

        # Schools, their keys and accounts.
        schools: list[dict[str, Any]] = []
        users: list[dict[str, Any]] = []
        for i in range(args.schools):
            la = las[i % len(las)]
            sid = uuid.uuid4()
            schools.append(dict(id=sid, name=f"Bench School {i:04d}", urn=f"8{i:05d}",
                                local_authority_id=la.id, active=True, next_child_number=1,
                                next_incident_number=1, created_at=now, la_code=la.code))
        db.session.execute(insert(School.__table__),
                           [{k: v for k, v in s.items() if k != "la_code"} for s in schools])
        for i, s in enumerate(schools):
            ring.ensure_org(str(s["id"]))
            for d in range(args.dsls_per_school):
                users.append(add_user("dsl", f"dsl{d}.s{i:04d}@bench.example.org",
                                      f"Bench DSL {d} ({s['name']})", school_id=s["id"]))
            for d in range(args.staff_per_school):
                users.append(add_user("staff", f"staff{d}.s{i:04d}@bench.example.org",
                                      f"Bench staff {d} ({s['name']})", school_id=s["id"]))
        for la in las:
            for d in range(args.advisers_per_authority):
                users.append(add_user("la_adviser", f"adviser{d}.{la.code}@bench.example.org",
                                      f"Bench adviser {d} ({la.name})", la_id=la.id))
        db.session.execute(insert(User.__table__), users)
        db.session.commit()
        print(f"schools, keys and {len(users)} accounts: {time.perf_counter() - t0:.1f}s",
              flush=True)

        # Children.
        kids: dict[uuid.UUID, list[tuple[uuid.UUID, str, dt.date]]] = {}
        rows = []
        for s in schools:
            org = str(s["id"])
            lst = []
            for n in range(1, args.children_per_school + 1):
                cid = uuid.uuid4()
                given, family = rng.choice(GIVEN), rng.choice(FAMILY)
                dob = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(12 * 365))
                ref = f"C{n:04d}"
                rows.append(dict(
                    id=cid, school_id=s["id"], reference=ref,
                    given_name_enc=enc(ring, org, "children", "given_name", cid, given),
                    family_name_enc=enc(ring, org, "children", "family_name", cid, family),
                    dob_enc=enc(ring, org, "children", "dob", cid, dob.isoformat()),
                    send_enc=enc(ring, org, "children", "send", cid,
                                 "1" if rng.random() < 0.15 else "0"),
                    name_index=ring.blind_index(org, NAME_INDEX, f"{given} {family}"),
                    family_name_index=ring.blind_index(org, FAMILY_NAME_INDEX, family),
                    local_authority_code=s["la_code"], family_group=None, on_roll=True,
                    created_at=now, created_by_id=None))
                lst.append((cid, ref, dob))
            kids[s["id"]] = lst
            if len(rows) >= args.batch:
                db.session.execute(insert(Child.__table__), rows)
                rows = []
        if rows:
            db.session.execute(insert(Child.__table__), rows)
        db.session.execute(update(School.__table__).values(
            next_child_number=args.children_per_school + 1))
        db.session.commit()
        print(f"children: {time.perf_counter() - t0:.1f}s", flush=True)

        # One assessment result per type set, computed once by the real rules engine.
        results = {}
        for types in TYPES:
            facts = IncidentFacts(
                occurred_on=dt.date(2026, 3, 2), reported_at=dt.datetime(2026, 3, 2, 10, 0),
                types=frozenset(types), features=frozenset(), online=False,
                children=(ChildFacts(ref="C0001", role="harmed", dob=dt.date(2013, 5, 1),
                                     local_authority=las[0].code, send=False),
                          ChildFacts(ref="C0002", role="harmed_others", dob=dt.date(2013, 6, 1),
                                     local_authority=las[0].code, send=False)))
            results[tuple(types)] = assess(facts)

        dsl_of = {u["school_id"]: u["id"] for u in users if u["role"] == "dsl"}
        adviser_of = {u["local_authority_id"]: u["id"] for u in users
                      if u["role"] == "la_adviser"}
        staff_of = {u["school_id"]: u["id"] for u in users if u["role"] == "staff"}
        w = Writer(args.batch)
        per_school = [args.incidents // args.schools] * args.schools
        for i in range(args.incidents % args.schools):
            per_school[i] += 1
        per_school[0] += args.big_school
        span = 3 * 365 * 24 * 3600
        total = 0
        for si, s in enumerate(schools):
            sid, org = s["id"], str(s["id"])
            dsl, staff = dsl_of[sid], staff_of[sid]
            pupils = kids[sid]
            count = per_school[si]
            n_open = max(1, round(count * args.open_fraction)) if count else 0
            # Waiting concerns (not yet picked up by the DSL).
            for k in range(args.submitted_per_school):
                cid = uuid.uuid4()
                at = now - dt.timedelta(hours=2 + 7 * k)
                child = rng.choice(pupils)
                w.add(Concern, _concern_row(ring, org, cid, sid, staff, at, "submitted", None,
                                            None))
                w.add(ConcernChild, dict(id=uuid.uuid4(), concern_id=cid, child_id=child[0]))
                w.add(ChildRecordEntry, _entry(ring, org, sid, child[0], "concern", staff, at,
                                               None, "concerns", cid,
                                               "Concern raised by a member of staff."))
            for n in range(1, count + 1):
                is_open = n > count - n_open
                if is_open:
                    reported = now - dt.timedelta(hours=rng.randrange(1, 24 * 20))
                else:
                    reported = now - dt.timedelta(days=21, seconds=rng.randrange(span))
                types = rng.choice(TYPES)
                result = results[tuple(types)]
                iid, cid = uuid.uuid4(), uuid.uuid4()
                involved = rng.sample(pupils, rng.choice((1, 2, 2)))
                roles = ["harmed", "harmed_others"][: len(involved)]
                ref = f"I{n:04d}"
                w.add(Concern, _concern_row(ring, org, cid, sid, staff,
                                            reported - dt.timedelta(hours=1), "picked_up",
                                            reported, dsl))
                for ch in involved:
                    w.add(ConcernChild, dict(id=uuid.uuid4(), concern_id=cid, child_id=ch[0]))
                w.add(Incident, dict(
                    id=iid, school_id=sid, reference=ref, state="open" if is_open else "closed",
                    version=1, opened_by_id=dsl, opened_at=reported,
                    closed_at=None if is_open else reported + dt.timedelta(days=3),
                    occurred_on=reported.date(), reported_at=reported, online=False,
                    sexual_activity=False, immediate_danger=False, crime_suspected=False,
                    arrested=False, types=types, features=[], adults_harmed=[],
                    summary_enc=enc(ring, org, "incidents", "summary", iid,
                                    f"Benchmark incident {ref}: {', '.join(types)}."),
                    mandatory_routes=list(result.mandatory_routes), updated_at=reported))
                w.add(IncidentConcern, dict(id=uuid.uuid4(), incident_id=iid, concern_id=cid))
                for pos, (ch, role) in enumerate(zip(involved, roles, strict=True)):
                    icid = uuid.uuid4()
                    w.add(IncidentChild, dict(
                        id=icid, incident_id=iid, child_id=ch[0], school_id=sid, position=pos,
                        role=role, same_school=True, household=None,
                        # Statistics codes for reports (issue 17), as the portal records them.
                        stat_year_group=str(rng.randrange(1, 12)),
                        stat_sex=rng.choice("FFMMU"), stat_send=rng.choice("YNNNNN"),
                        child_words_enc=enc(ring, org, "incident_children", "child_words", icid,
                                            "They said it happens most days."),
                        child_words_missing_reason_enc=None, added_at=reported))
                    w.add(ChildRecordEntry, _entry(ring, org, sid, ch[0], "concern", staff,
                                                   reported - dt.timedelta(hours=1), None,
                                                   "concerns", cid,
                                                   "Concern raised by a member of staff."))
                    w.add(ChildRecordEntry, _entry(ring, org, sid, ch[0], "incident", dsl,
                                                   reported, iid, "incidents", iid,
                                                   f"Incident {ref} opened ({', '.join(types)});"
                                                   f" role: {role}."))
                rid = uuid.uuid4()
                snapshot = json.dumps({"types": types, "features": [], "online": False,
                                       "children": [{"ref": c[1], "role": r}
                                                    for c, r in zip(involved, roles,
                                                                    strict=True)]})
                w.add(IncidentRevision, dict(
                    id=rid, incident_id=iid, school_id=sid, version=1, saved_by_id=dsl,
                    saved_at=reported,
                    snapshot_enc=enc(ring, org, "incident_revisions", "snapshot", rid, snapshot)))
                aid = uuid.uuid4()
                w.add(Assessment, dict(
                    id=aid, incident_id=iid, school_id=sid, incident_version=1,
                    rules_version=result.rules_version, triggers=list(result.triggers),
                    routes=list(result.routes), mandatory_routes=list(result.mandatory_routes),
                    considerations=list(result.considerations), assessed_at=reported,
                    result_enc=enc(ring, org, "assessments", "result", aid,
                                   json.dumps(result.as_json()))))
                if not is_open:
                    did = uuid.uuid4()
                    w.add(Decision, dict(
                        id=did, school_id=sid, incident_id=iid, child_id=None,
                        kind="no_further_action", route=None, decided_by_id=dsl,
                        decided_at=reported + dt.timedelta(days=3),
                        what_enc=enc(ring, org, "decisions", "what", did, "No further action."),
                        reasons_enc=enc(ring, org, "decisions", "reasons", did,
                                        "Handled in school; parents informed.")))
                if rng.random() < args.referral_fraction:
                    la_id = s["local_authority_id"]
                    sent = reported + dt.timedelta(hours=2)
                    for row in _referral_rows(ring, rng, iid, sid, la_id, dsl,
                                              adviser_of[la_id], sent, is_open, ref, types):
                        w.add(row.pop("_model"), row)
                total += 1
                w.maybe_flush()
            db.session.execute(update(School.__table__).where(School.id == sid)
                               .values(next_incident_number=count + 1))
            if si % 100 == 99:
                print(f"  {si + 1} schools, {total} incidents, {w.written} rows: "
                      f"{time.perf_counter() - t0:.1f}s", flush=True)
        w.flush()
        elapsed = time.perf_counter() - t0
        print(f"done: {total} incidents, {w.written} record rows in {elapsed:.1f}s "
              f"({db.engine.dialect.name})", flush=True)
        if args.logins:
            big = str(schools[0]["id"])
            args.logins.write_text(json.dumps({"big_school": big, "logins": logins}, indent=1))
    return 0


def _concern_row(ring: Any, org: str, cid: uuid.UUID, sid: uuid.UUID, staff: Any,
                 at: dt.datetime, state: str, picked_at: dt.datetime | None,
                 picked_by: Any) -> dict[str, Any]:
    return dict(
        id=cid, school_id=sid, raised_by_id=staff, state=state, occurred_on=at.date(),
        online=False, urgent=False,
        what_happened_enc=enc(ring, org, "concerns", "what_happened", cid,
                              "A pupil came to me at break upset about what happened."),
        child_words_enc=enc(ring, org, "concerns", "child_words", cid,
                            "He said he would tell everyone."),
        child_words_missing_reason_enc=None,
        where_enc=enc(ring, org, "concerns", "where", cid, "Playground"),
        when_text_enc=enc(ring, org, "concerns", "when_text", cid, f"{at:%A %d %B}"),
        urgent_detail_enc=None, submitted_at=at, picked_up_at=picked_at,
        picked_up_by_id=picked_by)


# Answers for referrals of closed incidents: what advisers mostly decide, each with its reasons
# (and for strategy meetings the milestones that close their timescales and the decision
# that followed). No children's social care assessment: the portal has no way yet to record
# that a child in need plan has ended, so its reviews would fall due for ever (see RESULTS.md).
ANSWERS = (("no_further_action", 45), ("early_help", 35), ("police_informed", 10),
           ("strategy_meeting", 10))


def _referral_rows(ring: Any, rng: random.Random, iid: uuid.UUID, sid: uuid.UUID,
                   la_id: uuid.UUID, dsl: Any, adviser: Any, sent: dt.datetime, is_open: bool,
                   ref: str, types: list[str]) -> list[dict[str, Any]]:
    """A referral; for a closed incident also the adviser's acknowledgement and answer."""
    rid = uuid.uuid4()
    la = str(la_id)
    row: dict[str, Any] = dict(
        _model=Referral, id=rid, incident_id=iid, school_id=sid, local_authority_id=la_id,
        convening=True, state="sent", schema_version=1, sent_by_id=dsl, sent_at=sent,
        acknowledged_by_id=None, acknowledged_at=None, outcome=None, answered_at=None,
        strategy_meeting_at=None,
        packet_enc=enc(ring, la, "referrals", "packet", rid,
                       json.dumps({"incident": ref, "types": types})))
    if is_open:
        return [row]
    outcome = rng.choices([o for o, _ in ANSWERS], [w for _, w in ANSWERS])[0]
    answered = sent + dt.timedelta(hours=rng.randrange(2, 20))
    row.update(state="answered", acknowledged_by_id=adviser,
               acknowledged_at=sent + dt.timedelta(minutes=30), outcome=outcome,
               answered_at=answered)
    rows = [row]

    def response(kind: str, at: dt.datetime, reasons: str | None) -> None:
        resp = uuid.uuid4()
        rows.append(dict(
            _model=ReferralResponse, id=resp, referral_id=rid, local_authority_id=la_id,
            outcome=kind, recorded_by_id=adviser, recorded_at=at,
            reasons_enc=enc(ring, la, "referral_responses", "reasons", resp, reasons)
            if reasons else None,
            workers_enc=None))

    response(outcome, answered, "Threshold considered with the school's account and history.")
    if outcome == "strategy_meeting":
        # The meeting was held, its minutes sent, no conference needed, and the authority
        # then recorded its decision: the referral's outcome is that decision.
        meeting = sent + dt.timedelta(days=1)
        row["strategy_meeting_at"] = meeting
        response("minutes_sent", meeting + dt.timedelta(days=1), None)
        response("icpc_not_needed", meeting + dt.timedelta(days=5), None)
        decision = rng.choice(("no_further_action", "early_help", "police_informed"))
        response(decision, meeting + dt.timedelta(days=6), "Decided at the strategy meeting.")
        row["outcome"] = decision
    return rows


def _entry(ring: Any, org: str, sid: uuid.UUID, child_id: uuid.UUID, kind: str, author: Any,
           at: dt.datetime, incident_id: uuid.UUID | None, source_type: str,
           source_id: uuid.UUID, body: str) -> dict[str, Any]:
    eid = uuid.uuid4()
    return dict(id=eid, school_id=sid, child_id=child_id, incident_id=incident_id, kind=kind,
                source_type=source_type, source_id=source_id, occurred_at=at, author_id=author,
                body_enc=enc(ring, org, "child_record_entries", "body", eid, body))


if __name__ == "__main__":
    sys.exit(main())
