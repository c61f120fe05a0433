"""The adviser's referral page (opened from the inbox) reads each row once (issue 15): its audit
event is committed without expiring what the page loaded, so neither the referral, its
responses nor the adviser's session are read again to show them, however many answers and
milestones the referral has."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import event

from portal.models import Referral, User, db
from portal.services import referrals as service
from tests import factories
from tests.referral_data import incident, local
from tests.web.conftest import sign_in

SENT = local("2026-11-16T10:00")


def _statements(client: FlaskClient, url: str) -> tuple[list[str], str]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    db.session.expire_all()  # the test shares the session: each count from the same state
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return seen, response.get_data(as_text=True)


def test_a_referrals_page_reads_nothing_twice_however_many_answers(
        client: FlaskClient) -> None:
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school)
    adviser = factories.user("la_adviser", org=school.local_authority,
                             display_name="Ash Adviser")
    child = factories.child(school, given="Petra", family="Example")
    inc = incident(school, dsl, [(child, "harmed")])
    referral, _ = service.hand_over(inc, "derbyshire", dsl, now=SENT)
    db.session.commit()
    url = f"/referrals/{referral.id}"
    sign_in(client, adviser)
    client.get(url)

    def answered(n: int) -> None:
        ref = db.session.get(Referral, referral.id)
        by = db.session.get(User, adviser.id)
        assert ref is not None and by is not None
        service.record_answer(ref, by, outcome="strategy_meeting",
                              reasons="Strategy meeting needed to plan the next steps.",
                              strategy_meeting_at=SENT + dt.timedelta(days=n + 1),
                              now=SENT + dt.timedelta(hours=n + 1))
        db.session.commit()

    answered(0)
    one, _ = _statements(client, url)
    for n in range(1, 4):
        answered(n)
    service.record_milestone(db.session.get(Referral, referral.id), adviser,
                             kind="minutes_sent", now=SENT + dt.timedelta(days=5))
    db.session.commit()
    many, page = _statements(client, url)
    assert len(many) == len(one), many
    assert len(many) <= 10
    referral_reads = [s for s in many if s.lstrip().startswith("SELECT referrals.")]
    assert len(referral_reads) == 1, referral_reads  # the referral itself, once
    # What the adviser sees is all there: every answer, by whom.
    assert page.count("Ash Adviser") >= 4
    assert "Strategy meeting minutes sent out" in page
