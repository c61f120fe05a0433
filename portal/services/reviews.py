"""R10 kept under review: decisions of no further action or support in school carry a review
date; reviews falling due are listed for the school's DSLs; each review is itself a decision
with reasons (R2, R3), linked to the decision it reviewed.

A review is allowed on a closed incident (closing ends the recording, not the keeping under
review). A decision is due from its review date until a review names it; a review that says
"review again" carries its own date and is due in its turn. Nothing here reads Flask's request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, bindparam, exists, select
from sqlalchemy.orm import aliased

from .. import audit, wording
from ..clock import uk_local
from ..kept import kept
from ..models import Child, Decision, Incident, School, User, db
from ..refusal import Gathered, Problem, Refused
from . import chronology, school_settings
from .recording import (
    DECISION_KINDS,
    REVIEW_KINDS,
    REVIEW_MAX_WEEKS,
    REVIEW_OUTCOMES,
    check_reasons,
    check_review_date,
)

__all__ = [
    "COMING_UP_DAYS",
    "ReviewItem",
    "default_review_on",
    "due_reviews",
    "record_review",
    "reviewable",
    "reviews_of",
    "set_review_weeks",
    "today",
]

# Reviews due within this many days are listed as "coming up" on the dashboard.
COMING_UP_DAYS: Final = 7
DEFAULT_REVIEW_WEEKS: Final = 4


def today(now: dt.datetime) -> dt.date:
    """Today's date in London (a review is due on a London day, whatever UTC says)."""
    return uk_local(now).date()


def date_text(day: dt.date) -> str:
    """'14 December 2026' (portal.wording)."""
    return wording.day(day)


def default_review_on(school: School | None, now: dt.datetime) -> dt.date:
    weeks = school.review_weeks if school is not None and school.review_weeks else \
        DEFAULT_REVIEW_WEEKS
    return today(now) + dt.timedelta(weeks=weeks)


def review_on_for_decision(kind: str, given: dt.date | None, school: School | None,
                           now: dt.datetime) -> dt.date | None:
    """The review date a new decision carries: the DSL's, else the school's default; None
    for decisions that are not reviewed."""
    if kind not in REVIEW_KINDS:
        return None
    return check_review_date(given or default_review_on(school, now), today(now))


def reviewable(decision: Decision) -> bool:
    """Whether this decision is kept under review (it has a review date)."""
    return decision.review_on is not None


def reviews_of(decisions: Iterable[Decision]) -> dict[uuid.UUID, Decision]:
    """For each reviewed decision id among `decisions`, the review that reviewed it."""
    out: dict[uuid.UUID, Decision] = {}
    for d in decisions:
        if d.kind == "review" and d.reviews_id is not None:
            out[d.reviews_id] = d
    return out


def _outcome_what(outcome: str, next_review_on: dt.date | None) -> str:
    if outcome == "again" and next_review_on is not None:
        return f"No change: review again on {date_text(next_review_on)}"
    return REVIEW_OUTCOMES[outcome]


def check_review(*, outcome: str | None, reasons: str | None, next_review_on: dt.date | None,
                 now: dt.datetime) -> tuple[str, dt.date | None, str]:
    """What a review found (outcome), its next date for "review again" (R10) and why (R2, never
    dismissive: R3), every problem at once; writes nothing. Returns (outcome, next date, why)."""
    found = Gathered()
    if outcome not in REVIEW_OUTCOMES:
        found.add(Problem("R10", "outcome", "Select what the review found"))
    next_on: dt.date | None = None
    if outcome == "again":
        next_on = found.check(
            lambda: check_review_date(next_review_on, today(now), field="next_review_on"), None)
    why = found.check(lambda: check_reasons(reasons), "")
    found.raise_any()
    assert outcome is not None
    return outcome, next_on, why


