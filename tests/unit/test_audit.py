"""The audit trail: chained per organisation, tamper-evident, and closed to narrative."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask import Flask
from sqlalchemy import text

from portal import audit
from portal.audit import GENESIS_HASH, record, verify, verify_audit_command
from portal.models import AuditEvent, db

ORG_A = str(uuid.uuid4())
ORG_B = str(uuid.uuid4())
AT = dt.datetime(2026, 3, 4, 9, 15, 30, 123456, tzinfo=dt.UTC)


def _chain(n: int, org: str = ORG_A) -> list[AuditEvent]:
    actor = uuid.uuid4()
    events = [
        record(audit.CONCERN_SUBMITTED, org_id=org, actor_id=actor, object_type="concern",
               object_id=uuid.uuid4(), detail={"urgent": i % 2 == 0, "children": i,
                                               "routes": ["police", "csc"], "code": None},
               at=AT + dt.timedelta(minutes=i))
        for i in range(n)
    ]
    db.session.commit()
    return events


def _cli(app: Flask, *args: str):
    if "verify-audit" not in app.cli.commands:
        app.cli.add_command(verify_audit_command)
    return app.test_cli_runner().invoke(args=["verify-audit", *args])


def test_chain_appends_with_seq_and_prev_hash(app: Flask) -> None:
    events = _chain(3)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert len({e.hash for e in events}) == 3
    assert verify() == []


def test_seq_counts_per_organisation_independently(app: Flask) -> None:
    a1 = record("auth.sign_in", org_id=ORG_A)
    b1 = record("auth.sign_in", org_id=ORG_B)
    a2 = record("auth.sign_out", org_id=ORG_A)
    b2 = record("auth.sign_out", org_id=ORG_B)
    d1 = record("keys.rotated", org_id="deployment")
    db.session.commit()
    assert (a1.seq, a2.seq, b1.seq, b2.seq, d1.seq) == (1, 2, 1, 2, 1)
    assert b1.prev_hash == GENESIS_HASH and b2.prev_hash == b1.hash
    assert verify() == []
    assert verify(ORG_B) == []


def test_stored_row_rehashes_identically_after_reload(app: Flask) -> None:
    """The canonical encoding survives the round trip through each backend's types."""
    _chain(2)
    db.session.expire_all()
    for ev in db.session.scalars(db.select(AuditEvent)):
        assert ev.hash == audit.compute_hash(
            org_id=ev.org_id, seq=ev.seq, at=ev.at, actor_id=ev.actor_id, action=ev.action,
            object_type=ev.object_type, object_id=ev.object_id, detail=ev.detail,
            prev_hash=ev.prev_hash)
        assert ev.at.tzinfo is not None


def test_canonical_encoding_is_fixed() -> None:
    actor = uuid.UUID("12345678-1234-5678-1234-567812345678")
    got = audit.canonical_bytes(
        org_id="deployment", seq=1, at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        actor_id=actor, action="auth.sign_in", object_type=None, object_id=None,
        detail={"b": 1, "a": True}, prev_hash=GENESIS_HASH)
    assert got == (
        b'{"action":"auth.sign_in","actor_id":"12345678-1234-5678-1234-567812345678",'
        b'"at":"2026-01-02T03:04:05.000000Z","detail":{"a":true,"b":1},"object_id":null,'
        b'"object_type":null,"org_id":"deployment","prev_hash":"' + b"0" * 64 + b'",'
        b'"seq":1,"v":1}'
    )
    # The same instant in another zone hashes the same.
    bst = dt.timezone(dt.timedelta(hours=1))
    assert audit.canonical_bytes(
        org_id="deployment", seq=1, at=dt.datetime(2026, 1, 2, 4, 4, 5, tzinfo=bst),
        actor_id=actor, action="auth.sign_in", object_type=None, object_id=None,
        detail={"a": True, "b": 1}, prev_hash=GENESIS_HASH) == got


