"""Triage of a concern through the real forms (CSRF on), on both databases (issue 13).

A DSL reads a concern whole and records it without an incident as "no further action" or as a
safeguarding concern of another kind with its other route, each with reasons (R2) that never
dismiss it as banter (R3); the concern never vanishes (R1): it stays readable, in each child's
chronology with its outcome, audited, and a decision is corrected only by an addendum (R5).
Staff who raised it see a plain status, never the reasons. The dashboard lists new concerns
oldest first and marks them overdue after the school's working days. The child's words, when
and where are carried into the incident it starts; a change is kept as the concern's correction.
Invented names only.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from portal.models import (
    Addendum,
    AuditEvent,
    Concern,
    ConcernChild,
    ConcernOutcome,
    IncidentChild,
    db,
)
from portal.services import referrals
from tests import factories
from tests.helpers.signing_in import csrf_from, sign_in, submit

NOW = dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.UTC)  # Wednesday 11:00 in London (GMT)
WHAT = ("Wren said at registration that there is often no food at home and she looks after her "
        "little brother in the evenings.")
WORDS = "There's nothing in the cupboards most nights, I make toast for Finlo."
REASONS_NFA = ("Spoke with Wren and her form tutor: she meant the weekend her mum was in "
               "hospital, already known and supported by her aunt. No concern remains.")
REASONS_HOME = ("A concern of neglect at home, not harm between children: referred to the "
                "front door the same morning.")


def text_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def plain(response: TestResponse) -> str:
    """The page's text as a reader sees it (tags gone, entities and spaces folded)."""
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text_of(response))).split())


def make_concern(school: Any, staff: Any, children: list[Any], *, submitted_at: dt.datetime,
                 what: str = WHAT, words: str | None = WORDS, when_text: str | None = None,
                 where: str | None = None) -> Concern:
    concern = Concern(school_id=school.id, raised_by_id=staff.id, state="submitted",
                      occurred_on=submitted_at.date(), submitted_at=submitted_at)
    concern.what_happened = what
    concern.child_words = words
    concern.child_words_missing_reason = None if words else "She did not want to say more"
    concern.when_text = when_text
    concern.where = where
    db.session.add(concern)
    db.session.flush()
    for child in children:
        db.session.add(ConcernChild(concern_id=concern.id, child_id=child.id))
    db.session.flush()
    return concern


def world(app: Flask, monkeypatch: Any) -> dict[str, Any]:
    monkeypatch.setattr(referrals, "utcnow", lambda: NOW)
    school = factories.school("Oakfield Academy", "derbyshire")
    other = factories.school("Northgate College", "darlington")
    staff = factories.user("staff", org=school, display_name="Pat Teacher")
    dsl = factories.user("dsl", org=school, display_name="Dana Lead")
    other_dsl = factories.user("dsl", org=other)
    wren = factories.child(school, "Wren", "Ashdown", dob=dt.date(2014, 2, 3))
    concern = make_concern(school, staff, [wren], submitted_at=NOW - dt.timedelta(hours=2),
                           when_text="Monday evening", where="At home")
    db.session.commit()
    return {"school": school, "staff": staff, "dsl": dsl, "other_dsl": other_dsl,
            "wren": wren, "concern": concern}


def triage_url(concern: Concern) -> str:
    return f"/concerns/{concern.id}/triage"


def record(client: FlaskClient, concern: Concern, **data: Any) -> TestResponse:
    return submit(client, triage_url(concern), data)


HOME = {"kind": "other_concern", "category": "home", "reasons": REASONS_HOME,
        "route": "front_door", "route_on": ["2", "12", "2026"], "route_time": "09:40",
        "route_detail": "Sam Patel, Children's Advice and Duty Service",
        "route_reference": "CADS-55120"}


# ---------------------------------------------------------------------------------------------
# Reading it whole


