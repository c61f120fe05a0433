"""Floods (issue 11, item 7): one account, or one school, sending concerns faster than any
genuine member of staff could is refused in words, with what was typed kept, the refusal
audited and the DSLs told once; and alerts sent within a minute are batched into one email
per DSL that says how many, never one per concern. Invented names only."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import notify
from portal.models import AuditEvent, Concern, ConcernDraft, db
from tests.helpers import concerns as concern_helpers
from tests.helpers.concerns import (
    WHAT,
    World,
    good_fields,
    page,
    post_form,
    raise_one,
    textarea,
)
from tests.helpers.signing_in import override_settings, sign_in

world = concern_helpers.world  # the fixture: make_world()

SECRETS = ("Amira", "Testcase", "lockers", "photo", "C0001", "corridor")


def _actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _concerns() -> int:
    return db.session.scalar(select(func.count(Concern.id))) or 0


def test_an_account_over_its_limit_is_refused_in_words_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, world: World
) -> None:
    w = world
    override_settings(app, concern_limit_per_account=3, alert_batch_seconds=0)
    sign_in(client, w.staff)
    for _ in range(3):
        raise_one(client, w)
    notify.outbox().clear()

    typed = WHAT + " This is the fourth one, typed in full."
    refused = post_form(client, good_fields(child_ids=[str(w.child.id)], what_happened=typed))
    assert refused.status_code == 429
    text = page(refused)
    assert "There is a problem" in text
    assert "speak to your safeguarding lead in person now" in text
    assert "What you typed has been saved" in text
    assert textarea(refused, "what_happened") == typed  # nothing typed is lost
    db.session.expire_all()
    assert _concerns() == 3
    draft = db.session.scalar(select(ConcernDraft).where(
        ConcernDraft.user_id == w.staff.id, ConcernDraft.submitted_concern_id.is_(None)))
    assert draft is not None and typed in (draft.data or "")

    # Audited (codes and counts only), and the school's DSLs told once, with no child's detail.
    [limited] = _actions("concern.rate_limited")
    assert limited.actor_id == w.staff.id
    assert limited.detail == {"scope": "account", "count": 3, "limit": 3, "minutes": 10}
    assert len(_actions("concern.flood_alerted")) == 1
    flood = list(notify.outbox())
    assert sorted(m["To"] for m in flood) == [w.dsl.email, w.dsl2.email]
    for message in flood:
        assert "refused" in message["Subject"]
        for secret in SECRETS:
            assert secret not in message.as_string()

    # A second refusal is audited too, but the DSLs are not emailed again.
    notify.outbox().clear()
    assert post_form(client, good_fields(child_ids=[str(w.child.id)])).status_code == 429
    assert len(_actions("concern.rate_limited")) == 2
    assert len(_actions("concern.flood_alerted")) == 1
    assert notify.outbox() == []

    # Another member of staff is not held back by this account's limit.
    other = app.test_client()
    sign_in(other, w.staff2)
    raise_one(other, w)


def test_the_limit_is_counted_in_the_database_over_a_sliding_window(
    app: Flask, client: FlaskClient, world: World
) -> None:
    w = world
    override_settings(app, concern_limit_per_account=2)
    sign_in(client, w.staff)
    first = raise_one(client, w)
    raise_one(client, w)
    assert post_form(client, good_fields(child_ids=[str(w.child.id)])).status_code == 429
    # As if another worker process had sent them: the count is the database's, so once the
    # first concern is older than the window, one more may be sent.
    concern = db.session.get(Concern, first)
    assert concern is not None
    concern.submitted_at = concern.submitted_at - dt.timedelta(minutes=11)
    db.session.commit()
    raise_one(client, w)


def test_a_school_over_its_limit_is_refused_for_every_account(
    app: Flask, client: FlaskClient, world: World
) -> None:
    w = world
    override_settings(app, concern_limit_per_school=2)
    sign_in(client, w.staff)
    raise_one(client, w)
    other = app.test_client()
    sign_in(other, w.staff2)
    raise_one(other, w)
    refused = post_form(other, good_fields(child_ids=[str(w.child.id)]))
    assert refused.status_code == 429
    assert "Your school has sent an unusual number of concerns" in page(refused)
    [limited] = _actions("concern.rate_limited")
    assert limited.detail is not None and limited.detail["scope"] == "school"
    assert _concerns() == 2


def test_alerts_in_the_same_minute_are_one_email_per_dsl_saying_how_many(
    app: Flask, client: FlaskClient, world: World
) -> None:
    w = world
    sign_in(client, w.staff)
    notify.outbox().clear()
    first = raise_one(client, w)
    assert sorted(m["To"] for m in notify.outbox()) == [w.dsl.email, w.dsl2.email]
    notify.outbox().clear()

    # Three more within the minute: nothing sent now, each audited as held back, and the
    # member of staff is not told the alert failed.
    later = [raise_one(client, w) for _ in range(3)]
    assert notify.outbox() == []
    assert len(_actions("concern.alert_batched")) == 3
    assert "We could not email your safeguarding leads" not in page(
        client.get(f"/concerns/{later[-1]}"))

    # When the minute is over, one email per DSL counts them.
    sent = notify.send_waiting_alerts(now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61))
    assert sent == 1
    messages = list(notify.outbox())
    assert sorted(m["To"] for m in messages) == [w.dsl.email, w.dsl2.email]
    for message in messages:
        assert message["Subject"] == "3 new safeguarding concerns"
        assert "3 new safeguarding concerns have been raised at Oakfield Academy" in (
            message.get_content())
        for secret in SECRETS:
            assert secret not in message.as_string()
    db.session.expire_all()
    assert all(db.session.get(Concern, c).alerted_at is not None  # type: ignore[union-attr]
               for c in [first, *later])
    # Nothing left to send.
    notify.outbox().clear()
    assert notify.send_waiting_alerts(
        now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=200)) == 0
    assert notify.outbox() == []


def test_an_urgent_concern_is_never_held_back(app: Flask, client: FlaskClient,
                                             world: World) -> None:
    w = world
    sign_in(client, w.staff)
    raise_one(client, w)
    raise_one(client, w)  # held back
    notify.outbox().clear()
    urgent = raise_one(client, w, urgent="yes")
    subjects = {m["Subject"] for m in notify.outbox()}
    assert subjects == {"URGENT: a child may be in immediate danger. 2 new safeguarding concerns"}
    assert len(notify.outbox()) == 2
    assert isinstance(urgent, uuid.UUID)


def test_held_back_alerts_are_sent_by_the_worker_when_the_minute_is_over(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Without `flask send-alerts`: the process that held the alert back sends it (a timer)."""
    import time

    w = world
    override_settings(app, testing=False, alert_batch_seconds=3)
    sign_in(client, w.staff)
    raise_one(client, w)
    raise_one(client, w)
    raise_one(client, w)
    notify.outbox().clear()
    db.session.commit()  # end the test's own read transaction: the timer writes
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not notify.outbox():
        time.sleep(0.2)
    time.sleep(0.5)
    subjects = [m["Subject"] for m in notify.outbox()]
    # Normally "2 new..." to each DSL; on a very slow machine the third may come a window later.
    assert subjects in (["2 new safeguarding concerns"] * 2, ["New safeguarding concern"] * 2)
    db.session.expire_all()
    assert db.session.scalar(
        select(func.count(Concern.id)).where(Concern.alerted_at.is_(None))) == 0


def test_an_alert_being_sent_never_holds_up_a_new_concern(app: Flask, backend: str,
                                                          world: World) -> None:
    """PostgreSQL: the lock that serialises a school's alerts (held while the email goes out,
    up to the SMTP timeout) must not block the INSERT of another concern for that school."""
    if backend != "postgres":
        pytest.skip("row locks: PostgreSQL only")
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    w = world
    notify._lock_school(w.school.id)  # as alert_dsls takes it, in this session
    try:
        with db.engine.connect() as raising, Session(bind=raising) as session:
            raising.execute(text("SET lock_timeout = '2s'"))
            session.add(Concern(school_id=w.school.id, raised_by_id=w.staff.id,
                                state="submitted", online=False, urgent=False,
                                submitted_at=dt.datetime.now(dt.UTC)))
            session.commit()  # raises LockNotAvailable if the alert's lock blocked it
    finally:
        db.session.rollback()