TAMPERS = {
    "detail": {"urgent": False, "children": 99, "routes": ["police", "csc"], "code": None},
    "action": "concern.viewed",
    "at": AT - dt.timedelta(days=1),
    "actor_id": uuid.UUID(int=7),
    "object_id": "something-else",
    "object_type": "incident",
}


@pytest.mark.parametrize("column", sorted(TAMPERS))
def test_tampering_with_a_row_is_the_first_broken_link(app: Flask, column: str) -> None:
    events = _chain(4)
    db.session.execute(db.update(AuditEvent).where(AuditEvent.id == events[1].id)
                       .values({column: TAMPERS[column]}))
    db.session.commit()
    problems = verify()
    assert [(p.org_id, p.seq, p.kind) for p in problems] == [(ORG_A, 2, "hash_mismatch")]


def test_tampering_by_raw_sql_is_detected(app: Flask) -> None:
    """An UPDATE typed at a database prompt, not through the ORM."""
    _chain(3)
    cast = "::json" if db.engine.dialect.name == "postgresql" else ""
    db.session.execute(
        text(f"UPDATE audit_events SET detail = '{{\"urgent\": false}}'{cast}, "
             "action = 'auth.sign_out' WHERE org_id = :org AND seq = 3"),
        {"org": ORG_A},
    )
    db.session.commit()
    [problem] = verify()
    assert (problem.seq, problem.kind) == (3, "hash_mismatch")


def test_rewriting_the_stored_hash_breaks_the_next_link(app: Flask) -> None:
    events = _chain(3)
    db.session.execute(db.update(AuditEvent).where(AuditEvent.id == events[1].id)
                       .values(hash=b"\x01" * 32))
    db.session.commit()
    [problem] = verify()
    assert (problem.seq, problem.kind) == (2, "hash_mismatch")


def test_deleting_a_middle_row_is_reported(app: Flask) -> None:
    events = _chain(5)
    _chain(2, ORG_B)
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id == events[2].id))
    db.session.commit()
    problems = verify()
    assert [(p.org_id, p.seq, p.kind) for p in problems] == [(ORG_A, 3, "missing_seq")]
    assert verify(ORG_B) == []


def test_deleting_the_first_row_is_reported(app: Flask) -> None:
    events = _chain(2)
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id == events[0].id))
    db.session.commit()
    [problem] = verify()
    assert (problem.seq, problem.kind) == (1, "missing_seq")


def test_a_spliced_chain_is_a_prev_hash_mismatch(app: Flask) -> None:
    """Deleting a row and renumbering the rest (rewriting seq) still breaks at that point."""
    events = _chain(4)
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id == events[1].id))
    for ev in events[2:]:
        db.session.execute(db.update(AuditEvent).where(AuditEvent.id == ev.id)
                           .values(seq=ev.seq - 1))
    db.session.commit()
    [problem] = verify()
    assert (problem.seq, problem.kind) == (2, "prev_hash_mismatch")


def test_record_continues_after_existing_rows_in_another_session(app: Flask) -> None:
    head = _chain(2)[1].hash
    db.session.remove()
    nxt = record("auth.sign_in", org_id=ORG_A)
    db.session.commit()
    assert nxt.seq == 3 and nxt.prev_hash == head
    assert verify() == []


def test_cli_reports_intact_trail(app: Flask) -> None:
    _chain(3)
    _chain(2, ORG_B)
    result = _cli(app)
    assert result.exit_code == 0, result.output
    assert "audit trail intact: 5 events in 2 chains" in result.output
    result = _cli(app, "--org", ORG_B)
    assert result.exit_code == 0
    assert "audit trail intact: 2 events in 1 chains" in result.output


def test_cli_exits_1_and_names_the_broken_link(app: Flask) -> None:
    events = _chain(3)
    db.session.execute(db.update(AuditEvent).where(AuditEvent.id == events[2].id)
                       .values(action="auth.sign_out"))
    db.session.commit()
    result = _cli(app)
    assert result.exit_code == 1
    assert f"org {ORG_A} seq 3 hash_mismatch" in result.output


