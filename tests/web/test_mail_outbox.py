"""Alerts that arrive (issue 12, item 5): with the mail server down a concern is saved, the
reporter is told to speak to a DSL, and the alert arrives once the server is back; an urgent
concern no DSL opens within the school's set time of school hours is escalated to the deputy
DSLs and the head (fake clock), once, and not when a DSL opened it or outside school hours."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import notify
from portal.models import AuditEvent, Concern, OutboxAttempt, OutboxMessage, School, User, db
from portal.services import concerns as service
from scripts.mailsink import MailSink
from tests import factories
from tests.helpers.concerns import WHAT, World, good_fields, make_world, page, post_form
from tests.helpers.signing_in import csrf_from, override_settings, sign_in, submit

# Wednesday 2 December 2026, 10:00 in London (GMT): school hours.
WEDNESDAY_10 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
# Friday 4 December 2026, 16:55: five minutes of the school week left.
FRIDAY_1655 = dt.datetime(2026, 12, 4, 16, 55, tzinfo=dt.UTC)


def test_the_alert_arrives_after_the_mail_server_comes_back(
        app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    w = make_world()
    sink = MailSink(tmp_path / "mail").start()
    port = sink.port
    override_settings(app, mail_enabled=True, mail_host=sink.host, mail_port=port)
    sink.stop()  # the mail server is down

    sign_in(client, w.staff)
    response = post_form(client, good_fields(child_ids=[str(w.child.id)]))
    assert response.status_code == 302
    confirmation = page(client.get(response.headers["Location"]))
    assert "Concern sent" in confirmation
    assert "We could not email your safeguarding leads yet" in confirmation
    assert "tell a safeguarding lead in person now" in confirmation
    db.session.expire_all()
    concern = db.session.scalar(select(Concern))
    assert concern is not None and concern.what_happened == WHAT
    waiting = list(db.session.scalars(select(OutboxMessage)))
    assert len(waiting) == 2 and all(m.state == "waiting" for m in waiting)

    with MailSink(tmp_path / "mail2", port=port) as back:  # the server is back
        notify.send_round(now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31))
        received = back.wait_for(2)
    assert sorted(m["To"] for m in received) == [w.dsl.email, w.dsl2.email]
    for message in received:
        assert message["Subject"] == "New safeguarding concern"
        assert f"/concerns/{concern.id}" in message.get_content()
        for secret in ("Amira", "Testcase", "corridor", "science"):
            assert secret not in message.as_string()
    db.session.expire_all()
    outcomes = sorted(a.outcome for a in db.session.scalars(select(OutboxAttempt)))
    assert outcomes == ["failed", "failed", "sent", "sent"]
    assert all(a.error in (None, "ConnectionRefusedError")
               for a in db.session.scalars(select(OutboxAttempt)))


def test_a_second_concern_held_for_the_minute_is_honest_when_mail_is_down(
        app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    """A concern that is not urgent, sent within a minute of another, is held to be counted
    into the next email: the reporter is told the leads will be emailed within the minute
    only when the school's email is going through; with mail down they are told to go in
    person (a walk found "Your safeguarding leads have been told" with the mail server off)."""
    w = make_world()
    sink = MailSink(tmp_path / "mail").start()
    override_settings(app, mail_enabled=True, mail_host=sink.host, mail_port=sink.port)
    sign_in(client, w.staff)
    first = post_form(client, good_fields(child_ids=[str(w.child.id)]))
    assert "Your safeguarding leads have been emailed, and can see it in the portal now" in page(
        client.get(first.headers["Location"]))
    second = post_form(client, good_fields(child_ids=[str(w.child.id)]))
    held = page(client.get(second.headers["Location"]))
    assert ("Your safeguarding leads can see it in the portal now, and will be emailed within a "
            "minute") in held
    assert "another concern" not in held  # perhaps a colleague's: never told of it
    assert "We could not email" not in held

    sink.stop()  # the mail server goes down: the next alert fails, the one after is held
    db.session.expire_all()
    for message in db.session.scalars(select(OutboxMessage)):  # the minute is long over
        message.created_at -= dt.timedelta(minutes=5)
    for earlier in db.session.scalars(select(Concern)):
        if earlier.alerted_at is not None:
            earlier.alerted_at -= dt.timedelta(minutes=5)
    db.session.commit()
    third = post_form(client, good_fields(child_ids=[str(w.child.id)]))
    assert "We could not email your safeguarding leads yet" in page(
        client.get(third.headers["Location"]))
    fourth = post_form(client, good_fields(child_ids=[str(w.child.id)]))
    told = page(client.get(fourth.headers["Location"]))
    assert "We could not email your safeguarding leads yet" in told
    assert "tell a safeguarding lead in person now" in told
    assert "have been emailed" not in told and "within a minute" not in told


def _escalation_world() -> tuple[World, User, User]:
    w = make_world()
    w.dsl2.deputy_dsl = True
    head = factories.user("staff", org=w.school, email="head@oakfield.example.test",
                          display_name="Hana Head")
    head.headteacher = True
    # The other school's head is never told of this school's concerns.
    other_head = factories.user("staff", org=w.other_school, email="head@northgate.example.test")
    other_head.headteacher = True
    db.session.commit()
    return w, w.dsl2, head


def _urgent(w: World, at: dt.datetime) -> Concern:
    concern = service.raise_concern(w.staff, service.ConcernInput(
        child_ids=(w.child.id,), new_children=(), what_happened=WHAT,
        child_words="stop it", child_words_missing_reason=None,
        occurred_on=at.date(), when_text=None, where="the corridor by the science labs",
        online=False, urgent=True), now=at)
    notify.queue_concern_alert(concern, now=at)
    db.session.commit()
    notify.outbox().clear()
    return concern


def _escalated_to() -> list[str]:
    return sorted(m["To"] for m in notify.outbox()
                  if "has not been opened" in m["Subject"])


def test_an_unopened_urgent_concern_is_escalated_after_the_set_time(app: Flask) -> None:
    w, deputy, head = _escalation_world()
    concern = _urgent(w, WEDNESDAY_10)
    assert notify.escalate_due(now=WEDNESDAY_10 + dt.timedelta(minutes=14, seconds=59)) == 0
    assert _escalated_to() == []
    assert notify.escalate_due(now=WEDNESDAY_10 + dt.timedelta(minutes=15)) == 1
    assert _escalated_to() == sorted([deputy.email, head.email])
    for message in notify.outbox():
        assert message["Subject"].startswith("URGENT")
        for secret in ("Amira", "Testcase", "corridor", "stop it", w.child.reference):
            assert secret not in message.as_string()
    by_address = {m["To"]: m.get_content() for m in notify.outbox()}
    assert f"/concerns/{concern.id}" in by_address[deputy.email]  # a DSL can open it
    assert f"/concerns/{concern.id}" not in by_address[head.email]  # the head cannot
    assert "15 minutes" in by_address[head.email]
    # Once per concern.
    notify.outbox().clear()
    assert notify.escalate_due(now=WEDNESDAY_10 + dt.timedelta(hours=2)) == 0
    assert notify.outbox() == []
    events = list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(["concern.escalated", "concern.escalation_sent"]))))
    assert sorted((e.action, e.object_id) for e in events) == [
        ("concern.escalated", str(concern.id)), ("concern.escalation_sent", str(concern.id))]


def test_the_clock_waits_outside_school_hours(app: Flask) -> None:
    w, deputy, head = _escalation_world()
    _urgent(w, FRIDAY_1655)
    for later in (dt.datetime(2026, 12, 4, 17, 30, tzinfo=dt.UTC),  # Friday evening
                  dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC),  # Saturday
                  dt.datetime(2026, 12, 7, 8, 9, tzinfo=dt.UTC)):  # Monday, 14 minutes in
        assert notify.escalate_due(now=later) == 0
    assert notify.escalate_due(now=dt.datetime(2026, 12, 7, 8, 10, tzinfo=dt.UTC)) == 1
    assert _escalated_to() == sorted([deputy.email, head.email])


def test_a_concern_a_dsl_opened_is_not_escalated(app: Flask, client: FlaskClient,
                                                 other_client: FlaskClient) -> None:
    w, _deputy, _head = _escalation_world()
    opened = _urgent(w, WEDNESDAY_10)
    unopened = _urgent(w, WEDNESDAY_10)
    # The reporter reading their own concern is not a DSL opening it.
    sign_in(other_client, w.staff)
    assert other_client.get(f"/concerns/{unopened.id}").status_code == 200
    sign_in(client, w.dsl)
    assert client.get(f"/concerns/{opened.id}").status_code == 200
    db.session.expire_all()
    assert db.session.get(Concern, opened.id).dsl_opened_at is not None
    assert db.session.get(Concern, unopened.id).dsl_opened_at is None
    assert notify.escalate_due(now=WEDNESDAY_10 + dt.timedelta(hours=1)) == 1
    escalated = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "concern.escalated"))
    assert escalated is not None and escalated.object_id == str(unopened.id)


def test_a_concern_that_is_not_urgent_is_not_escalated(app: Flask) -> None:
    w, _deputy, _head = _escalation_world()
    concern = service.raise_concern(w.staff, service.ConcernInput(
        child_ids=(w.child.id,), new_children=(), what_happened=WHAT,
        child_words="stop it", child_words_missing_reason=None,
        occurred_on=WEDNESDAY_10.date(), when_text=None, where="corridor",
        online=False, urgent=False), now=WEDNESDAY_10)
    db.session.commit()
    assert concern.urgent is False
    assert notify.escalate_due(now=WEDNESDAY_10 + dt.timedelta(days=1)) == 0


def _text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def test_the_dsl_sets_the_time_hours_deputies_and_head(app: Flask, client: FlaskClient) -> None:
    w = make_world()
    head = factories.user("staff", org=w.school, email="head@oakfield.example.test",
                          display_name="Hana Head")
    db.session.commit()
    sign_in(client, w.dsl)
    settings = _text(client.get("/school/settings"))
    assert "Escalating urgent concerns" in settings
    assert 'name="escalation_minutes"' in settings and 'value="15"' in settings
    assert 'value="08:00"' in settings and 'value="17:00"' in settings
    good = {"escalation_minutes": "20", "school_days": ["1", "2", "3", "4", "5"],
            "day_starts": "8.30", "day_ends": "16:00", "deputies": [str(w.dsl2.id)],
            "head": str(head.id), "save_escalation": "y"}
    refused = submit(client, "/school/settings", {**good, "day_ends": "7:00"})
    assert refused.status_code == 400
    assert "The school day must end after it starts" in _text(refused)
    # An account of another school cannot be chosen.
    foreign = submit(client, "/school/settings", {**good, "head": str(w.other_staff.id)})
    assert foreign.status_code == 400
    assert submit(client, "/school/settings", good).status_code == 302
    db.session.expire_all()
    school = db.session.get(School, w.school.id)
    assert school is not None
    assert (school.escalation_minutes, school.school_days, school.day_starts,
            school.day_ends) == (20, "12345", 510, 960)
    assert db.session.get(User, w.dsl2.id).deputy_dsl is True
    assert db.session.get(User, w.dsl.id).deputy_dsl is False
    assert db.session.get(User, head.id).headteacher is True
    assert db.session.get(User, w.other_staff.id).headteacher is False
    shown = _text(client.get("/school/settings"))
    assert 'value="08:30"' in shown and 'value="16:00"' in shown
    assert sorted(u.email for u in notify.escalation_recipients(w.school.id)) == sorted(
        [w.dsl2.email, head.email])


def test_the_school_day_takes_times_as_every_other_form_does(app: Flask,
                                                             client: FlaskClient) -> None:
    """The walk typed "8.30am" and "4pm" (accepted on every other form) and was refused here:
    the school day now reads times with the portal's one parser (typed_time)."""
    w = make_world()
    db.session.commit()
    sign_in(client, w.dsl)
    good = {"escalation_minutes": "15", "school_days": ["1", "2", "3", "4", "5"],
            "day_starts": "8.30am", "day_ends": "4pm", "head": "", "save_escalation": "y"}
    refused = submit(client, "/school/settings", {**good, "day_starts": "half past eight"})
    assert refused.status_code == 400
    assert "Enter the time the school day starts, like 08:00 or 8:30am" in _text(refused)
    assert 'value="half past eight"' in _text(refused)  # what was typed is kept
    assert submit(client, "/school/settings", good).status_code == 302
    db.session.expire_all()
    school = db.session.get(School, w.school.id)
    assert school is not None and (school.day_starts, school.day_ends) == (510, 960)


