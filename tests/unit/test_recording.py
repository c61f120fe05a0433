"""The recording rules as services: R1-R10 refused in portal.services, whatever the form says."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from portal.models import Decision, Incident, IncidentRevision, db
from portal.refusal import Refused
from portal.services import incidents as svc
from portal.services.recording import (
    DISMISSIVE_MESSAGE,
    ClosingRefused,
    check_reasons,
    dismissive_message,
    find_dismissive,
)
from tests import factories
from tests.helpers.incidents import OCCURRED, make_concern

NOW = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", [
    "banter", "It was BANTER", "just a joke", "he was joking", "having a laugh",
    "boys will be boys", "Boys being boys", "part of growing up", "horseplay", "horse play",
    "just messing about", "mucking about", "harmless fun", "It's a joke",
])
def test_r3_dismissive_phrases_found(text: str) -> None:
    typed = find_dismissive(text)
    assert typed
    with pytest.raises(Refused) as caught:
        check_reasons(text)
    assert caught.value.rule == "R3" and caught.value.message == dismissive_message(typed)
    assert caught.value.message.endswith(DISMISSIVE_MESSAGE)


@pytest.mark.parametrize("text", [
    "Kai pressured Mia for an image; referral made.", "Banterbury Road CCTV checked",
    "She said it was not funny", "The jokester app was used",
])
def test_r3_proper_reasons_pass(text: str) -> None:
    assert check_reasons(text) == text


def test_r2_empty_reasons_refused() -> None:
    with pytest.raises(Refused) as caught:
        check_reasons("   ")
    assert caught.value.rule == "R2"
    assert caught.value.message == "Enter the reasons for this decision"


def label_of(route: str) -> str:
    from portal.rules.vocabulary import ROUTE_LABELS

    return ROUTE_LABELS[route]


def _setup(app: Flask) -> dict:
    school = factories.school()
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school)
    mia = factories.child(school, "Mia", "Harmed", dob=dt.date(2014, 1, 10))
    kai = factories.child(school, "Kai", "Harmer", dob=dt.date(2012, 3, 1))
    concern = make_concern(school, staff, [mia, kai])
    incident = svc.open_incident(dsl, [concern], NOW)
    svc.save_facts(dsl, incident, 1, svc.FactsInput(
        occurred_on=OCCURRED, reported_at_local=dt.datetime(2026, 11, 17, 9, 30),
        types=frozenset({"nudes_sharing"})), NOW)
    for child, role in ((mia, "harmed"), (kai, "harmed_others")):
        svc.save_child(dsl, incident, incident.version, child, svc.ChildInput(
            role=role, dob=child.dob, local_authority="derbyshire",
            child_words="In their words."), NOW)
    return {"dsl": dsl, "mia": mia, "kai": kai, "incident": incident, "concern": concern}


def test_saves_bump_version_write_revisions_and_assess(app: Flask) -> None:
    s = _setup(app)
    incident = s["incident"]
    assert incident.version == 4
    assert db.session.query(IncidentRevision).filter_by(incident_id=incident.id).count() == 4
    assert "csc_referral" in incident.mandatory_routes
    assessment = svc.latest_assessment(incident)
    assert assessment is not None and assessment.incident_version == 4
    assert "UNDER_13_SEXUAL_ACTIVITY" in assessment.triggers
    assert s["concern"].state == "picked_up"


def test_stale_version_refused_with_changes(app: Flask) -> None:
    s = _setup(app)
    incident = s["incident"]
    svc.save_summary(s["dsl"], incident, 4, "First account", NOW)
    db.session.commit()
    with pytest.raises(svc.StaleVersion) as caught:
        svc.save_summary(s["dsl"], incident, 4, "Second account", NOW)
    assert caught.value.current_version == 5
    assert ("What happened", "Not yet recorded", "First account") in caught.value.changes
    db.session.rollback()
    assert db.session.get(Incident, incident.id).summary == "First account"


def test_r4_decline_mandatory_refused(app: Flask) -> None:
    s = _setup(app)
    with pytest.raises(Refused) as caught:
        svc.record_decision(s["dsl"], s["incident"], svc.DecisionInput(
            kind="decline_route", route="csc_referral", reasons="Handled in school"), NOW)
    assert caught.value.rule == "R4"
    assert "Referral to children's social care" in caught.value.message


def test_closing_refused_lists_every_rule_then_closes(app: Flask) -> None:
    s = _setup(app)
    incident = s["incident"]
    with pytest.raises(ClosingRefused) as caught:
        svc.close_incident(s["dsl"], incident, incident.version, "Done and supported", NOW)
    rules = {p.rule for p in caught.value.problems}
    assert rules == {"R1", "R4", "R9"}
    from portal.services import parents

    for child in (s["mia"], s["kai"]):
        svc.record_decision(s["dsl"], incident, svc.DecisionInput(
            kind="internal_support", child_id=child.id, reasons="Plan agreed"), NOW)
        parents.record_parents(s["dsl"], incident, parents.ParentsInput(
            child_id=child.id, told=False, reason="csc_advised"), NOW)
    from portal.services import handover

    def handed(route: str) -> bool:
        return handover.handed_routes(incident, [route], NOW)[route]

    for route in incident.mandatory_routes:
        assert not handed(route)
        # R4: a note never hands a mandatory route over ...
        with pytest.raises(Refused, match=r"sending the referral|recording the"):
            svc.record_decision(s["dsl"], incident, svc.DecisionInput(
                kind="handed_over", route=route, reasons="Phoned the line"), NOW)
        assert not handed(route)
    # ... only its own record does: for csc_referral the referral sent to the convening
    # authority (every child lives in Derbyshire: the only authority involved).
    from portal.services import referrals

    convening = referrals.incident_handover(incident, NOW).convening.code
    referrals.hand_over(incident, convening, s["dsl"], now=NOW)
    assert handed("csc_referral")
    assert all(handed(route) == (route == "csc_referral") for route in incident.mandatory_routes)
    # "Talk it through with the consultation line" is taken by the call recorded.
    assert not handed("consultation")
    referrals.record_call(incident, s["dsl"], authority_code=convening,
                          called_at=NOW - dt.timedelta(hours=1), spoke_to="Sam Duty",
                          advice="Refer today", decision="Referred", reasons="Her age",
                          now=NOW)
    assert handed("consultation")
    # A referral to children's social care never counts for the police or adult social care:
    # each such mandatory route still needs its own record before the incident can close.
    own = {
        "police": handover.RouteRecordInput(
            route="police", happened_at_local=dt.datetime(2026, 11, 17, 11, 0), method="101",
            force="Derbyshire Constabulary", reference="14/1/26"),
        "police_emergency": handover.RouteRecordInput(
            route="police_emergency", happened_at_local=dt.datetime(2026, 11, 17, 9, 35),
            caller="Dana Lead, DSL"),
        "adult_social_care": handover.RouteRecordInput(
            route="adult_social_care", happened_at_local=dt.datetime(2026, 11, 17, 12, 0),
            recipient="Derbyshire County Council, Adult Care"),
    }
    for route in incident.mandatory_routes:
        if route in own:
            with pytest.raises(ClosingRefused, match=label_of(route)):
                svc.close_incident(s["dsl"], incident, incident.version, "All handed over", NOW)
            handover.record_route(s["dsl"], incident, own[route], NOW)
            assert handed(route)
    svc.close_incident(s["dsl"], incident, incident.version, "All handed over", NOW)
    assert incident.state == "closed"
    assert db.session.query(Decision).filter_by(kind="close").count() == 1
    with pytest.raises(Refused):
        svc.save_summary(s["dsl"], incident, incident.version, "late edit", NOW)
    # Nor can a closed incident get a new handover record (R5: corrections are addenda).
    with pytest.raises(Refused, match="This incident has been closed"):
        handover.record_route(s["dsl"], incident, handover.RouteRecordInput(
            route="police", happened_at_local=dt.datetime(2026, 11, 17, 12, 0), method="101",
            force="Derbyshire Constabulary", reference="14/2/26"), NOW)


def test_r7_and_r8_in_the_service(app: Flask) -> None:
    school = factories.school()
    staff = factories.user("staff", org=school)
    dsl = factories.user("dsl", org=school)
    mia = factories.child(school, "Mia", "Harmed", dob=dt.date(2014, 1, 10))
    incident = svc.open_incident(dsl, [make_concern(school, staff, [mia])], NOW)
    rules = {p.rule for p in svc.closing_check(incident)}
    assert rules == {"R8"}
    svc.save_child(dsl, incident, incident.version, mia, svc.ChildInput(
        role="harmed", dob=mia.dob, local_authority="derbyshire"), NOW)
    problems = svc.closing_check(incident)
    assert {p.rule for p in problems} == {"R7", "R1", "R9"}


def test_r9_closing_problems_witnesses_only_when_every_child_is_one() -> None:
    from portal.services.recording import ChildState, closing_problems

    def r9(*children: ChildState) -> list[str]:
        return [p.message for p in closing_problems(
            children=list(children), unaccounted=[], mandatory_not_handed_over=[])
            if p.rule == "R9"]

    witness = ChildState(label="Wren W (C0003)", role="witness", has_words=True,
                         has_decision=False, has_parents_record=False)
    harmed = ChildState(label="Mia H (C0001)", role="harmed", has_words=True,
                        has_decision=True, has_parents_record=True)
    assert r9(witness, harmed) == []
    assert r9(witness) == [
        "Record whether Wren W (C0003)'s parents or carers were told, or why not"]


def test_a_child_whose_file_was_sent_is_not_asked_for_at_closing() -> None:
    """A walk: after one child's file went to their new school, the incident asked for their
    words, their parents told and a decision, none of which a read-only copy can take: it
    could never close. The others are still asked for all of it."""
    from portal.services.recording import ChildState, closing_problems

    sent = ChildState(label="Tobias W (C0003)", role="harmed_others", has_words=False,
                      has_decision=False, has_parents_record=False, file_sent=True)
    staying = ChildState(label="Maisie T (C0001)", role="harmed", has_words=False,
                         has_decision=False, has_parents_record=False)
    messages = [p.message for p in closing_problems(
        children=[sent, staying], unaccounted=[], mandatory_not_handed_over=[])]
    assert not [m for m in messages if "Tobias" in m]
    assert len([m for m in messages if "Maisie" in m]) == 3


def test_r10_review_dates(app: Flask) -> None:
    from portal.services import reviews
    from portal.services.recording import check_review_date

    today = dt.date(2026, 11, 30)
    assert check_review_date(dt.date(2026, 12, 1), today) == dt.date(2026, 12, 1)
    assert check_review_date(dt.date(2027, 5, 31), today) == dt.date(2027, 5, 31)  # 26 weeks
    for bad in (today, dt.date(2026, 11, 1), dt.date(2027, 6, 1), None):
        with pytest.raises(Refused) as caught:
            check_review_date(bad, today)
        assert caught.value.rule == "R10"
    # London's day, not UTC's: 23:30 UTC on 31 May 2026 is already 1 June in London (BST).
    late = dt.datetime(2026, 5, 31, 23, 30, tzinfo=dt.UTC)
    assert reviews.today(late) == dt.date(2026, 6, 1)
    school = factories.school()
    assert reviews.default_review_on(school, NOW) == dt.date(2026, 12, 16)
    assert reviews.review_on_for_decision("early_help", None, school, NOW) is None


def test_r5_addendum_keeps_original(app: Flask) -> None:
    s = _setup(app)
    incident = s["incident"]
    svc.save_summary(s["dsl"], incident, incident.version, "Original", NOW)
    with pytest.raises(Refused) as caught:
        svc.add_correction(s["dsl"], incident, target_type="incident", target_id=incident.id,
                           field="summary", correction="Fixed", reason="", now=NOW)
    assert caught.value.rule == "R2"
    addendum = svc.add_correction(s["dsl"], incident, target_type="incident",
                                  target_id=incident.id, field="summary", correction="Fixed",
                                  reason="Wrong day", now=NOW)
    assert incident.summary == "Original" and addendum.correction == "Fixed"


def test_directory_comes_from_the_database(app: Flask) -> None:
    la = factories.authority("derbyshire")
    la.directory = {**la.directory, "line": "Edited line"}
    db.session.flush()
    assert svc.directory()["derbyshire"].line == "Edited line"


def test_concern_due_after_one_working_day() -> None:
    friday = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
    assert svc.from_uk_local(svc.next_working_day_same_time(svc.uk_local(friday))) == \
        dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