def record_review(user: User, incident: Incident, reviewed_id: uuid.UUID, *,
                  outcome: str | None, reasons: str | None, next_review_on: dt.date | None,
                  now: dt.datetime) -> Decision:
    """A review of one decision: what was found (outcome), why (R2, never dismissive: R3), and
    for "review again" the next date. Allowed whether or not the incident is closed."""
    reviewed = db.session.scalar(select(Decision).where(
        Decision.id == reviewed_id, Decision.incident_id == incident.id,
        Decision.school_id == incident.school_id))
    if reviewed is None or reviewed.review_on is None:
        raise Refused(Problem("R10", None, "Choose a decision that is kept under review"))
    already = db.session.scalar(select(Decision.id).where(
        Decision.reviews_id == reviewed.id, Decision.kind == "review").limit(1))
    if already is not None:
        raise Refused(Problem(
            "R10", None, "This decision has already been reviewed: see the incident page"))
    outcome, next_on, why = check_review(outcome=outcome, reasons=reasons,
                                         next_review_on=next_review_on, now=now)
    review = Decision(school_id=incident.school_id, incident_id=incident.id,
                      child_id=reviewed.child_id, kind="review", decided_by_id=user.id,
                      decided_at=now, review_on=next_on, reviews_id=reviewed.id,
                      review_outcome=outcome)
    review.what = _outcome_what(outcome, next_on)
    review.reasons = why
    db.session.add(review)
    db.session.flush()
    audit.record(audit.DECISION_RECORDED, org_id=str(incident.school_id), actor_id=user.id,
                 object_type="decision", object_id=review.id, at=now,
                 detail={"incident_id": str(incident.id), "kind": "review",
                         "reviews_id": str(reviewed.id), "outcome": outcome,
                         "child_id": str(reviewed.child_id) if reviewed.child_id else None})
    child = db.session.get(Child, reviewed.child_id) if reviewed.child_id else None
    if child is not None:
        chronology.add_entry(
            child, "decision",
            f"Review on incident {incident.reference} of "
            f"{DECISION_KINDS.get(reviewed.kind, 'a decision').lower()}: "
            f"{review.what}.",
            author_id=user.id, incident=incident, source=review, occurred_at=now)
    return review


@dataclass(frozen=True, slots=True)
class ReviewItem:
    decision_id: uuid.UUID
    incident_id: uuid.UUID
    incident_reference: str
    child: str  # initials and reference, as the dashboard shows children
    kind: str  # the reviewed decision, in words
    due: dt.date
    overdue: bool  # due before today

    @property
    def due_text(self) -> str:
        return date_text(self.due)


# A review of a decision (the NOT EXISTS below): made only in the statement kept per thread
# (`portal.kept`), so an alias is never shared between threads.


def due_reviews(share: tuple[ColumnElement[bool], dict[str, Any]], now: dt.datetime, *,
                ahead_days: int = COMING_UP_DAYS) -> tuple[list[ReviewItem], list[ReviewItem]]:
    """(due: review date today or past, coming up: within `ahead_days`), oldest first, of the
    decisions not yet reviewed. `share`: the user's decisions from `portal.access`
    (`school_row_visible_bound(user, Decision)`: a clause built once per thread and the values
    it binds; closed incidents included). One query, built once per thread; of each decision
    only the four columns the list shows."""
    day = today(now)
    visible, values = share
    # Each row: the decision's id, incident, kind and review day (never None here), the
    # incident's reference and the child (None for a decision about no one child).
    rows: list[Any] = list(db.session.execute(_due_reviews(visible), {
        **values, "review_until": day + dt.timedelta(days=ahead_days)}))
    due: list[ReviewItem] = []
    coming: list[ReviewItem] = []
    for decision_id, incident_id, kind, review_on, reference, child in rows:
        if kind == "review":
            label = "an earlier review"
        else:
            label = DECISION_KINDS.get(kind, "a decision").lower()
        item = ReviewItem(
            decision_id=decision_id, incident_id=incident_id,
            incident_reference=reference,
            child=child.redacted_label if child is not None else "No child named",
            kind=label, due=review_on, overdue=review_on < day)
        (due if review_on <= day else coming).append(item)
    return due, coming


@kept  # one per share clause (a DSL's, nobody's)
def _due_reviews(visible: ColumnElement[bool]) -> Select[
        uuid.UUID, uuid.UUID, str, dt.date | None, str, Child]:
    """`due_reviews`' statement: the last day looked at bound as `review_until`."""
    review = aliased(Decision)
    return (select(Decision.id, Decision.incident_id, Decision.kind, Decision.review_on,
                   Incident.reference, Child)
            .select_from(Decision).where(visible)
            .join(Incident, Incident.id == Decision.incident_id)
            .outerjoin(Child, Child.id == Decision.child_id)
            .where(Decision.review_on.is_not(None),
                   Decision.review_on <= bindparam("review_until"),
                   ~exists().where(review.reviews_id == Decision.id, review.kind == "review"))
            .order_by(Decision.review_on, Decision.decided_at))


def set_review_weeks(user: User, school: School, weeks: int | None, now: dt.datetime) -> School:
    """The school's default weeks from a decision to its review (1 to REVIEW_MAX_WEEKS)."""
    return school_settings.set_number(user, school, "review_weeks", weeks, rule="R10",
                                      unit="weeks", most=REVIEW_MAX_WEEKS, now=now)