def test_a_page_opened_before_another_dsl_saved_does_not_undo_their_settings(
        app: Flask, client: FlaskClient) -> None:
    """Walk 15: a tab opened earlier, saving only a new end of the day, put back the minutes
    and the headteacher another tab had just saved, without a word; walk 16: refused, its
    second press put them back all the same. Refused now, the page keeps what this tab changed
    and shows the rest as saved, so saving again undoes nothing."""
    import re

    def hidden(page: str, name: str) -> str:
        found = re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page)
        assert found is not None, name
        return html.unescape(found.group(1))  # as a browser sends it back

    w = make_world()
    head = factories.user("staff", org=w.school, display_name="Hana Head")
    db.session.commit()
    sign_in(client, w.dsl)
    stale = client.get("/school/settings").get_data(as_text=True)
    shown = {"escalation_minutes": "15", "school_days": ["1", "2", "3", "4", "5"],
             "day_starts": "08:00", "day_ends": "17:00", "head": "", "save_escalation": "y"}
    assert submit(client, "/school/settings",
                  {**shown, "escalation_minutes": "30", "head": str(head.id)}).status_code == 302
    # The earlier page changes only the end of the day.
    mine = {**shown, "day_ends": "16:00", "escalation_seen": hidden(stale, "escalation_seen"),
            "csrf_token": hidden(stale, "csrf_token")}
    refused = client.post("/school/settings", data=mine)
    assert refused.status_code == 400
    said = _text(refused)
    assert ("These settings were changed after you opened this page, so yours were not saved. "
            "Saved now: 30 minutes; Monday, Tuesday, Wednesday, Thursday, Friday, 08:00 to "
            "17:00; deputies: none; headteacher: Hana Head. The page shows your changes with "
            "everything else as saved now: check them, then save again.") in said
    assert re.search(r'name="day_ends"[^>]*value="16:00"', said)  # theirs, kept
    assert re.search(r'name="escalation_minutes"[^>]*value="30"', said)  # saved, shown
    assert re.search(rf'<option[^>]*selected[^>]*value="{head.id}"|<option value="{head.id}" '
                     r'selected', said)
    db.session.expire_all()
    school = db.session.get(School, w.school.id)
    assert school is not None and (school.escalation_minutes, school.day_ends) == (30, 1020)
    # Saved again as the page now shows it: their change, nobody else's undone.
    saved = client.post("/school/settings", data={
        **shown, "escalation_minutes": "30", "head": str(head.id), "day_ends": "16:00",
        "escalation_seen": hidden(refused.get_data(as_text=True), "escalation_seen"),
        "csrf_token": csrf_from(refused)})
    assert saved.status_code == 302
    db.session.expire_all()
    school = db.session.get(School, w.school.id)
    assert school is not None and (school.escalation_minutes, school.day_ends) == (30, 960)
    assert db.session.get(User, head.id).headteacher is True


