"""The DSL alert through a real SMTP conversation (an in-process aiosmtpd sink), its content
(a link and the school's name, nothing about a child), and what happens when mail fails."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from portal import notify
from portal.models import AuditEvent, Child, Concern, School, User, db
from portal.services import concerns as service
from scripts.mailsink import MailSink
from tests import factories
from tests.helpers.signing_in import override_settings

NARRATIVE = "Quentin Marshwood took the phone in the changing rooms."


def _raise(school: School, staff: User, child: Child, *, urgent: bool = False) -> Concern:
    concern = service.raise_concern(staff, service.ConcernInput(
        child_ids=(child.id,), new_children=(), what_happened=NARRATIVE,
        child_words="give it back", child_words_missing_reason=None,
        occurred_on=dt.date(2026, 3, 2), when_text=None, where="changing rooms",
        online=False, urgent=urgent), now=dt.datetime.now(dt.UTC))
    db.session.commit()
    return concern


def _setup() -> tuple[School, User, list[User], Child]:
    school = factories.school("Brookside Primary", "derbyshire")
    other = factories.school("Hilltop School", "derbyshire")
    staff = factories.user("staff", org=school)
    dsls = [factories.user("dsl", org=school, email=f"lead{i}@brookside.example.test")
            for i in (1, 2, 3)]
    factories.user("dsl", org=other, email="lead@hilltop.example.test")
    factories.user("dsl", org=school, email="former@brookside.example.test", active=False)
    child = factories.child(school, "Quentin", "Marshwood")
    db.session.commit()
    return school, staff, dsls, child


def test_alert_is_sent_over_smtp_to_every_dsl(app: Flask, tmp_path: Path) -> None:
    school, staff, dsls, child = _setup()
    with MailSink(tmp_path / "mail") as sink:
        override_settings(app, mail_enabled=True, mail_host=sink.host, mail_port=sink.port,
                          mail_sender="portal@brookside.example.test",
                          base_url="https://portal.example.test/")
        concern = _raise(school, staff, child, urgent=True)
        result = notify.alert_dsls(concern.id)
        received = sink.wait_for(3)
    assert result.ok and result.sent == 3
    assert sorted(m["To"] for m in received) == sorted(d.email for d in dsls)
    delivered = sorted(m["Delivered-To"] for m in received)
    assert delivered == sorted(d.email for d in dsls)  # the envelope, not just the header
    for message in received:
        assert message["From"] == "portal@brookside.example.test"
        assert message["Subject"].startswith("URGENT: a child may be in immediate danger")
        body = message.get_content()
        assert "A new safeguarding concern has been raised at Brookside Primary." in body
        assert f"Sign in to read it: https://portal.example.test/concerns/{concern.id}" in body
        raw = message.as_string()
        for secret in ("Quentin", "Marshwood", "phone", "changing", "give it back",
                       child.reference):
            assert secret not in raw
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "concern.alerted"))
    assert event is not None and event.detail == {"recipients": 3}


def test_mail_off_keeps_the_messages_in_the_outbox(app: Flask) -> None:
    school, staff, dsls, child = _setup()
    notify.outbox().clear()
    concern = _raise(school, staff, child)
    result = notify.alert_dsls(concern.id)
    assert result.ok
    assert sorted(m["To"] for m in notify.outbox()) == sorted(d.email for d in dsls)
    assert all(m["Subject"] == "New safeguarding concern" for m in notify.outbox())


def test_a_mail_failure_is_audited_and_loses_nothing(app: Flask) -> None:
    school, staff, _dsls, child = _setup()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    override_settings(app, mail_enabled=True, mail_port=port)
    concern = _raise(school, staff, child)
    result = notify.alert_dsls(concern.id)
    assert not result.ok and result.reason == "smtp_error"
    db.session.expire_all()
    kept = db.session.get(Concern, concern.id)
    assert kept is not None and kept.what_happened == NARRATIVE
    failed = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "concern.alert_failed"))
    assert failed is not None and failed.detail == {"reason": "smtp_error", "recipients": 3}


def test_a_school_without_a_dsl_is_reported(app: Flask) -> None:
    school = factories.school("Lonely Lane School", "derbyshire")
    staff = factories.user("staff", org=school)
    child = factories.child(school, "Rowan", "Example")
    db.session.commit()
    concern = _raise(school, staff, child)
    result = notify.alert_dsls(concern.id)
    assert result.reason == "no_dsl" and not result.ok
    failed = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "concern.alert_failed"))
    assert failed is not None and failed.detail == {"reason": "no_dsl", "recipients": 0}


def test_an_after_the_commit_call_never_commits_a_requests_work(app: Flask) -> None:
    school, staff, _dsls, child = _setup()
    concern_id = _raise(school, staff, child).id
    same = db.session.get(School, school.id)
    assert same is not None
    same.name = "Renamed But Not Committed"
    with pytest.raises(RuntimeError):
        notify.alert_dsls(concern_id)
    db.session.rollback()
    again = db.session.get(School, school.id)
    assert again is not None and again.name != "Renamed But Not Committed"
    assert notify.alert_dsls(concern_id).ok  # once the request has committed, it works