def test_cli_on_an_empty_trail(app: Flask) -> None:
    result = _cli(app)
    assert result.exit_code == 0
    assert "audit trail intact: 0 events in 0 chains" in result.output


@pytest.mark.parametrize(
    "detail",
    [
        {"note": "x" * 81},
        {"note": "He said that\nhis father hit him"},
        {"note": "tab\tseparated"},
        {"score": 1.5},
        {"nested": {"a": "b"}},
        {"names": ["ok", "y" * 200]},
        {"names": [1, 2]},
        {"Bad Key": "x"},
        {"big": 2**60},
        {f"k{i}": i for i in range(21)},
    ],
)
def test_narrative_and_odd_values_are_refused(app: Flask, detail: dict) -> None:
    with pytest.raises(ValueError):
        record("concern.submitted", org_id=ORG_A, detail=detail)
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": "Auth.SignIn"},
        {"action": "signin"},
        {"action": "auth.sign in"},
        {"action": "auth.sign_in", "org_id": ""},
        {"action": "auth.sign_in", "object_type": "Child file"},
        {"action": "auth.sign_in", "object_id": "a\nb"},
        {"action": "auth.sign_in", "at": dt.datetime(2026, 1, 1)},  # naive
        {"action": "auth.sign_in", "actor_id": "not-a-uuid"},
    ],
)
def test_malformed_events_are_refused(app: Flask, kwargs: dict) -> None:
    kwargs = dict(kwargs)
    kwargs.setdefault("org_id", ORG_A)
    action = kwargs.pop("action")
    with pytest.raises(ValueError):
        record(action, **kwargs)


def test_known_actions_are_listed_and_unknown_dotted_names_accepted(app: Flask) -> None:
    assert {"auth.sign_in", "child.file_viewed", "referral.sent", "keys.rotated"} <= audit.ACTIONS
    ev = record("timetable.imported", org_id=ORG_A, detail={"rows": 3, "ok": True})
    assert ev.seq == 1


def test_concurrent_writers_on_one_chain_queue_up(app: Flask) -> None:
    """Writers in separate sessions (threads) never take the same seq, and the chain holds."""
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(5):
                    record("child.file_viewed", org_id=ORG_A, detail={"writer": n, "i": i})
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    seqs = db.session.scalars(db.select(AuditEvent.seq).where(AuditEvent.org_id == ORG_A)
                              .order_by(AuditEvent.seq)).all()
    assert seqs == list(range(1, 21))
    assert verify() == []


def test_a_writer_overtaken_after_reading_the_head_links_to_the_other_event(
        app: Flask) -> None:
    """Between this writer's read of the chain head and its insert, another writer commits the
    same seq: this writer's insert takes nothing, it reads the head again and links to the
    other's event (no error, no fork)."""
    import threading

    from sqlalchemy import event

    first = _chain(1)[0]
    done: list[tuple[int, bytes, bytes]] = []

    def overtake() -> None:
        with app.app_context():
            other = record("auth.sign_in", org_id=ORG_A, detail={"by": "other"})
            done.append((other.seq, other.prev_hash, other.hash))
            db.session.commit()
            db.session.remove()

    def before(conn, cursor, statement: str, *_: object) -> None:
        if statement.startswith("INSERT INTO audit_events") and not done \
                and threading.current_thread() is threading.main_thread():
            other = threading.Thread(target=overtake)
            other.start()
            other.join(30)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        mine = record("auth.sign_out", org_id=ORG_A)
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert done == [(2, first.hash, done[0][2])]
    assert (mine.seq, mine.prev_hash) == (3, done[0][2])
    assert verify() == []
    assert db.session.get(AuditEvent, mine.id) is mine


def _statements(app: Flask, write) -> list[str]:
    """The SQL `write()` runs, each statement's first words."""
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()[:3]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        write()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen


