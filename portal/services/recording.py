"""The recording rules R1-R10 (RULES.md section 7), enforced here, not only in forms.

Every check raises a `Refused` (or a subclass) carrying the field it belongs to and a
GOV.UK-style message; views turn it into an error message and error summary. Nothing here reads
Flask's request. The operations that apply these checks live in `portal.services.incidents`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from ..refusal import Fix, Gathered, Problem, Refused
from ..rules.clock_words import day_words
from ..rules.dismissive import DISMISSIVE_MESSAGE, dismissive_message, find_dismissive
from ..rules.vocabulary import (
    DECISION_LABELS,
    REVIEW_OUTCOME_LABELS,
    ROUTE_LABELS,
    WITNESS_ROLE,
)
from ..wording import mid_sentence

__all__ = [
    "CHILD_DECISION_KINDS",
    "DECISION_KINDS",
    "DISMISSIVE_MESSAGE",
    "PARENT_REASONS",
    "REVIEW_KINDS",
    "REVIEW_MAX_WEEKS",
    "REVIEW_OUTCOMES",
    "ClosingRefused",
    "IncidentClosed",
    "Problem",
    "Refused",
    "check_correction",
    "check_decision",
    "check_not_dismissive",
    "check_reasons",
    "check_review_date",
    "closing_problems",
    "dismissive_message",
    "find_dismissive",
    "needs_own_words",
    "needs_parents_record",
]

# Decisions a DSL records (R2). Each has who, when, what and why.
DECISION_KINDS: Final = DECISION_LABELS
# Decisions that carry a review date (R10), and a review that says "review again".
REVIEW_KINDS: Final = frozenset({"no_further_action", "internal_support"})
# The latest a review may be set: 26 weeks (two school terms). Further out, a child's situation
# is no longer "kept under review" (000: "These should be kept under review and if things do not
# improve or deteriorate the situation should be reconsidered").
REVIEW_MAX_WEEKS: Final = 26
# R10: what a review found.
REVIEW_OUTCOMES: Final = REVIEW_OUTCOME_LABELS
# R9: why a child's parents or carers were not told (completes "not told, because ...").
PARENT_REASONS: Final = {
    "csc_advised": "children's social care advised against it",
    "police_advised": "the police advised against it",
    "child_at_risk": "telling them would put a child at risk",
    "other": "another reason",
}
# A decision about a child's needs (R1: the record stays open until every child involved has one).
CHILD_DECISION_KINDS: Final = frozenset({
    "take_route", "handed_over", "no_further_action", "early_help", "internal_support", "other",
})
ROUTE_KINDS: Final = frozenset({"take_route", "handed_over", "decline_route"})
# R4: mandatory routes handed over by a record of their own, never by a note.
_OWN_RECORD: Final = {
    "csc_referral": (
        "Referral to children's social care is handed over by sending the referral to the "
        "convening local authority, and to every other authority involved (under 'Who to call "
        "now' on the incident page), not by a note."),
    "police": (
        "Report to the police is handed over by recording the police report (under 'Handing "
        "over' on the incident page), not by a note."),
    "police_emergency": (
        "Call 999 now is handed over by recording the 999 call (under 'Handing over' on the "
        "incident page), not by a note."),
    "adult_social_care": (
        "Referral to adult social care is handed over by recording the referral to adult "
        "social care (under 'Handing over' on the incident page), not by a note."),
}

REASONS_REQUIRED: Final = "Enter the reasons for this decision"


class IncidentClosed(Refused):
    """A closed incident takes no edit (R5): corrections are addenda."""

    def __init__(self) -> None:
        super().__init__(Problem(
            "R5", None, "This incident has been closed, so this was not saved. What you typed "
            "is still here: add it to the record as a correction instead"))


class ClosingRefused(Refused):
    """The incident cannot close yet (R1, R4, R7, R8): every problem is listed."""


def check_reasons(text: str | None, *, field: str = "reasons",
                  empty_message: str = REASONS_REQUIRED) -> str:
    """R2 (reasons are never empty) and R3 (never dismissed as normal). Returns the text."""
    clean = (text or "").strip()
    if not clean:
        raise Refused(Problem("R2", field, empty_message))
    typed = find_dismissive(clean)
    if typed:
        raise Refused(Problem("R3", field, dismissive_message(typed)))
    return clean


def check_not_dismissive(text: str | None, *, field: str) -> str | None:
    """R3 for a text that is not the reasons but carries a judgement (what was decided, why
    parents were not told, a corrected reason). Empty stays empty. Returns the text."""
    clean = (text or "").strip() or None
    typed = find_dismissive(clean)
    if typed:
        raise Refused(Problem("R3", field, dismissive_message(typed)))
    return clean


def route_label(route: str) -> str:
    return ROUTE_LABELS.get(route, route)


def check_decision(kind: str, route: str | None, *, routes: Iterable[str],
                   mandatory_routes: Iterable[str], reasons: str | None,
                   child_required: bool = False, child_given: bool = True) -> str:
    """R2, R3 and R4 for one decision, every problem at once. Returns the cleaned reasons."""
    found = Gathered()
    found.check(lambda: _check_decision_kind(kind, route, routes, set(mandatory_routes)), None)
    if child_required and not child_given:
        found.add(Problem("R2", "child", "Select the child this decision is about"))
    clean = found.check(lambda: check_reasons(reasons), "")
    found.raise_any()
    return clean


def _check_decision_kind(kind: str, route: str | None, routes: Iterable[str],
                         mandatory: set[str]) -> None:
    """R2 and R4: what was decided, and the route it is about."""
    if kind not in DECISION_KINDS or kind in {"close", "review"}:
        raise Refused(Problem("R2", "kind", "Select what you decided"))
    if kind not in ROUTE_KINDS:
        return
    if not route:
        raise Refused(Problem("R2", "route", "Select the route this decision is about"))
    if route not in set(routes):
        raise Refused(Problem("R2", "route", "Select a route the rules gave for this incident"))
    if kind == "handed_over" and route in mandatory and route in _OWN_RECORD:
        raise Refused(Problem("R4", "kind", _OWN_RECORD[route]))
    if kind == "decline_route" and route in mandatory:
        raise Refused(Problem(
            "R4", "kind",
            f"{route_label(route)} is a route you must take: it cannot be declined. "
            "The incident cannot be closed until it has been handed over.",
        ))


def check_correction(correction: str | None, reason: str | None, *,
                     judgement: bool = False) -> tuple[str, str]:
    """R5: a correction has the corrected text and why it was made (R3 applies to the why, and
    to the corrected text when it corrects a judgement: a decision's reasons or what)."""
    text = (correction or "").strip()
    if not text:
        raise Refused(Problem("R5", "correction", "Enter the corrected text"))
    if judgement:
        check_not_dismissive(text, field="correction")
    why = check_reasons(reason, field="reason",
                        empty_message="Enter why you are making this correction")
    return text, why


def check_review_date(review_on: dt.date | None, today: dt.date, *,
                      field: str = "review_on") -> dt.date:
    """R10: a review date is after today and at most REVIEW_MAX_WEEKS ahead."""
    if review_on is None:
        raise Refused(Problem("R10", field, "Enter the review date"))
    if review_on <= today:
        raise Refused(Problem("R10", field, "The review date must be in the future"))
    latest = today + dt.timedelta(weeks=REVIEW_MAX_WEEKS)
    if review_on > latest:
        raise Refused(Problem(
            "R10", field,
            f"The review date must be within {REVIEW_MAX_WEEKS} weeks, on or before "
            f"{day_words(latest)}"))
    return review_on


def needs_parents_record(role: str, *, every_child_a_witness: bool) -> bool:
    """R9 applies to every child involved; where every child is a witness, to each witness
    (as handover does, RULES.md section 6: someone must still act)."""
    return role != WITNESS_ROLE or every_child_a_witness


def needs_own_words(role: str) -> bool:
    """R7 applies to every child involved (witnesses give an account but are not required)."""
    return role != WITNESS_ROLE


@dataclass(frozen=True, slots=True)
class ChildState:
    """What closing needs to know about one child on the incident."""

    label: str
    role: str
    has_words: bool
    has_decision: bool
    has_parents_record: bool = True
    # Their file was sent to their new school: this school's copy is read-only, so nothing
    # more about them can be recorded here (their words, parents told, a decision). Not asked
    # for: the incident could never have closed (a walk).
    file_sent: bool = False
    # Who they are to the forms that put a problem right (`Fix.about`): their id, as text.
    ref: str = ""


# Where each closing problem is put right (`Fix.step`): the form a view links it to.
FIX_WORDS: Final = "words"  # the child's part in the incident (their own words)
FIX_PARENTS: Final = "parents"  # parents or carers told
FIX_DECISION: Final = "decision"  # a decision about the child
FIX_CHILDREN: Final = "children"  # the incident's children (add one, or say why not involved)
FIX_ROUTE: Final = "route"  # a route to hand over (`Fix.about`: its code)


def closing_problems(*, children: list[ChildState], unaccounted: Iterable[tuple[str, str]],
                     mandatory_not_handed_over: list[str],
                     still_owed: Mapping[str, str] | None = None,
                     reconsider_pending: Iterable[tuple[str, str]] = ()) -> list[Problem]:
    """Everything that stops an incident closing (R1, R4, R7, R8, R9, R10), in the order to fix
    them, each with where it is put right (`Fix`). `unaccounted`: the children (label, ref)
    on a concern and not on the incident. `still_owed`: for a route not handed over, what is
    owed in plain words. `reconsider_pending`: the children (label, ref) whose latest review
    found the behaviour continued or escalated, with no decision recorded since."""
    problems: list[Problem] = []
    for label, ref in reconsider_pending:
        problems.append(Problem(
            "R10", None,
            f"A review found that the behaviour towards or by {label} continued or escalated: "
            "reconsider the routes and record a new decision before closing",
            Fix(FIX_DECISION, ref)))
    if not children:
        problems.append(Problem(
            "R8", None,
            "Add every child involved before closing: children harmed, children who harmed "
            "others and witnesses", Fix(FIX_CHILDREN)))
    for label, ref in unaccounted:
        problems.append(Problem(
            "R8", None,
            f"{label} is on a concern but not on this incident: add them, or record why they "
            "were not involved", Fix(FIX_CHILDREN, ref)))
    for route in mandatory_not_handed_over:
        problems.append(Problem(
            "R4", None,
            f"You cannot close this incident until “{route_label(route)}” has been handed over"
            + (f": {mid_sentence(owed)}" if (owed := (still_owed or {}).get(route))
               else ""), Fix(FIX_ROUTE, route)))
    writable = [c for c in children if not c.file_sent]
    for child in writable:
        if needs_own_words(child.role) and not child.has_words:
            problems.append(Problem(
                "R7", None,
                f"Record {child.label}'s own words, or why they could not be recorded",
                Fix(FIX_WORDS, child.ref)))
    every_witness = bool(children) and all(c.role == WITNESS_ROLE for c in children)
    for child in writable:
        if (needs_parents_record(child.role, every_child_a_witness=every_witness)
                and not child.has_parents_record):
            problems.append(Problem(
                "R9", None,
                f"Record whether {child.label}'s parents or carers were told, or why not",
                Fix(FIX_PARENTS, child.ref)))
    for child in writable:
        if child.role != WITNESS_ROLE and not child.has_decision:
            problems.append(Problem(
                "R1", None, f"Record a decision for {child.label} before closing",
                Fix(FIX_DECISION, child.ref)))
    return problems
