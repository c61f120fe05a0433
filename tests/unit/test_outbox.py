"""The mail outbox (docs/mail.md): rows written in the caller's transaction and encrypted, retries
with back-off on a fake clock, each attempt recorded, and several senders at once never sending
one message twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, update

from portal import notify, outbox
from portal.models import AuditEvent, Child, Concern, OutboxAttempt, OutboxMessage, School, User, db
from portal.services import concerns as service
from scripts.mailsink import MailSink
from tests import factories
from tests.helpers.signing_in import override_settings

NARRATIVE = "Quentin Marshwood took the phone in the changing rooms."
T0 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)  # a Wednesday, in school hours


def _setup() -> tuple[School, User, list[User], Child]:
    school = factories.school("Brookside Primary", "derbyshire")
    staff = factories.user("staff", org=school)
    dsls = [factories.user("dsl", org=school, email=f"lead{i}@brookside.example.test")
            for i in (1, 2)]
    child = factories.child(school, "Quentin", "Marshwood")
    db.session.commit()
    return school, staff, dsls, child


def _concern(staff: User, child: Child, *, urgent: bool = False,
             now: dt.datetime = T0) -> Concern:
    return service.raise_concern(staff, service.ConcernInput(
        child_ids=(child.id,), new_children=(), what_happened=NARRATIVE,
        child_words="give it back", child_words_missing_reason=None,
        occurred_on=dt.date(2026, 12, 2), when_text=None, where="changing rooms",
        online=False, urgent=urgent), now=now)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _attempts(row: OutboxMessage) -> list[tuple[str, str | None]]:
    return [(a.outcome, a.error) for a in db.session.scalars(
        select(OutboxAttempt).where(OutboxAttempt.message_id == row.id)
        .order_by(OutboxAttempt.attempted_at))]


def test_the_alert_is_written_in_the_concerns_transaction(app: Flask) -> None:
    _school, staff, dsls, child = _setup()
    concern = _concern(staff, child)
    queued = notify.queue_concern_alert(concern, now=T0)
    assert queued.batch is not None and len(_pending_rows()) == 2  # visible to this transaction
    db.session.rollback()
    assert _rows() == [] and db.session.scalar(select(func.count()).select_from(Concern)) == 0

    concern = _concern(staff, child)
    notify.queue_concern_alert(concern, now=T0)
    db.session.commit()
    rows = _rows()
    assert len(rows) == 2 and {r.state for r in rows} == {"waiting"}
    assert {r.kind for r in rows} == {"concern_alert"}
    # Encrypted at rest: neither address nor link nor school name is readable in the row.
    for row in rows:
        assert row.message_enc is not None
        for clear in (b"lead1@", b"lead2@", b"Brookside", str(concern.id).encode()):
            assert clear not in row.message_enc
    assert sorted(r.message.split("To: ")[1].split("\n")[0] for r in rows) == sorted(
        d.email for d in dsls)


def _pending_rows() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage)))


def test_a_failed_alert_is_retried_with_back_off_until_it_arrives(app: Flask,
                                                                   tmp_path: Path) -> None:
    _school, staff, dsls, child = _setup()
    override_settings(app, mail_enabled=True, mail_host="127.0.0.1", mail_port=_closed_port(),
                      mail_retry_seconds=30, mail_retry_max_seconds=600)
    concern = _concern(staff, child)
    notify.queue_concern_alert(concern, now=T0)
    db.session.commit()

    first = outbox.deliver(now=T0)
    assert (first.sent, first.failed) == (0, 2)
    assert set(first.errors) == {"ConnectionRefusedError"}
    rows = _rows()
    assert all(r.attempts == 1 and r.next_attempt_at == T0 + dt.timedelta(seconds=30)
               for r in rows)
    assert outbox.deliver(now=T0 + dt.timedelta(seconds=29)).failed == 0  # not due yet
    second = outbox.deliver(now=T0 + dt.timedelta(seconds=30))
    assert second.failed == 2
    rows = _rows()
    assert all(r.next_attempt_at == T0 + dt.timedelta(seconds=90) for r in rows)  # 30 + 60
    third_at = T0 + dt.timedelta(seconds=90)
    assert outbox.deliver(now=third_at).failed == 2
    assert all(r.next_attempt_at == third_at + dt.timedelta(seconds=120) for r in _rows())

    with MailSink(tmp_path / "mail") as sink:
        override_settings(app, mail_port=sink.port)
        done = outbox.deliver(now=third_at + dt.timedelta(seconds=120))
        received = sink.wait_for(2)
    assert (done.sent, done.failed) == (2, 0)
    assert sorted(m["To"] for m in received) == sorted(d.email for d in dsls)
    for message in received:
        assert "Quentin" not in message.as_string() and "phone" not in message.as_string()
    for row in _rows():
        assert row.state == "sent" and row.message_enc is None and row.attempts == 4
        assert _attempts(row) == [("failed", "ConnectionRefusedError")] * 3 + [("sent", None)]
    actions = [(e.action, e.detail) for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("concern.alert%"))
        .order_by(AuditEvent.at, AuditEvent.id))]
    # The first failure is audited once (not every retry), then the delivery.
    assert ("concern.alert_failed", {"reason": "smtp_error", "recipients": 2}) in actions
    assert ("concern.alerted", {"recipients": 2, "retried": True}) in actions
    assert [a for a, _ in actions].count("concern.alert_failed") == 1
    # Nothing left to send: another round sends nothing twice.
    assert outbox.deliver(now=third_at + dt.timedelta(hours=1)).sent == 0


def test_back_off_doubles_up_to_the_most() -> None:
    waits = [outbox.backoff(n, first=30, most=600).total_seconds() for n in range(1, 8)]
    assert waits == [30, 60, 120, 240, 480, 600, 600]
    assert outbox.backoff(500, first=30, most=600).total_seconds() == 600


def test_a_lapsed_claim_is_taken_over(app: Flask) -> None:
    _school, staff, _dsls, child = _setup()
    notify.queue_concern_alert(_concern(staff, child), now=T0)
    db.session.commit()
    # A sender claimed them and died before sending.
    db.session.execute(update(OutboxMessage).values(
        claim_token="dead", claimed_until=T0 + outbox.CLAIM_LEASE))
    db.session.commit()
    notify.outbox().clear()
    assert outbox.deliver(now=T0 + dt.timedelta(minutes=1)).sent == 0
    assert notify.outbox() == []
    assert outbox.deliver(now=T0 + outbox.CLAIM_LEASE + dt.timedelta(seconds=1)).sent == 2
    assert len(notify.outbox()) == 2


def test_two_senders_at_once_never_send_a_message_twice(app: Flask) -> None:
    school, _staff, _dsls, _child = _setup()
    for i in range(40):
        message = EmailMessage()
        message["To"] = f"person{i}@brookside.example.test"
        message["Subject"] = f"Message {i}"
        message.set_content("Sign in to read it.")
        outbox.queue([message], org_id=str(school.id), kind="concern_alert", now=T0)
    db.session.commit()
    notify.outbox().clear()
    start = threading.Barrier(4)
    problems: list[str] = []

    def sender() -> None:
        with app.app_context():
            try:
                start.wait()
                while outbox.deliver(now=T0 + dt.timedelta(seconds=1), limit=3).sent:
                    pass
            except Exception as exc:  # pragma: no cover - reported below
                problems.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert problems == []
    sent = [m["To"] for m in notify.outbox()]
    assert sorted(sent) == sorted(f"person{i}@brookside.example.test" for i in range(40))
    rows = _rows()
    assert all(r.state == "sent" for r in rows)
    assert all(_attempts(r) == [("sent", None)] for r in rows)


def test_the_sender_command_runs_one_round(app: Flask) -> None:
    _school, staff, _dsls, child = _setup()
    now = dt.datetime.now(dt.UTC)  # the command runs on the real clock
    notify.queue_concern_alert(_concern(staff, child, now=now), now=now)
    db.session.commit()
    notify.outbox().clear()
    result = app.test_cli_runner().invoke(args=["send-mail", "--once"])
    assert result.exit_code == 0, result.output
    assert "Mail sent: 2; not sent yet: 0." in result.output
    assert len(notify.outbox()) == 2