def test_the_next_event_of_a_request_is_one_statement(app: Flask) -> None:
    """Issue 15: the application remembers each chain's head it wrote, so the next event (the
    next page's, in a new session) is one INSERT that checks the head itself, not a read and
    an insert."""
    first_hash = _chain(1)[0].hash
    db.session.remove()  # a new request
    mine: list[AuditEvent] = []
    seen = _statements(app, lambda: mine.append(record("auth.sign_out", org_id=ORG_A)))
    db.session.commit()
    assert seen == ["INSERT INTO audit_events"]
    assert (mine[0].seq, mine[0].prev_hash) == (2, first_hash)
    assert verify() == []


def test_a_rolled_back_event_leaves_no_gap(app: Flask) -> None:
    """The head is remembered at the insert; if that transaction rolls back, the next event's
    insert finds the remembered head missing, takes nothing, and links to the real head."""
    events = _chain(2)
    record("auth.sign_in", org_id=ORG_A)
    db.session.rollback()
    mine: list[AuditEvent] = []
    seen = _statements(app, lambda: mine.append(record("auth.sign_out", org_id=ORG_A)))
    db.session.commit()
    assert (mine[0].seq, mine[0].prev_hash) == (3, events[1].hash)
    assert seen == ["INSERT INTO audit_events", "SELECT audit_events.seq, audit_events.hash",
                    "INSERT INTO audit_events"]
    assert verify() == []


def test_another_process_writing_the_chain_is_followed(app: Flask, tmp_path) -> None:
    """Two processes (here two applications) on one database each remember the head they
    wrote; when the other has written since, the remembered seq is taken, the insert takes
    nothing, and the head is read again: one chain, no fork, no gap."""
    from portal import create_app
    from tests.conftest import make_test_config

    _chain(1)
    other = create_app(make_test_config(tmp_path / "other", app.config["SQLALCHEMY_DATABASE_URI"]))
    with other.app_context():
        theirs = [record("auth.sign_in", org_id=ORG_A, detail={"by": "other"}),
                  record("auth.sign_out", org_id=ORG_A, detail={"by": "other"})]
        db.session.commit()
        ids = [(e.seq, e.hash) for e in theirs]
        db.session.remove()
        db.engine.dispose()
    mine = record("auth.sign_in", org_id=ORG_A)
    db.session.commit()
    assert [seq for seq, _ in ids] == [2, 3]
    assert (mine.seq, mine.prev_hash) == (4, ids[1][1])
    assert verify() == []


def test_a_remembered_head_that_is_no_longer_in_the_chain_is_read_again(app: Flask) -> None:
    """A database restored to an earlier point (here: the newest rows removed) behind a running
    application: the remembered head is not there, so nothing links to it."""
    events = _chain(3)
    db.session.execute(text("DELETE FROM audit_events WHERE seq > 1"))
    db.session.commit()
    mine = record("auth.sign_in", org_id=ORG_A)
    db.session.commit()
    assert (mine.seq, mine.prev_hash) == (2, events[0].hash)
    assert verify() == []


def test_a_remembered_head_replaced_by_another_row_is_not_linked_to(app: Flask,
                                                                     tmp_path) -> None:
    """The remembered seq is in the chain but holds another event (the database was restored
    and another process wrote that seq again): the insert checks the hash too."""
    from portal import create_app
    from tests.conftest import make_test_config

    _chain(3)
    db.session.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    db.session.commit()
    other = create_app(make_test_config(tmp_path / "other", app.config["SQLALCHEMY_DATABASE_URI"]))
    with other.app_context():
        theirs = record("auth.sign_in", org_id=ORG_A, detail={"by": "other"})
        db.session.commit()
        their_seq, their_hash = theirs.seq, theirs.hash
        db.session.remove()
        db.engine.dispose()
    mine = record("auth.sign_out", org_id=ORG_A)
    db.session.commit()
    assert their_seq == 3
    assert (mine.seq, mine.prev_hash) == (4, their_hash)
    assert verify() == []
