"""R9 parents and carers, R10 kept under review: through the real forms (CSRF on).

The incident pages' clock (`portal.incidents.views._now`) is fixed so dates are certain and can
be moved on to make a review fall due.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.incidents import views
from portal.models import (
    AuditEvent,
    ChildRecordEntry,
    Decision,
    Incident,
    ParentContact,
    School,
    db,
)
from portal.services.recording import DISMISSIVE_MESSAGE
from tests.helpers.incidents import (
    add_child,
    close,
    decide,
    make_concern,
    ready_to_hand_over,
    save_facts,
    start,
    submit_v,
    tell_parents,
    text,
    world,
)
from tests.helpers.signing_in import csrf_from, sign_in, submit
from tests.web import handover_forms

# Monday 30 November 2026, 12:00 in London (GMT).
NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    state = {"now": NOON}
    monkeypatch.setattr(views, "_now", lambda: state["now"])
    return state


def date_parts(day: dt.date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def hand_over_to_police(client: FlaskClient, iid: uuid.UUID) -> None:
    """R4: the report to the police, which the incident's mandatory routes need besides the
    referral to children's social care."""
    assert submit(client, f"/incidents/{iid}/handing-over/police-report", {
        "happened_on": ["17", "11", "2026"], "happened_time": "11:00", "method": "101",
        "force": "Derbyshire Constabulary", "reference": "14/88321/26"}).status_code == 302


def parents_url(iid: uuid.UUID, child: Any) -> str:
    return f"/incidents/{iid}/children/{child.id}/parents"


def review(client: FlaskClient, iid: uuid.UUID, decision_id: uuid.UUID, **data: Any) -> Any:
    return submit(client, f"/incidents/{iid}/decisions/{decision_id}/review", data)


def children_section(client: FlaskClient, iid: uuid.UUID) -> str:
    page = text(client.get(f"/incidents/{iid}"))
    return page[page.index('id="children"'):page.index('id="summary"')]


def section(html: str, start_marker: str, end_marker: str) -> str:
    """From `start_marker` to the first `end_marker` after it."""
    begin = html.index(start_marker)
    return html[begin:html.index(end_marker, begin)]


# ---------------------------------------------------------------------------------------------
# R9


def test_r9_closing_refused_until_every_involved_child_has_a_record_then_allowed(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    section_html = children_section(client, iid)
    assert "Not yet recorded" in section_html
    assert parents_url(iid, w["mia"]) in section_html

    for child in ("mia", "kai"):
        assert decide(client, iid, kind="internal_support", child=str(w[child].id),
                      reasons="Safety plan agreed with the child.").status_code == 302
    assert handover_forms.hand_over(
        client, f"/incidents/{iid}/hand-over/derbyshire").status_code == 302
    hand_over_to_police(client, iid)
    page = text(close(client, iid))
    assert ("Record whether Mia Harmed (C0001)'s parents or carers were told, or why not"
            in page)
    assert ("Record whether Kai Harmer (C0002)'s parents or carers were told, or why not"
            in page)

    assert tell_parents(client, iid, w["mia"]).status_code == 302
    page = text(close(client, iid))
    assert "Mia Harmed (C0001)'s parents" not in page
    assert "Kai Harmer (C0002)'s parents" in page
    assert submit(client, parents_url(iid, w["kai"]), {
        "told": "no", "reason": "police_advised",
        "detail": "PC Hale asked us to wait until the interview."}).status_code == 302

    section_html = children_section(client, iid)
    assert ("Parents or carers: told on 29 November 2026 at 3:10pm by Ms Okafor, deputy DSL"
            in section_html)
    assert ("Parents or carers: not told, because the police advised against it (PC Hale asked "
            "us to wait until the interview.)") in section_html
    assert "Not yet recorded" not in section_html

    assert close(client, iid).status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, iid).state == "closed"

    # Encrypted at rest; each child's own chronology; audited with codes only.
    contact = db.session.query(ParentContact).filter_by(child_id=w["mia"].id).one()
    assert contact.told_at == dt.datetime(2026, 11, 29, 15, 10, tzinfo=dt.UTC)
    assert b"Okafor" not in (contact.by_whom_enc or b"")
    entries = db.session.query(ChildRecordEntry).filter_by(child_id=w["mia"].id,
                                                          kind="parents_or_carers").all()
    assert len(entries) == 1 and "told on 29 November 2026 at 3:10pm" in entries[0].body
    assert "Kai" not in entries[0].body
    events = db.session.query(AuditEvent).filter_by(action="parents.recorded").all()
    assert len(events) == 2
    assert all("Okafor" not in repr(e.detail) for e in events)