def test_the_dsl_reads_the_concern_whole_in_plain_words(app: Flask, client: FlaskClient,
                                                         monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    long_words = "Word " * 300 + "and the very last words she said."
    long = make_concern(w["school"], w["staff"], [w["wren"]],
                        submitted_at=NOW - dt.timedelta(hours=1), words=long_words)
    db.session.commit()
    sign_in(client, w["dsl"])
    page = client.get(triage_url(w["concern"]))
    assert page.status_code == 200
    text = plain(page)
    assert "Raised by Pat Teacher on 2 December 2026 at 9:00am" in text  # London time, words
    assert "Wren Ashdown" in text  # the DSL reads the child's name, not initials
    assert WHAT in text
    assert "There's nothing in the cupboards" in text
    assert "Monday evening" in text and "At home" in text
    assert page.headers["Cache-Control"].startswith("no-store")
    # Each choice is asked as a question (a legend), not a bare list of radios.
    legends = re.findall(r'<legend[^>]*>\s*(.*?)\s*</legend>', page.get_data(as_text=True), re.S)
    assert "What did you decide?" in legends
    assert "If it is a safeguarding concern of another kind, which route did it take?" in legends
    # A long text is folded, and "Show all" is a <details>: it works without JavaScript.
    folded = text_of(client.get(triage_url(long)))
    assert "Show all of the child" in folded
    details = folded[folded.index('data-testid="child-words-more"'):]
    assert "and the very last words she said." in details[:details.index("</details>")]
    # Opening it is audited, and marks the concern read by a DSL.
    db.session.expire_all()
    assert db.session.get(Concern, w["concern"].id).dsl_opened_at is not None


# ---------------------------------------------------------------------------------------------
# Recorded without an incident, in the child's chronology


def test_no_further_action_with_reasons_joins_the_childs_chronology(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    response = record(client, w["concern"], kind="no_further_action", reasons=REASONS_NFA)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(triage_url(w["concern"]))
    shown = client.get(triage_url(w["concern"]))
    page = plain(shown)
    assert "No further action" in page and REASONS_NFA in page
    # The reasons as typed, their line breaks kept (a walk saw them run together).
    assert re.search(r'class="portal-lines" data-testid="outcome-reasons" dir="ltr">Spoke with',
                     shown.get_data(as_text=True))
    assert "Dana Lead, 2 December 2026 at 11:00am" in page

    db.session.expire_all()
    concern = db.session.get(Concern, w["concern"].id)
    assert concern.state == "recorded"
    outcome = db.session.scalar(select(ConcernOutcome))
    assert outcome.kind == "no_further_action" and outcome.reasons == REASONS_NFA
    assert REASONS_NFA.encode() not in (outcome.reasons_enc or b"")  # encrypted at rest

    file = plain(client.get(f"/children/{w['wren'].id}"))
    assert "Concern raised" in file
    assert "Recorded without an incident" in file and "No further action" in file
    assert REASONS_NFA in file
    # Who read it is the note's author, beside it; not in its words, where a pupil sharing the
    # reader's name had it hidden as theirs (a walk: "Read by ZÓ (C0001)").
    assert "Dana Lead: Read and recorded without an incident: No further action." in file
    # When it happened keeps its date beside the reporter's words (a walk found the date lost).
    when = w["concern"].occurred_on
    assert f"{when.day} {when:%B %Y}, Monday evening" in file

    action = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "concern.triaged"))
    assert action is not None and action.object_id == str(concern.id)
    assert REASONS_NFA not in str(action.detail)  # codes only, never the reasons

    board = text_of(client.get("/dashboard"))
    assert triage_url(concern) not in board  # left the "new" list once triaged