def test_the_review_settings_too_are_not_undone_by_an_earlier_page(
        app: Flask, client: FlaskClient) -> None:
    """The same for the weeks to a review and the days to read a concern (walks 15 and 16)."""
    import re

    w = make_world()
    db.session.commit()
    sign_in(client, w.dsl)
    stale = client.get("/school/settings").get_data(as_text=True)
    seen = re.search(r'name="numbers_seen" type="hidden" value="([^"]+)"', stale)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', stale)
    assert seen is not None and token is not None
    assert submit(client, "/school/settings",
                  {"review_weeks": "6", "concern_days": "1"}).status_code == 302
    # The earlier page (4 weeks, 1 day) changes only the days.
    refused = client.post("/school/settings", data={
        "review_weeks": "4", "concern_days": "2", "numbers_seen": seen.group(1),
        "csrf_token": token.group(1)})
    said = _text(refused)
    assert ("so yours were not saved. Saved now: 6 weeks from a decision to its review, 1 "
            "working day to read a new concern.") in said
    assert re.search(r'name="concern_days"[^>]*value="2"', said)  # theirs, kept
    assert re.search(r'name="review_weeks"[^>]*value="6"', said)  # saved, shown
    db.session.expire_all()
    school = db.session.get(School, w.school.id)
    assert school is not None and (school.review_weeks, school.concern_days) == (6, 1)
    again = re.search(r'name="numbers_seen" type="hidden" value="([^"]+)"', said)
    assert again is not None
    assert client.post("/school/settings", data={
        "review_weeks": "6", "concern_days": "2", "numbers_seen": again.group(1),
        "csrf_token": csrf_from(refused)}).status_code == 302
    db.session.expire_all()
    school = db.session.get(School, w.school.id)
    assert school is not None and (school.review_weeks, school.concern_days) == (6, 2)
