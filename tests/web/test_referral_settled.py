"""A referral's stored "settled" mark (issue 15): after every kind of write, in the same
transaction, it is what the one rule (`settled_rule`) says of the referral, so the inbox can
read its live referrals by the mark.

Property-style: Hypothesis draws sequences of writes (sent, acknowledged, answered with each
outcome, each milestone, responses added, changed or removed and referrals changed directly as
the tests' and scripts' ORM writes do, commits and rollbacks) and after each one the mark in the
database and on the loaded referral equals the rule's answer."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.models import Referral, ReferralResponse, db
from portal.models.referrals import keep_settled, settled_rule
from portal.refusal import Refused
from portal.services import referrals as service
from tests.web.test_referral_lists import SENT, add_referral, school_world  # noqa: F401

KINDS = sorted({*service.OUTCOMES, *service.MILESTONES})
NOW = SENT + dt.timedelta(days=3)

WRITES = st.one_of(
    st.tuples(st.just("acknowledge")),
    st.tuples(st.just("answer"), st.sampled_from(sorted(service.OUTCOMES))),
    st.tuples(st.just("milestone"), st.sampled_from(sorted(service.MILESTONES))),
    st.tuples(st.just("add_response"), st.sampled_from(KINDS)),
    st.tuples(st.just("change_response"), st.sampled_from(KINDS)),
    st.tuples(st.just("remove_response")),
    st.tuples(st.just("set_state"), st.sampled_from(["sent", "acknowledged", "answered"])),
    st.tuples(st.just("set_outcome"), st.sampled_from([None, *sorted(service.OUTCOMES)])),
    st.tuples(st.just("set_meeting"), st.booleans()),
    st.tuples(st.just("commit")),
    st.tuples(st.just("rollback")),
)


def _write(w: dict, referral: Referral, write: tuple) -> None:
    """One write to the referral or its responses, as the portal or a script makes it."""
    kind, *args = write
    adviser = w["adviser"]
    responses = list(db.session.scalars(
        select(ReferralResponse).where(ReferralResponse.referral_id == referral.id)
        .order_by(ReferralResponse.recorded_at)))
    try:
        if kind == "acknowledge":
            service.acknowledge(referral, adviser, now=NOW)
        elif kind == "answer":
            service.record_answer(
                referral, adviser, outcome=args[0], reasons="Threshold considered.",
                strategy_meeting_at=NOW + dt.timedelta(days=1), now=NOW)
        elif kind == "milestone":
            service.record_milestone(referral, adviser, kind=args[0], note="Agreed at the "
                                     "meeting.", now=NOW)
        elif kind == "add_response":
            db.session.add(ReferralResponse(
                referral_id=referral.id, local_authority_id=referral.local_authority_id,
                outcome=args[0], recorded_by_id=adviser.id,
                recorded_at=NOW + dt.timedelta(minutes=len(responses))))
        elif kind == "change_response" and responses:
            responses[-1].outcome = args[0]
        elif kind == "remove_response" and responses:
            db.session.delete(responses[0])
        elif kind == "set_state":
            referral.state = args[0]
        elif kind == "set_outcome":
            referral.outcome = args[0]
        elif kind == "set_meeting":
            referral.strategy_meeting_at = NOW if args[0] else None
        elif kind == "commit":
            db.session.commit()
        elif kind == "rollback":
            db.session.rollback()
    except Refused:
        pass  # refused: nothing written


def _rule_and_mark(referral_id: uuid.UUID) -> tuple[bool, bool]:
    """(the rule's answer, the stored mark) for the referral, read in the session's
    transaction (after its pending writes are flushed)."""
    rule, mark = db.session.execute(
        select(settled_rule(), Referral.settled).where(Referral.id == referral_id)).one()
    return bool(rule), bool(mark)


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(WRITES, min_size=1, max_size=8))
# Each kind of write that turns the answer, for certain (Hypothesis explores the rest):
@example(writes=[("answer", "no_further_action"), ("add_response", "csc_assessment")])
@example(writes=[("answer", "no_further_action"), ("change_response", "csc_assessment")])
@example(writes=[("answer", "csc_assessment"), ("commit",), ("remove_response",)])
@example(writes=[("answer", "strategy_meeting"), ("milestone", "minutes_sent"),
                 ("answer", "no_further_action"), ("milestone", "icpc_held")])
@example(writes=[("answer", "strategy_meeting"), ("milestone", "minutes_sent"),
                 ("milestone", "icpc_not_needed"), ("answer", "early_help"), ("commit",),
                 ("set_meeting", False), ("set_meeting", True), ("set_outcome", None),
                 ("set_outcome", "police_informed"), ("set_state", "acknowledged"),
                 ("rollback",)])
def test_the_mark_is_the_rules_answer_after_every_write(
        school_world: dict, writes: list[tuple]) -> None:  # noqa: F811
    referral = add_referral(school_world, state="sent", outcome=None)
    other = add_referral(school_world)  # settled: untouched by the writes to the first
    db.session.commit()
    referral_id = referral.id
    for write in writes:
        _write(school_world, referral, write)
        rule, mark = _rule_and_mark(referral_id)
        assert mark == rule, (write, writes)
        # The loaded referral shows the mark just written (or the one read again).
        assert referral.settled == rule, (write, writes)
        assert _rule_and_mark(other.id) == (True, True)
    db.session.commit()


@pytest.mark.parametrize(("state", "outcome", "meeting", "milestones", "settled"), [
    ("sent", None, False, (), False),
    ("acknowledged", None, False, (), False),
    ("answered", "no_further_action", False, (), True),
    ("answered", "csc_assessment", False, (), False),
    ("answered", "strategy_meeting", True, (), False),
    ("answered", "early_help", True, ("minutes_sent", "icpc_held"), True),
    ("answered", "early_help", True, ("minutes_sent",), False),
    ("answered", "police_informed", False, ("csc_assessment",), False),
])
def test_a_referral_written_as_scripts_and_tests_do_is_marked_by_the_rule(
        school_world: dict, state: str, outcome: str | None, meeting: bool,  # noqa: F811
        milestones: tuple[str, ...], settled: bool) -> None:
    """A referral and its responses added directly through the ORM (no service call) are
    marked in the flush that writes them; `keep_settled` over every referral changes none."""
    referral = add_referral(school_world, state=state, outcome=outcome, meeting=meeting,
                            milestones=milestones)
    db.session.commit()
    assert _rule_and_mark(referral.id) == (settled, settled)
    assert referral.settled is settled
    assert keep_settled(db.session.connection())[referral.id] is settled
    db.session.rollback()


def test_a_rolled_back_change_leaves_the_mark_as_it_was(school_world: dict) -> None:  # noqa: F811
    """The mark is written in the change's own transaction: undone with it."""
    referral = add_referral(school_world, state="acknowledged", outcome=None)
    db.session.commit()
    service.record_answer(referral, school_world["adviser"], outcome="no_further_action",
                          reasons="Threshold considered.", now=NOW)
    assert _rule_and_mark(referral.id) == (True, True)
    db.session.rollback()
    assert _rule_and_mark(referral.id) == (False, False)