def test_a_concern_of_another_kind_keeps_its_other_route(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    assert record(client, w["concern"], **HOME).status_code == 302
    outcome = db.session.scalar(select(ConcernOutcome))
    assert (outcome.kind, outcome.category, outcome.route) == ("other_concern", "home",
                                                               "front_door")
    assert outcome.route_reference == "CADS-55120"
    file = plain(client.get(f"/children/{w['wren'].id}"))
    assert "A safeguarding concern of another kind (a concern at home)" in file
    assert ("Route: The local authority's front door (children's social care), "
            "2 December 2026 at 9:40am") in file
    assert "CADS-55120" in file and REASONS_HOME in file


def test_another_kind_needs_its_kind_route_and_when(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    response = record(client, w["concern"], kind="other_concern", reasons=REASONS_HOME)
    assert response.status_code == 200
    text = plain(response)
    assert "Select what kind of concern it is" in text
    assert "Select the route the concern took" in text
    response = record(client, w["concern"], kind="other_concern", category="adult",
                      route="lado", reasons=REASONS_HOME)
    assert "Enter the date and time it was passed on" in plain(response)
    response = record(client, w["concern"], kind="no_further_action", reasons="  ")
    assert "Enter the reasons for this decision" in plain(response)
    assert db.session.scalar(select(ConcernOutcome)) is None
    db.session.expire_all()
    assert db.session.get(Concern, w["concern"].id).state == "submitted"


def test_banter_is_refused_and_nothing_is_recorded(app: Flask, client: FlaskClient,
                                                   monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    response = record(client, w["concern"], kind="no_further_action",
                      reasons="Spoke to them both, it was just banter between friends.")
    assert response.status_code == 200
    text = plain(response)
    assert "You wrote “banter”" in text
    assert "Abusive behaviour between children is never normal" in text
    # What was typed is still on the page to change.
    assert "Spoke to them both" in text_of(response)
    assert db.session.scalar(select(ConcernOutcome)) is None
    # The other route's detail is checked too (R3 wherever a judgement is written).
    response = record(client, w["concern"], **{**HOME, "route_detail": "LADO said horseplay"})
    assert response.status_code == 200 and "horseplay" in plain(response)
    assert db.session.scalar(select(ConcernOutcome)) is None


# ---------------------------------------------------------------------------------------------
# A concern never vanishes; a decision is corrected, never replaced


def test_a_triaged_concern_cannot_vanish_and_is_corrected_only_by_addendum(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    assert record(client, w["concern"], kind="no_further_action",
                  reasons=REASONS_NFA).status_code == 302
    # Still readable, whole, by the DSL, and still in the child's file.
    for url in (triage_url(w["concern"]), f"/concerns/{w['concern'].id}"):
        page = client.get(url)
        assert page.status_code == 200 and WHAT in plain(page)
    assert WHAT in plain(client.get(f"/children/{w['wren'].id}"))
    # Recording it again does not replace the decision.
    again = record(client, w["concern"], **HOME)
    assert again.status_code == 200 and "already been dealt with" in plain(again)
    assert db.session.scalars(select(ConcernOutcome)).all().__len__() == 1
    # No way to delete it: no such address answers.
    assert client.post(f"/concerns/{w['concern'].id}/delete").status_code in (404, 405)

    outcome = db.session.scalar(select(ConcernOutcome))
    url = f"/concerns/{w['concern'].id}/outcomes/{outcome.id}/correction"
    refused = submit(client, url, {"correction": "It was only a joke between them.",
                                   "reason": "Typed the wrong thing"})
    assert refused.status_code == 200 and "You wrote" in plain(refused)
    corrected = "Spoke with Wren and her aunt; the aunt now shops for the family weekly."
    response = submit(client, url, {"correction": corrected,
                                     "reason": "I recorded the wrong conversation"})
    assert response.status_code == 302
    page = plain(client.get(triage_url(w["concern"])))
    assert REASONS_NFA in page and corrected in page  # the original kept beside the correction
    assert "I recorded the wrong conversation" in page
    db.session.expire_all()
    assert db.session.scalar(select(ConcernOutcome)).reasons == REASONS_NFA
    file = plain(client.get(f"/children/{w['wren'].id}"))
    assert corrected in file and REASONS_NFA in file
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"concern.viewed", "concern.triaged", "addendum.added"} <= actions


def test_a_decision_from_a_second_tab_shows_what_was_typed_to_add_as_a_correction(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    """Walk 15: a DSL's second tab, sent after the first had recorded the decision, was told
    "What you typed is still here: add it as a correction instead", but the decision's form
    was gone and the words nowhere on the page; every later visit said to press a button the
    page no longer had."""
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    second = app.test_client()
    sign_in(second, w["dsl"])
    stale = second.get(triage_url(w["concern"]))
    assert record(client, w["concern"], kind="no_further_action",
                  reasons=REASONS_NFA).status_code == 302
    typed = "Ärger zu Hause: Wren's aunt rang at 4pm. 她明天再来。"
    refused = second.post(triage_url(w["concern"]), data={
        "csrf_token": csrf_from(stale), **HOME, "reasons": typed})
    assert refused.status_code == 200
    page = plain(refused)
    assert "This concern has already been dealt with, so this was not saved" in page
    shown = text_of(refused)
    assert 'data-testid="typed-too-late"' in shown
    kept = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", shown.split(
        'data-testid="typed-too-late"')[1].split("</div>\n    </div>")[0])).split())
    assert typed in kept
    # The whole decision chosen, not its kind alone (walk 16).
    assert ("A safeguarding concern of another kind. A concern at home. The local authority's "
            "front door (children's social care). Passed on 2 December 2026 at 9:40am. Sam "
            "Patel, Children's Advice and Duty Service. CADS-55120") in kept
    outcome = db.session.scalar(select(ConcernOutcome))
    assert outcome is not None and outcome.reasons == REASONS_NFA
    correction = f"/concerns/{w['concern'].id}/outcomes/{outcome.id}/correction"
    assert f'href="{correction}"' in shown
    # Coming back: still there, with a way to discard it, and no button it does not have.
    again = second.get(triage_url(w["concern"]))
    later = plain(again)
    assert typed in later and "Record without an incident" not in later
    assert "Discard what you typed" in later
    assert 'data-testid="typed-too-late"' in text_of(again)
    # Used in a correction, the words are not offered again (walk 16: on every visit).
    assert submit(second, correction, {"correction": typed,
                                       "reason": "Her aunt rang after it was recorded"}
                  ).status_code == 302
    after = second.get(triage_url(w["concern"]))
    assert 'data-testid="typed-too-late"' not in text_of(after)
    assert "This is what you typed" not in plain(after) and typed in plain(after)