def test_r9_other_without_text_and_future_time_refused_keeping_what_was_typed(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    url = parents_url(iid, w["mia"])

    nothing = text(submit(client, url, {}))
    assert "Select whether their parents or carers were told" in nothing

    other = text(submit(client, url, {"told": "no", "reason": "other", "detail": "  "}))
    assert "There is a problem" in other and "Enter why they were not told" in other
    no_reason = text(submit(client, url, {"told": "no"}))
    assert "Select why they were not told" in no_reason

    # 30 November 2026 at 12:30pm is after the clock's noon.
    future = submit(client, url, {"told": "yes", "told_date": date_parts(NOON.date()),
                                  "told_time": "12:30", "by_whom": "Mr Typed Name"})
    page = text(future)
    assert future.status_code == 200
    assert "The time they were told must be now or earlier" in page
    # The time box is the one marked and linked, not the date's (a walk).
    assert 'href="#told_time"' in page and 'href="#told_date-day"' not in page
    assert 'value="Mr Typed Name"' in page and 'value="12:30"' in page
    missing = text(submit(client, url, {"told": "yes", "told_time": "09:00"}))
    assert "Enter the date and time they were told" in missing
    assert "Enter who told them" in missing
    assert db.session.query(ParentContact).count() == 0

    # A minute or two ahead of the portal's clock (a phone running fast) is taken as now.
    fast = submit(client, url, {"told": "yes", "told_date": date_parts(NOON.date()),
                                "told_time": "12:03", "by_whom": "Mr Typed Name"})
    assert fast.status_code == 302
    assert db.session.query(ParentContact).count() == 1

    ok = submit(client, url, {"told": "no", "reason": "other",
                              "detail": "Mia is 17 and asked us not to; we respect that."})
    assert ok.status_code == 302
    assert ("Parents or carers: not told. Why: Mia is 17 and asked us not to; we respect that."
            in children_section(client, iid))


def test_r9_a_later_record_supersedes_and_the_earlier_is_kept(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    assert submit(client, parents_url(iid, w["kai"]), {
        "told": "no", "reason": "csc_advised"}).status_code == 302
    assert tell_parents(client, iid, w["kai"], by_whom="Dana Lead").status_code == 302
    html = children_section(client, iid)
    current = section(html, 'data-testid="parents-C0002"', "</span>")
    assert "told on 29 November 2026 at 3:10pm by Dana Lead" in current
    history = html[html.index('data-testid="parents-history-C0002"'):]
    assert ("Parents or carers: not told, because children's social care advised against it"
            in history)
    assert db.session.query(ParentContact).filter_by(child_id=w["kai"].id).count() == 2


def test_r9_witness_only_incident_requires_it_for_the_witness(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w = world(app)
    sign_in(client, w["dsl"])
    concern = make_concern(w["school"], w["staff"], [w["mia"]])
    db.session.commit()
    iid = start(client, concern)
    assert save_facts(client, iid).status_code == 302
    assert add_child(client, iid, w["mia"], "witness").status_code == 302
    message = "Record whether Mia Harmed (C0001)'s parents or carers were told, or why not"
    assert message in text(close(client, iid))
    assert tell_parents(client, iid, w["mia"]).status_code == 302
    assert message not in text(close(client, iid))


def test_r9_a_witness_beside_involved_children_is_offered_but_not_required(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    _, iid = ready_to_hand_over(app, client)
    response = submit_v(client, f"/incidents/{iid}/children/new", {
        "given_name": "Wren", "family_name": "Witness", "role": "witness",
        "dob": ["2", "2", "2013"], "local_authority": "derbyshire", "same_school": "y"})
    assert response.status_code == 302
    page = text(close(client, iid))
    assert "Wren Witness" not in page.split("Kai Harmer (C0002)'s parents")[1]
    assert "Record whether Wren Witness" not in page
    html = children_section(client, iid)
    assert html.count("Record whether they were told") == 3  # witness offered too


# ---------------------------------------------------------------------------------------------
# R10


def test_r10_no_further_action_without_a_date_gets_the_school_default(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    form = text(client.get(f"/incidents/{iid}/decisions/new"))
    # Pre-filled: 30 November 2026 + 4 weeks = 28 December 2026.
    assert re.search(r'name="review_on"[^>]*value="28"', form)
    assert decide(client, iid, kind="no_further_action", child=str(w["kai"].id),
                  reasons="Kai apologised; behaviour plan in place.",
                  review_on=["", "", ""]).status_code == 302
    decision = db.session.query(Decision).one()
    assert decision.review_on == dt.date(2026, 12, 28)
    # A decision that is not reviewed carries no date, whatever the form held.
    assert decide(client, iid, kind="early_help", child=str(w["mia"].id),
                  reasons="Family support worker allocated.",
                  review_on=date_parts(dt.date(2027, 1, 4))).status_code == 302
    assert db.session.query(Decision).filter_by(kind="early_help").one().review_on is None
    page = text(client.get(f"/incidents/{iid}"))
    assert "Review due on 28 December 2026" in page
    assert "no_further_action" not in page.split('id="decisions"')[1]


def test_r10_review_date_in_the_past_or_too_far_refused(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    for day, message in (
        (dt.date(2026, 11, 30), "The review date must be in the future"),
        (dt.date(2026, 11, 1), "The review date must be in the future"),
        (dt.date(2027, 6, 1), "The review date must be within 26 weeks"),
    ):
        response = decide(client, iid, kind="internal_support", child=str(w["kai"].id),
                          reasons="Mentoring with the head of year.", review_on=date_parts(day))
        assert response.status_code == 200
        page = text(response)
        assert message in page, day
        assert "Mentoring with the head of year." in page  # what was typed is kept
    assert db.session.query(Decision).count() == 0


def test_r10_review_falls_due_on_the_dashboard_and_goes_once_reviewed(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    assert decide(client, iid, kind="no_further_action", child=str(w["kai"].id),
                  reasons="Kai apologised; behaviour plan in place.",
                  review_on=date_parts(dt.date(2026, 12, 4))).status_code == 302
    decision = db.session.query(Decision).one()

    board = text(client.get("/dashboard"))
    assert 'data-testid="count-reviews">0<' in board
    # Said to be the decisions' reviews, not the files' retention (a walk read "Reviews due 0"
    # while a file was due for its retention review, and did not open that page).
    assert 'id="reviews-due">Decisions to review <' in board
    assert ('No decision is due for review. Files kept to the end of their retention are '
            'reviewed on the <a class="govuk-link" href="/retention">retention page</a>.') in board
    coming = section(board, 'data-testid="reviews-coming"', "</ul>")
    assert "Incident I0001: review no further action" in coming and "KH (C0002)" in coming

    clock["now"] = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)  # the day it is due
    board = text(client.get("/dashboard"))
    assert 'data-testid="count-reviews">1<' in board
    due = section(board, 'data-testid="reviews-due"', "</ul>")
    assert "Incident I0001: review no further action" in due
    assert "KH (C0002)" in due and "Kai" not in due and "Due 4 December 2026" in due
    assert f"/incidents/{iid}/decisions/{decision.id}/review" in due

    # Review again in two weeks: the original is no longer due, the review is, on its date.
    again = review(client, iid, decision.id, outcome="again",
                   next_review_on=date_parts(dt.date(2026, 12, 18)),
                   reasons="No further incidents; Kai is engaging with mentoring.")
    assert again.status_code == 302
    board = text(client.get("/dashboard"))
    assert 'data-testid="count-reviews">0<' in board
    # Said to be the decisions' reviews, not the files' retention (a walk read "Reviews due 0"
    # while a file was due for its retention review, and did not open that page).
    assert 'id="reviews-due">Decisions to review <' in board
    assert ('No decision is due for review. Files kept to the end of their retention are '
            'reviewed on the <a class="govuk-link" href="/retention">retention page</a>.') in board
    page = text(client.get(f"/incidents/{iid}"))
    assert "No change: review again on 18 December 2026" in page
    audit = db.session.query(AuditEvent).filter_by(action="decision.recorded").all()
    assert any((e.detail or {}).get("kind") == "review" for e in audit)

    clock["now"] = dt.datetime(2026, 12, 21, 8, 0, tzinfo=dt.UTC)
    board = text(client.get("/dashboard"))
    due = section(board, 'data-testid="reviews-due"', "</ul>")
    assert "Incident I0001: review an earlier review" in due and "Overdue" in due
    second = db.session.query(Decision).filter_by(kind="review").one()
    assert review(client, iid, second.id, outcome="ended",
                  reasons="Six weeks without concern; plan ended with Kai and his parents."
                  ).status_code == 302
    assert 'data-testid="count-reviews">0<' in text(client.get("/dashboard"))
    # A decision is reviewed once.
    assert "already been reviewed" in text(review(client, iid, decision.id, outcome="ended",
                                                  reasons="Checked again."))


def test_r10_a_review_needs_reasons_an_outcome_and_is_never_dismissive(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    assert decide(client, iid, kind="internal_support", child=str(w["kai"].id),
                  reasons="Behaviour plan agreed.").status_code == 302
    decision = db.session.query(Decision).one()
    empty = text(review(client, iid, decision.id, outcome="ended", reasons=" "))
    assert "Enter the reasons for this decision" in empty
    assert "Select what the review found" in text(review(client, iid, decision.id,
                                                         reasons="Checked with staff."))
    banter = text(review(client, iid, decision.id, outcome="ended",
                         reasons="It was just banter, they are friends again."))
    assert DISMISSIVE_MESSAGE in banter
    past = text(review(client, iid, decision.id, outcome="again", reasons="Still watching.",
                       next_review_on=date_parts(dt.date(2026, 11, 2))))
    assert "The review date must be in the future" in past
    assert db.session.query(Decision).count() == 1

    ok = review(client, iid, decision.id, outcome="reconsider",
                reasons="Two more reports this week of Kai pressuring Mia for images.")
    assert ok.status_code == 302
    page = text(client.get(f"/incidents/{iid}"))
    warning = section(page, 'data-testid="reconsider"', "</div>")
    assert "the behaviour continued or escalated. Reconsider the routes" in warning
    assert "Kai Harmer (C0002)" in warning


def test_r10_an_escalation_must_be_reconsidered_before_closing(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    """A review that found the behaviour continued or escalated stops the incident closing until
    a new decision about that child is recorded."""
    w, iid = ready_to_hand_over(app, client)
    for child in ("mia", "kai"):
        assert decide(client, iid, kind="internal_support", child=str(w[child].id),
                      reasons="Safety plan agreed with the child.").status_code == 302
        assert tell_parents(client, iid, w[child]).status_code == 302
    assert handover_forms.hand_over(
        client, f"/incidents/{iid}/hand-over/derbyshire").status_code == 302
    hand_over_to_police(client, iid)
    kai_decision = db.session.query(Decision).filter_by(child_id=w["kai"].id).one()
    clock["now"] = NOON + dt.timedelta(hours=1)
    assert review(client, iid, kai_decision.id, outcome="reconsider",
                  reasons="Two more reports this week of Kai pressuring Mia for images."
                  ).status_code == 302
    page = text(close(client, iid))
    assert ("A review found that the behaviour towards or by Kai Harmer (C0002) continued or "
            "escalated: reconsider the routes and record a new decision before closing") in page
    db.session.expire_all()
    assert db.session.get(Incident, iid).state == "open"

    clock["now"] = NOON + dt.timedelta(hours=2)
    assert decide(client, iid, kind="other", child=str(w["kai"].id),
                  reasons="Referred again to the advice team; seating and supervision changed."
                  ).status_code == 302
    assert close(client, iid).status_code == 302
    # Reconsidered: the warning has done its work and is gone.
    assert 'data-testid="reconsider"' not in client.get(f"/incidents/{iid}").get_data(
        as_text=True)

    # A decision sent from a form opened before the close (another tab) is refused in words,
    # with what was typed kept, never dropped silently.
    decisions_before = db.session.query(Decision).count()
    token = csrf_from(client.get(f"/incidents/{iid}/summary/correction"))
    late = client.post(f"/incidents/{iid}/decisions/new", data={
        "csrf_token": token, "kind": "other", "child": str(w["mia"].id),
        "reasons": "Mia offered a weekly check-in with her tutor."})
    assert late.status_code == 200
    assert "This incident has been closed, so this was not saved" in text(late)
    assert "Mia offered a weekly check-in with her tutor." in text(late)
    assert db.session.query(Decision).count() == decisions_before


def test_r10_a_closed_incident_still_gets_its_review(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    for child in ("mia", "kai"):
        assert decide(client, iid, kind="internal_support", child=str(w[child].id),
                      reasons="Safety plan agreed.").status_code == 302
        assert tell_parents(client, iid, w[child]).status_code == 302
    assert handover_forms.hand_over(
        client, f"/incidents/{iid}/hand-over/derbyshire").status_code == 302
    hand_over_to_police(client, iid)
    assert close(client, iid).status_code == 302
    # Closed: parents records are edits like any other and go back to the incident page.
    assert client.get(parents_url(iid, w["mia"])).status_code == 302

    clock["now"] = dt.datetime(2026, 12, 29, 9, 0, tzinfo=dt.UTC)
    board = text(client.get("/dashboard"))
    assert 'data-testid="count-reviews">2<' in board
    decision = db.session.query(Decision).filter_by(child_id=w["mia"].id,
                                                    kind="internal_support").one()
    assert review(client, iid, decision.id, outcome="ended",
                  reasons="Mia says she feels safe; no further reports.").status_code == 302
    assert 'data-testid="count-reviews">1<' in text(client.get("/dashboard"))


def test_r10_the_school_setting_changes_the_default(
    app: Flask, client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    for bad in ("0", "27"):
        refused = submit(client, "/school/settings", {"review_weeks": bad})
        assert "Enter a number of weeks from 1 to 26" in text(refused)
    assert submit(client, "/school/settings", {"review_weeks": "2"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(School, w["school"].id).review_weeks == 2
    assert db.session.query(AuditEvent).filter_by(action="school.settings_updated").count() == 1
    form = text(client.get(f"/incidents/{iid}/decisions/new"))
    assert re.search(r'name="review_on"[^>]*value="14"', form)  # 30 November + 2 weeks
    assert decide(client, iid, kind="no_further_action", child=str(w["kai"].id),
                  reasons="Kai apologised; behaviour plan in place.").status_code == 302
    assert db.session.query(Decision).one().review_on == dt.date(2026, 12, 14)
    # Another school keeps its own default.
    other = db.session.query(School).filter(School.id != w["school"].id).one()
    assert other.review_weeks == 4


def test_another_schools_dsl_gets_404_on_both_forms(
    app: Flask, client: FlaskClient, other_client: FlaskClient, clock: dict[str, dt.datetime]
) -> None:
    w, iid = ready_to_hand_over(app, client)
    assert decide(client, iid, kind="no_further_action", child=str(w["kai"].id),
                  reasons="Kai apologised; behaviour plan in place.").status_code == 302
    decision = db.session.query(Decision).one()
    sign_in(other_client, w["other_dsl"])
    for path in (f"/incidents/{iid}/children/{w['mia'].id}/parents",
                 f"/incidents/{iid}/decisions/{decision.id}/review"):
        assert other_client.get(path).status_code == 404, path
        assert other_client.post(path, data={}).status_code in (400, 404), path
    # And the other school's dashboard lists none of this school's reviews.
    clock["now"] = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    assert 'data-testid="count-reviews">0<' in text(other_client.get("/dashboard"))
    assert 'data-testid="count-reviews">1<' in text(client.get("/dashboard"))
