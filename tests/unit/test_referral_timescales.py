"""A referral's due dates from its authority's directory entry: strategy meeting, minutes, ICPC,
child in need reviews; weekends and bank holidays; overdue first."""

from __future__ import annotations

import datetime as dt
import uuid

from portal.clock import LONDON
from portal.models import Referral, ReferralResponse
from portal.rules import default_directory
from portal.services.referrals import (
    ReferralView,
    due_items,
    group_inbox,
    sort_views,
    status_of,
)

D = default_directory()


def at(text: str) -> dt.datetime:
    """Aware UTC from a London wall-clock time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(dt.UTC)


def wall(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def referral(sent: str, *, state: str = "sent", outcome: str | None = None,
             meeting: str | None = None) -> Referral:
    return Referral(id=uuid.uuid4(), sent_at=at(sent), state=state, outcome=outcome,
                    strategy_meeting_at=at(meeting) if meeting else None)


def response(outcome: str, recorded: str) -> ReferralResponse:
    return ReferralResponse(id=uuid.uuid4(), outcome=outcome, recorded_at=at(recorded))


def item(items: list, code: str):
    return next(i for i in items if i.code == code)


# --- strategy meeting from the referral's sent_at ---------------------------------------------


def test_derbyshire_strategy_meeting_5_days_across_a_weekend() -> None:
    # Monday 16 Nov + 5 days = Saturday 21 Nov: due by the end of Friday 20 Nov.
    r = referral("2026-11-16T11:00")
    sm = item(due_items(r, D["derbyshire"], at("2026-11-16T12:00"), []), "strategy_meeting")
    assert sm.due is not None and sm.due.at == wall("2026-11-20T17:00") and sm.due.all_day
    assert not sm.overdue and not sm.done
    late = item(due_items(r, D["derbyshire"], at("2026-11-20T17:01"), []), "strategy_meeting")
    assert late.overdue


def test_darlington_strategy_meeting_72_hours_runs_through_the_weekend() -> None:
    r = referral("2026-11-20T15:00")  # Friday
    sm = item(due_items(r, D["darlington"], at("2026-11-20T16:00"), []), "strategy_meeting")
    assert sm.due is not None and sm.due.at == wall("2026-11-23T15:00") and not sm.due.all_day
    assert item(due_items(r, D["darlington"], at("2026-11-23T15:01"), []),
                "strategy_meeting").overdue


def test_derby_strategy_meeting_over_easter_bank_holidays() -> None:
    # Wednesday 24 Mar 2027 + 5 = Monday 29 Mar (Easter Monday); Sunday, Saturday and Friday
    # 26 Mar (Good Friday) are not working days either: due Thursday 25 Mar.
    r = referral("2027-03-24T10:00")
    sm = item(due_items(r, D["derby-city"], at("2027-03-24T11:00"), []), "strategy_meeting")
    assert sm.due is not None and sm.due.at == wall("2027-03-25T17:00")


def test_strategy_meeting_over_christmas() -> None:
    # Sunday 20 Dec 2026 + 5 = Friday 25 Dec (Christmas Day): due Thursday 24 Dec.
    r = referral("2026-12-20T10:00")
    sm = item(due_items(r, D["derbyshire"], at("2026-12-20T11:00"), []), "strategy_meeting")
    assert sm.due is not None and sm.due.at == wall("2026-12-24T17:00")


def test_meeting_arranged_in_time_meets_the_timescale() -> None:
    r = referral("2026-11-16T11:00", state="answered", outcome="strategy_meeting",
                 meeting="2026-11-19T10:00")
    sm = item(due_items(r, D["derbyshire"], at("2026-11-30T09:00"), []), "strategy_meeting")
    assert sm.done and not sm.overdue and "Arranged for" in sm.note


def test_meeting_arranged_after_the_limit_is_overdue_once_the_limit_passes() -> None:
    r = referral("2026-11-16T11:00", state="answered", outcome="strategy_meeting",
                 meeting="2026-11-24T10:00")
    before = item(due_items(r, D["derbyshire"], at("2026-11-20T09:00"), []), "strategy_meeting")
    assert not before.done and not before.overdue and "later than" in before.note
    after = item(due_items(r, D["derbyshire"], at("2026-11-21T09:00"), []), "strategy_meeting")
    assert after.overdue


def test_no_strategy_meeting_timescale_when_the_answer_needs_none() -> None:
    r = referral("2026-11-16T11:00", state="answered", outcome="no_further_action")
    assert due_items(r, D["derbyshire"], at("2026-12-30T09:00"), []) == []


def test_authority_without_a_timescale_shows_agree_locally_and_is_never_overdue() -> None:
    r = referral("2026-11-16T11:00")
    sm = item(due_items(r, D["west-sussex"], at("2027-06-01T09:00"), []), "strategy_meeting")
    assert sm.due is None and not sm.overdue and "so agree one locally" in sm.note


# --- after the strategy meeting -----------------------------------------------------------------


def test_minutes_within_24_hours_where_the_authority_sets_it() -> None:
    r = referral("2026-11-16T11:00", state="answered", outcome="strategy_meeting",
                 meeting="2026-11-20T16:30")  # Friday
    minutes = item(due_items(r, D["dorset"], at("2026-11-20T17:00"), []), "strategy_minutes")
    assert minutes.due is not None and minutes.due.at == wall("2026-11-21T16:30")  # Saturday
    assert item(due_items(r, D["dorset"], at("2026-11-21T16:31"), []), "strategy_minutes").overdue
    done = item(due_items(r, D["dorset"], at("2026-11-22T09:00"),
                          [response("minutes_sent", "2026-11-21T10:00")]), "strategy_minutes")
    assert done.done and not done.overdue
    # Derbyshire sets none.
    derbys = item(due_items(r, D["derbyshire"], at("2026-11-20T17:00"), []), "strategy_minutes")
    assert derbys.due is None and "so agree one locally" in derbys.note


def test_icpc_within_15_days_of_the_strategy_meeting() -> None:
    r = referral("2026-11-16T11:00", state="answered", outcome="strategy_meeting",
                 meeting="2026-11-20T10:00")
    icpc = item(due_items(r, D["derbyshire"], at("2026-11-20T12:00"), []), "icpc")
    assert icpc.due is not None and icpc.due.at == wall("2026-12-04T17:00")  # 5 Dec is a Saturday
    assert "000" in icpc.due.source
    # Darlington has not confirmed one: the portal default of 15 days, labelled as such.
    darl = item(due_items(r, D["darlington"], at("2026-11-20T12:00"), []), "icpc")
    assert darl.due is not None and darl.due.at == wall("2026-12-04T17:00")
    assert "Portal default" in darl.due.source
    held = item(due_items(r, D["derbyshire"], at("2026-12-10T12:00"),
                          [response("icpc_not_needed", "2026-11-27T10:00")]), "icpc")
    assert held.done and not held.overdue


def test_icpc_due_date_over_a_bank_holiday() -> None:
    # Meeting Thursday 13 May 2027 + 15 days = Friday 28 May; fine. Meeting Sunday 16 May + 15
    # = Monday 31 May 2027 (Spring bank holiday): back past the weekend to Friday 28 May.
    r = referral("2027-05-12T10:00", state="answered", outcome="strategy_meeting",
                 meeting="2027-05-16T10:00")
    icpc = item(due_items(r, D["derbyshire"], at("2027-05-17T10:00"), []), "icpc")
    assert icpc.due is not None and icpc.due.at == wall("2027-05-28T17:00")


# --- child in need reviews ----------------------------------------------------------------------


def test_cin_reviews_at_3_months_then_every_4() -> None:
    r = referral("2026-01-30T10:00", state="answered", outcome="csc_assessment")
    assessed = response("csc_assessment", "2026-01-31T10:00")
    first = item(due_items(r, D["derbyshire"], at("2026-02-01T10:00"), [assessed]), "cin_review")
    assert first.due is not None and first.due.at.date() == dt.date(2026, 4, 30)
    assert first.label == "Child in need review 1"
    # After the first review is held: 30 Apr + 4 months = 30 Aug (Sunday) -> Friday 28 Aug.
    second = item(due_items(r, D["derbyshire"], at("2026-05-01T10:00"),
                            [assessed, response("cin_review_held", "2026-04-29T10:00")]),
                  "cin_review")
    assert second.due is not None and second.due.at.date() == dt.date(2026, 8, 28)
    assert second.label == "Child in need review 2"
    overdue = item(due_items(r, D["derbyshire"], at("2026-05-01T10:00"), [assessed]),
                   "cin_review")
    assert overdue.overdue


# --- statuses and ordering ----------------------------------------------------------------------


def view(r: Referral, authority: str, now: str) -> ReferralView:
    items = due_items(r, D[authority], at(now), [])
    status = status_of(r)
    return ReferralView(referral=r, reference="R", authority_code=authority,
                        authority_name=authority, school_name="S", status=status,
                        status_label=status, outcome_label=None, items=items,
                        overdue=any(i.overdue for i in items), next_due=None)


def test_overdue_rise_to_the_top_then_new_acknowledged_awaiting_answered() -> None:
    now = "2026-11-25T09:00"
    fresh = referral("2026-11-24T10:00")                           # new, due 27 Nov
    acked = referral("2026-11-23T10:00", state="acknowledged")      # due 27 Nov
    awaiting = referral("2026-11-23T09:00", state="answered", outcome="strategy_meeting",
                        meeting="2026-11-26T10:00")
    answered = referral("2026-11-10T10:00", state="answered", outcome="early_help")
    old_overdue = referral("2026-11-09T10:00", state="acknowledged")  # due 13 Nov
    new_overdue = referral("2026-11-17T10:00")                      # due 20 Nov (Sun -> Fri)
    views = [view(fresh, "derbyshire", now), view(answered, "derbyshire", now),
             view(awaiting, "derbyshire", now), view(new_overdue, "derbyshire", now),
             view(acked, "derbyshire", now), view(old_overdue, "derbyshire", now)]
    ordered = [v.referral for v in sort_views(views)]
    assert ordered == [old_overdue, new_overdue, fresh, acked, awaiting, answered]
    groups = {key: [v.referral for v in rows] for key, _, rows in group_inbox(sort_views(views))}
    assert groups["overdue"] == [old_overdue, new_overdue]
    assert groups["new"] == [fresh]
    assert groups["acknowledged"] == [acked]
    assert groups["awaiting_decision"] == [awaiting]
    assert groups["answered"] == [answered]