def test_the_plain_view_shows_a_correction_beside_what_was_sent(
        app: Flask, client: FlaskClient, other_client: FlaskClient, monkeypatch: Any) -> None:
    """Walk 15: after a DSL corrected where it happened, the concern's plain view still read
    "Where: At home" with no sign of it; the DSL's page showed the correction."""
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    corrected = "Über den Zaun, im Park — 公园里"
    assert submit(client, f"/concerns/{w['concern'].id}/correction", {
        "field": "where", "correction": corrected,
        "reason": "Wren said so herself later"}).status_code == 302
    view = plain(client.get(f"/concerns/{w['concern'].id}"))
    assert "At home" in view and corrected in view  # the original kept beside it (R5)
    assert "Correction of where it happened by Dana Lead" in view
    assert "Why: Wren said so herself later" in view
    # The member of staff who raised it is told there is one, never what or why.
    sign_in(other_client, w["staff"])
    theirs = plain(other_client.get(f"/concerns/{w['concern'].id}"))
    assert "A safeguarding lead has added a correction to what this concern recorded" in theirs
    assert "At home" in theirs and corrected not in theirs and "Wren said so" not in theirs


def test_another_schools_concern_is_not_found(app: Flask, client: FlaskClient,
                                              monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(client, w["other_dsl"])
    concern = w["concern"]
    assert client.get(triage_url(concern)).status_code == 404
    token = csrf_from(client.get("/dashboard"))
    for url, data in ((triage_url(concern), {"kind": "no_further_action",
                                             "reasons": REASONS_NFA}),
                      (f"/concerns/{concern.id}/add-to-incident", {"incident": str(uuid.uuid4())}),
                      (f"/concerns/{concern.id}/correction", {"field": "where",
                                                              "correction": "x", "reason": "y"})):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 404
    assert db.session.scalar(select(ConcernOutcome)) is None
    assert db.session.scalar(select(Addendum)) is None


def test_staff_see_a_plain_status_but_never_the_reasons(app: Flask, client: FlaskClient,
                                                        other_client: FlaskClient,
                                                        monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(other_client, w["staff"])
    assert "Sent: waiting for a safeguarding lead" in plain(
        other_client.get(f"/concerns/{w['concern'].id}"))
    sign_in(client, w["dsl"])
    client.get(triage_url(w["concern"]))
    assert "Read by a safeguarding lead on 2 December 2026 at 11:00am" in plain(
        other_client.get(f"/concerns/{w['concern'].id}"))
    assert record(client, w["concern"], kind="no_further_action",
                  reasons=REASONS_NFA).status_code == 302
    for url in (f"/concerns/{w['concern'].id}", "/concerns/mine"):
        page = plain(other_client.get(url))
        assert "Recorded — no further action" in page
        assert REASONS_NFA not in page and "aunt" not in page
    assert other_client.get(triage_url(w["concern"])).status_code in (403, 404)


def test_staff_are_not_told_the_kind_or_route_of_another_concern(
        app: Flask, client: FlaskClient, other_client: FlaskClient, monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    assert record(client, w["concern"], **HOME).status_code == 302
    sign_in(other_client, w["staff"])
    page = plain(other_client.get(f"/concerns/{w['concern'].id}"))
    assert "Recorded by a safeguarding lead" in page
    for secret in ("front door", "CADS-55120", "A concern at home", REASONS_HOME):
        assert secret not in page


# ---------------------------------------------------------------------------------------------
# The dashboard: new until triaged, oldest first, overdue after the school's working days


def test_dashboard_lists_new_concerns_oldest_first_and_overdue(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    # Friday 09:00 (GMT): due Monday 09:00 at 1 working day, so overdue on Wednesday.
    old = make_concern(w["school"], w["staff"], [w["wren"]],
                       submitted_at=dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))
    older = make_concern(w["school"], w["staff"], [w["wren"]],
                         submitted_at=dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC))
    db.session.commit()
    sign_in(client, w["dsl"])
    board = text_of(client.get("/dashboard"))
    new = board[board.index('id="new-concerns"'):board.index('id="open"')]
    order = [new.index(triage_url(c)) for c in (older, old, w["concern"])]
    assert order == sorted(order)  # oldest first
    overdue = board[board.index('id="overdue"'):board.index('id="reviews-due"')]
    assert triage_url(old) in overdue and triage_url(older) in overdue
    assert triage_url(w["concern"]) not in overdue

    # The school's limit: 5 working days. Friday 27th is then due Friday 4 December.
    response = submit(client, "/school/settings", {"review_weeks": "4", "concern_days": "5"})
    assert response.status_code == 302
    board = text_of(client.get("/dashboard"))
    overdue = board[board.index('id="overdue"'):board.index('id="reviews-due"')]
    assert triage_url(old) not in overdue and triage_url(older) not in overdue
    refused = submit(client, "/school/settings", {"review_weeks": "4", "concern_days": "0"})
    assert "Enter a number of working days from 1 to 10" in plain(refused)

    # Triaged, it leaves both lists.
    assert record(client, older, kind="no_further_action", reasons=REASONS_NFA).status_code == 302
    board = text_of(client.get("/dashboard"))
    assert triage_url(older) not in board and triage_url(old) in board


# ---------------------------------------------------------------------------------------------
# Carried through into the incident it starts, or an open one it joins


def _started(client: FlaskClient, concern: Concern) -> str:
    page = client.get(triage_url(concern))
    response = client.post("/incidents/new", data={
        "csrf_token": csrf_from(page), "concerns": str(concern.id), "submit": "Start an incident"})
    assert response.status_code == 302, text_of(response)
    match = re.search(r"/incidents/([0-9a-f-]{36})/facts", response.headers["Location"])
    assert match
    return match.group(1)


def test_the_childs_words_when_and_where_are_carried_and_a_change_kept(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    sign_in(client, w["dsl"])
    iid = _started(client, w["concern"])
    db.session.expire_all()
    assert db.session.get(Concern, w["concern"].id).state == "picked_up"
    assert "incident I0001 started from it" in plain(client.get(f"/children/{w['wren'].id}"))

    summary = text_of(client.get(f"/incidents/{iid}/summary"))
    assert WHAT in summary and "When: 2 December 2026, Monday evening" in summary
    assert "Where: At home" in summary

    url = f"/incidents/{iid}/children/{w['wren'].id}"
    page = client.get(url)
    assert WORDS.replace("'", "&#39;") in text_of(page)  # pre-filled, to confirm or correct
    version = re.search(r'name="version"[^>]*value="(\d+)"', text_of(page)).group(1)
    child = {"csrf_token": csrf_from(page), "version": version, "role": "harmed",
             "dob": ["3", "2", "2014"], "local_authority": "derbyshire", "same_school": "y"}
    changed = "There's nothing in the cupboards most nights. I make toast for my brother."
    response = client.post(url, data={**child, "child_words": changed})
    assert response.status_code == 200
    assert "Enter why you changed the child&#39;s words" in text_of(response)
    assert db.session.scalar(select(Addendum)) is None
    response = client.post(url, data={**child, "child_words": changed,
                                       "words_change_reason": "Wren asked me to correct it"})
    assert response.status_code == 302, text_of(response)
    fix = db.session.scalar(select(Addendum))
    assert (fix.target_type, fix.field, fix.correction) == ("concern", "child_words", changed)
    db.session.expire_all()
    assert db.session.get(Concern, w["concern"].id).child_words == WORDS  # original kept
    page = plain(client.get(triage_url(w["concern"])))
    assert "Wren asked me to correct it" in page and WORDS in page
    # Saved again unchanged: no second correction.
    page = client.get(url)
    version = re.search(r'name="version"[^>]*value="(\d+)"', text_of(page)).group(1)
    assert client.post(url, data={**child, "csrf_token": csrf_from(page), "version": version,
                                  "child_words": changed}).status_code == 302
    assert len(db.session.scalars(select(Addendum)).all()) == 1


def test_a_concern_added_to_an_open_incident(app: Flask, client: FlaskClient,
                                             monkeypatch: Any) -> None:
    w = world(app, monkeypatch)
    second = make_concern(w["school"], w["staff"], [w["wren"]],
                          submitted_at=NOW - dt.timedelta(hours=1))
    db.session.commit()
    sign_in(client, w["dsl"])
    iid = _started(client, w["concern"])
    page = client.get(triage_url(second))
    assert "Incident I0001" in plain(page)
    response = client.post(f"/concerns/{second.id}/add-to-incident",
                           data={"csrf_token": csrf_from(page), "incident": iid})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/incidents/{iid}/children")
    db.session.expire_all()
    assert db.session.get(Concern, second.id).state == "picked_up"
    assert "added to incident I0001" in plain(client.get(f"/children/{w['wren'].id}"))


def test_why_no_words_were_recorded_is_never_offered_as_a_childs_words(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    """A concern naming two children that recorded no words, only why: the child's page of the
    incident said the concern "recorded these words. If they are this child's, copy them in",
    above the reason (a walk of 1 December). It says no words were recorded, and why."""
    w = world(app, monkeypatch)
    second = factories.child(w["school"], "Анастасія", "Шевченко", dob=dt.date(2013, 5, 6))
    concern = make_concern(w["school"], w["staff"], [w["wren"], second], words=None,
                           submitted_at=NOW - dt.timedelta(hours=1))
    db.session.commit()
    sign_in(client, w["dsl"])
    iid = _started(client, concern)
    page = plain(client.get(f"/incidents/{iid}/children/{second.id}"))
    assert "recorded no words from them. Why, as the concern says: She did not want to say more" \
        in page
    assert "use them:" not in page and "Use these words" not in page


def test_words_of_a_concern_naming_several_children_are_used_with_one_button(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    """A walk: "If they are this child's, copy them in", with no way to but selecting and
    pasting by hand on a phone. A button puts them in the box, keeps what was typed, and saves
    nothing until the DSL presses "Save child"."""
    w = world(app, monkeypatch)
    second = factories.child(w["school"], "Анастасія", "Шевченко", dob=dt.date(2013, 5, 6))
    typed_words = "Він сказав, що покаже всім. He said he'd show everyone."
    concern = make_concern(w["school"], w["staff"], [w["wren"], second], words=typed_words,
                           submitted_at=NOW - dt.timedelta(hours=1))
    db.session.commit()
    sign_in(client, w["dsl"])
    iid = _started(client, concern)
    url = f"/incidents/{iid}/children/{second.id}"
    page = client.get(url)
    shown = text_of(page)
    assert "Use these words for Анастасія" in shown
    assert 'name="use_concern_words"' in shown and f'formaction="{url}?#child_words"' in shown
    version = re.search(r'name="version"[^>]*value="(\d+)"', shown).group(1)
    used = client.post(url, data={
        "csrf_token": csrf_from(page), "version": version, "role": "witness",
        "dob": ["6", "5", "2013"], "local_authority": "derbyshire", "same_school": "y",
        "household": "H2", "child_words": "", "use_concern_words": "1"})
    assert used.status_code == 200
    again = html_lib.unescape(text_of(used))
    box = again[again.index('id="child_words"'):]
    assert box[box.index(">") + 1:].startswith(typed_words)
    assert re.search(r'value="witness"[^>]*checked', again)  # what was typed is kept
    assert 'value="H2"' in again
    assert "There is a problem" not in again
    assert "The concern's words are in the box below." in again
    db.session.expire_all()
    assert db.session.scalar(select(IncidentChild).where(
        IncidentChild.child_id == second.id)) is None  # nothing saved
    # Left and opened again: the words the button put in are in its draft, with the rest (a
    # walk found the box empty).
    back = html_lib.unescape(client.get(url).get_data(as_text=True))
    box = back[back.index('id="child_words"'):]
    assert box[box.index(">") + 1:].startswith(typed_words)
    assert 'value="H2"' in back
    # Words typed first are kept, the concern's added below them (a walk lost what the child
    # had told the DSL).
    told = "Вона сказала мені, що це був жарт."
    both = html_lib.unescape(text_of(client.post(url, data={
        "csrf_token": csrf_from(page), "version": version, "role": "witness",
        "dob": ["6", "5", "2013"], "local_authority": "derbyshire", "same_school": "y",
        "child_words": told, "use_concern_words": "1"})))
    box = both[both.index('id="child_words"'):]
    assert box[box.index(">") + 1:].startswith(f"{told}\n\n{typed_words}")
    assert "The concern's words are added below what you had typed" in both


def test_a_child_named_alone_in_two_concerns_is_saved_with_the_words_shown(
        app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    """Walk 5: Siân named alone in two concerns, each with her words; the incident from both
    filled her words from one and, saved unchanged, asked why they were changed from what
    "the concern" recorded: the DSL had to invent a reason, kept as a correction."""
    w = world(app, monkeypatch)
    later_words = "Everyone has seen it now."
    second = make_concern(w["school"], w["staff"], [w["wren"]], words=later_words,
                          submitted_at=NOW - dt.timedelta(hours=1))
    db.session.commit()
    sign_in(client, w["dsl"])
    page = client.get(triage_url(w["concern"]))
    started = client.post("/incidents/new", data={
        "csrf_token": csrf_from(page), "concerns": [str(w["concern"].id), str(second.id)],
        "submit": "Start an incident"})
    assert started.status_code == 302, text_of(started)
    iid = re.search(r"/incidents/([0-9a-f-]{36})/facts", started.headers["Location"]).group(1)
    url = f"/incidents/{iid}/children/{w['wren'].id}"
    page = client.get(url)
    shown = re.search(r'<textarea[^>]*name="child_words"[^>]*>(.*?)</textarea>',
                      text_of(page), re.S)
    assert shown is not None
    import html as htmllib
    words = htmllib.unescape(shown.group(1)).strip()
    version = re.search(r'name="version"[^>]*value="(\d+)"', text_of(page)).group(1)
    saved = client.post(url, data={
        "csrf_token": csrf_from(page), "version": version, "role": "harmed",
        "dob": ["3", "2", "2014"], "local_authority": "derbyshire", "same_school": "y",
        "child_words": words})
    assert saved.status_code == 302, plain(saved)
    assert db.session.scalar(select(Addendum)) is None  # nothing corrected
    # "What happened" offers a correction of each concern, told apart (walk 5: "add a
    # correction to the concern raised 2 December 2026", three times over).
    summary = plain(client.get(f"/incidents/{iid}/summary")).replace(" ,", ",")
    assert "Filled in from the concerns" in summary
    # One link a line (walk 8: the links ran on as one sentence).
    assert ("If a concern itself recorded something wrongly, add a correction to it (its "
            "original is kept): the concern raised 2 December 2026 at 9:00am by Pat Teacher "
            "the concern raised 2 December 2026 at 10:00am by Pat Teacher") in summary
